// GEMM for AVX2 + FMA: 6 x 16 register tile (12 ymm accumulators). Compiled with -mavx2 -mfma;
// only called after a run-time CPU check.
#if defined(__x86_64__) || defined(_M_X64)
#define ENGRAM_ISA_NS isa_avx2
#include <immintrin.h>

#include "kernels.h"

namespace engram {
namespace isa_avx2 {

constexpr int MR = 6;
constexpr int NR = 16;
constexpr int64_t KC = 256;
constexpr int64_t MC = 1536;
constexpr int64_t NB = 512;

static inline void ukr(int64_t kc, const float* __restrict A, const float* __restrict B, int64_t ldb,
                       float* __restrict C, int64_t ldc, bool accumulate) {
  __m256 c[MR][2];
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) c[r][0] = c[r][1] = _mm256_setzero_ps();
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_loadu_ps(B);
    const __m256 b1 = _mm256_loadu_ps(B + 8);
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      const __m256 a = _mm256_broadcast_ss(A + r);
      c[r][0] = _mm256_fmadd_ps(a, b0, c[r][0]);
      c[r][1] = _mm256_fmadd_ps(a, b1, c[r][1]);
    }
    A += MR;
    B += ldb;
  }
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    float* cr = C + r * ldc;
    if (accumulate) {
      c[r][0] = _mm256_add_ps(c[r][0], _mm256_loadu_ps(cr));
      c[r][1] = _mm256_add_ps(c[r][1], _mm256_loadu_ps(cr + 8));
    }
    _mm256_storeu_ps(cr, c[r][0]);
    _mm256_storeu_ps(cr + 8, c[r][1]);
  }
}

}  // namespace isa_avx2
}  // namespace engram

#include "gemm_impl.h"

namespace engram {
void gemm_avx2(const GemmArgs& g) { isa_avx2::gemm(g); }
}  // namespace engram
#endif
