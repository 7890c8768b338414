// matmul entry point: OpenBLAS when present and selected, else the built-in kernel of the current
// instruction set (gemm_impl.h). With OpenBLAS selected, the shapes where the built-in path measured
// faster still use it: tiny products (per-call overhead), matrix-vector products (OpenBLAS 0.3.21
// runs them through its GEMM path) and batches of small matrices (attention heads), which the
// built-in path spreads over threads one matrix per thread.
#include <atomic>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

namespace engram {
namespace {

std::atomic<bool> g_use_blas{blas_available()};

// Below this many multiply-adds per matrix the built-in kernel beats a BLAS call.
constexpr int64_t kBlasMin = 32 * 32 * 32;
// Batched matrices below this size are computed by the built-in kernel, one matrix per thread.
constexpr int64_t kBlasBatchMin = 192 * 192 * 192;

bool prefer_blas(const GemmArgs& g) {
  const int64_t work = g.m * g.n * g.k;
  if (g.m > INT32_MAX || g.n > INT32_MAX || g.k > INT32_MAX) return false;  // cblas takes int
  if (work < kBlasMin || g.m == 1 || g.n == 1) return false;
  if (g.batch > 1 && work < kBlasBatchMin) return false;
  return true;
}

}  // namespace

bool gemm_use_blas() { return g_use_blas.load(std::memory_order_relaxed); }

void set_gemm_use_blas(bool on) { g_use_blas.store(on && blas_available()); }

void matmul_f32(const GemmArgs& g) {
  if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return;
  if (g.k <= 0) {
    memset(g.c, 0, size_t(g.batch * g.m * g.n) * sizeof(float));
    return;
  }
  if (gemm_use_blas() && prefer_blas(g))
    blas_sgemm(g);
  else
    fk().gemm(g);
}

}  // namespace engram
