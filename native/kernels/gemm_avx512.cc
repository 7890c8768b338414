// GEMM for AVX-512F: 12 x 32 register tile (24 zmm accumulators). Compiled with -mavx512f -mfma;
// only called after a run-time CPU check.
#if defined(__x86_64__) || defined(_M_X64)
#define ENGRAM_ISA_NS isa_avx512
#include <immintrin.h>

#include "kernels.h"

namespace engram {
namespace isa_avx512 {

constexpr int MR = 12;
constexpr int NR = 32;
constexpr int64_t KC = 384;
constexpr int64_t MC = 1536;
constexpr int64_t NB = 480;

static inline void ukr(int64_t kc, const float* __restrict A, const float* __restrict B, int64_t ldb,
                       float* __restrict C, int64_t ldc, bool accumulate) {
  __m512 c[MR][2];
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) c[r][0] = c[r][1] = _mm512_setzero_ps();
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_loadu_ps(B);
    const __m512 b1 = _mm512_loadu_ps(B + 16);
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) {
      const __m512 a = _mm512_set1_ps(A[r]);
      c[r][0] = _mm512_fmadd_ps(a, b0, c[r][0]);
      c[r][1] = _mm512_fmadd_ps(a, b1, c[r][1]);
    }
    A += MR;
    B += ldb;
  }
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) {
    float* cr = C + r * ldc;
    if (accumulate) {
      c[r][0] = _mm512_add_ps(c[r][0], _mm512_loadu_ps(cr));
      c[r][1] = _mm512_add_ps(c[r][1], _mm512_loadu_ps(cr + 16));
    }
    _mm512_storeu_ps(cr, c[r][0]);
    _mm512_storeu_ps(cr + 16, c[r][1]);
  }
}

}  // namespace isa_avx512
}  // namespace engram

#include "gemm_impl.h"

namespace engram {
void gemm_avx512(const GemmArgs& g) { isa_avx512::gemm(g); }
}  // namespace engram
#endif
