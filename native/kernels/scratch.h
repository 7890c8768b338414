// Per-thread scratch buffers: grown on first use (or when a larger problem arrives), then reused,
// so kernels do not allocate on the hot path. Defined out of line in scratch.cc (portable code) so
// translation units compiled for AVX2/AVX-512 share no inline symbols with the rest.
#pragma once

#include <stddef.h>

namespace engram {

struct Scratch {
  float* p = nullptr;
  size_t cap = 0;
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch();
  // At least n floats, 64-byte aligned; nullptr only if the allocation fails.
  float* get(size_t n);
};

// Thread-local buffers, one per role.
enum ScratchSlot { SCRATCH_GEMM_A, SCRATCH_GEMM_B, SCRATCH_GEMM_EDGE, SCRATCH_TMP, SCRATCH_ATTN, SCRATCH_SLOTS };
float* thread_scratch(int slot, size_t n);

}  // namespace engram
