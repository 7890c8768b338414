#include "scratch.h"

#include <stdlib.h>
#if defined(_MSC_VER)
#include <malloc.h>
#endif

namespace engram {
namespace {

void* aligned_malloc64(size_t bytes) {
#if defined(_MSC_VER)
  return _aligned_malloc(bytes, 64);
#else
  void* p = nullptr;
  return posix_memalign(&p, 64, bytes) == 0 ? p : nullptr;
#endif
}

void aligned_free64(void* p) {
#if defined(_MSC_VER)
  _aligned_free(p);
#else
  free(p);
#endif
}

}  // namespace

Scratch::~Scratch() { aligned_free64(p); }

float* Scratch::get(size_t n) {
  if (n > cap) {
    size_t want = n + n / 4 + 64;
    void* q = aligned_malloc64(want * sizeof(float));
    if (!q) return nullptr;
    aligned_free64(p);
    p = static_cast<float*>(q);
    cap = want;
  }
  return p;
}

float* thread_scratch(int slot, size_t n) {
  thread_local Scratch slots[SCRATCH_SLOTS];
  return slots[slot].get(n);
}

}  // namespace engram
