// Helpers shared by the float32 kernels of one instruction set (see vmath.h for the namespace rule).
#pragma once

#include <stdint.h>

#include "threadpool.h"
#include "vmath.h"

namespace engram {
namespace ENGRAM_ISA_NS {

using vm::imax;
using vm::imin;

// Cheap elementwise work stays on one thread below kParallelGrain elements; transcendental work
// is split earlier.
constexpr int64_t kGrainCheap = kParallelGrain;
constexpr int64_t kGrainHeavy = 4096;

// Order-preserving int32 key of a float (-0 sorts just below +0; NaN is tracked separately):
// integer max/min reductions vectorise, float ones with NaN handling do not.
static inline int32_t fkey(float x) {
  const int32_t b = int32_t(vm::bits(x));
  return b ^ ((b >> 31) & 0x7fffffff);
}
static inline float funkey(int32_t k) { return vm::from_bits(uint32_t(k ^ ((k >> 31) & 0x7fffffff))); }

// NaN-propagating max / min of x[0..n) (-inf / +inf when n == 0).
static inline float max_nan(const float* x, int64_t n) {
  int32_t m = fkey(-vm::inf());
  int32_t nan = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t k = fkey(x[i]);
    m = k > m ? k : m;
    nan |= int32_t(x[i] != x[i]);
  }
  return nan ? vm::qnan() : funkey(m);
}
static inline float min_nan(const float* x, int64_t n) {
  int32_t m = fkey(vm::inf());
  int32_t nan = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t k = fkey(x[i]);
    m = k < m ? k : m;
    nan |= int32_t(x[i] != x[i]);
  }
  return nan ? vm::qnan() : funkey(m);
}

// Sum of f(i) for i in [b, e) with 16 independent partial sums (vectorisable), combined pairwise.
template <class F>
static inline float sum_block(int64_t b, int64_t e, const F& f) {
  float acc[16] = {0};
  int64_t i = b;
  for (; i + 16 <= e; i += 16)
    for (int l = 0; l < 16; ++l) acc[l] += f(i + l);
  float tail = 0.0f;
  for (; i < e; ++i) tail += f(i);
  for (int w = 8; w >= 1; w /= 2)
    for (int l = 0; l < w; ++l) acc[l] += acc[l + w];
  return acc[0] + tail;
}

static inline int64_t pairwise_split(int64_t b, int64_t e) { return b + (((e - b) / 2 + 15) & ~int64_t(15)); }

// Pairwise (cascade) summation: error grows with log(n), not n.
template <class F>
static float psum(int64_t b, int64_t e, const F& f) {
  if (e - b <= 512) return sum_block(b, e, f);
  const int64_t h = pairwise_split(b, e);
  return psum(b, h, f) + psum(h, e, f);
}

// The same sum split over threads along the pairwise tree, so the result does not depend on the
// thread count.
template <class F>
static float psum_parallel(int64_t n, int64_t grain, const F& f) {
  if (n < 2 * grain || pool_size() < 2) return psum(0, n, f);
  constexpr int kDepth = 3;
  constexpr int kLeaves = 1 << kDepth;
  int64_t bounds[kLeaves + 1];
  bounds[0] = 0;
  bounds[kLeaves] = n;
  for (int width = kLeaves; width > 1; width /= 2)
    for (int s = 0; s < kLeaves; s += width) bounds[s + width / 2] = pairwise_split(bounds[s], bounds[s + width]);
  float part[kLeaves];
  parallel_for(kLeaves, 1, [&](int64_t l0, int64_t l1) {
    for (int64_t l = l0; l < l1; ++l) part[l] = psum(bounds[l], bounds[l + 1], f);
  });
  for (int width = 1; width < kLeaves; width *= 2)
    for (int s = 0; s < kLeaves; s += 2 * width) part[s] = part[s] + part[s + width];
  return part[0];
}

}  // namespace ENGRAM_ISA_NS
}  // namespace engram
