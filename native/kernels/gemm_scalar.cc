// Portable GEMM: 4 x 8 tile in plain C++ that the compiler vectorises for the baseline ISA
// (SSE2 on x86-64, NEON on arm64).
#define ENGRAM_ISA_NS isa_scalar

#include "kernels.h"

namespace engram {
namespace isa_scalar {

constexpr int MR = 4;
constexpr int NR = 8;
constexpr int64_t KC = 256;
constexpr int64_t MC = 1024;
constexpr int64_t NB = 512;

static inline void ukr(int64_t kc, const float* __restrict A, const float* __restrict B, int64_t ldb,
                       float* __restrict C, int64_t ldc, bool accumulate) {
  float c[MR][NR] = {};
  for (int64_t p = 0; p < kc; ++p) {
    for (int r = 0; r < MR; ++r) {
      const float a = A[r];
      for (int j = 0; j < NR; ++j) c[r][j] += a * B[j];
    }
    A += MR;
    B += ldb;
  }
  for (int r = 0; r < MR; ++r) {
    float* cr = C + r * ldc;
    if (accumulate)
      for (int j = 0; j < NR; ++j) cr[j] += c[r][j];
    else
      for (int j = 0; j < NR; ++j) cr[j] = c[r][j];
  }
}

}  // namespace isa_scalar
}  // namespace engram

#include "gemm_impl.h"

namespace engram {
void gemm_scalar(const GemmArgs& g) { isa_scalar::gemm(g); }
}  // namespace engram
