// OpenBLAS binding (compiled with ENGRAM_HAVE_OPENBLAS when binding.gyp found it).
#include <stdio.h>
#include <ctype.h>
#include <string.h>

#include <atomic>

#include "kernels.h"

#if defined(ENGRAM_HAVE_OPENBLAS)
#include <cblas.h>
#endif

namespace engram {

#if defined(ENGRAM_HAVE_OPENBLAS)

bool blas_available() { return true; }

const char* blas_version() {
  // openblas_get_config() reads like "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64"
  static char version[32] = {0};
  if (!version[0]) {
    const char* cfg = openblas_get_config();
    const char* prefix = "OpenBLAS ";
    if (cfg && strncmp(cfg, prefix, strlen(prefix)) == 0) {
      const char* v = cfg + strlen(prefix);
      size_t len = strcspn(v, " ");
      if (len >= sizeof(version)) len = sizeof(version) - 1;
      memcpy(version, v, len);
      version[len] = 0;
    }
  }
  return version;
}

namespace {

// Products below this many multiply-adds run on one OpenBLAS thread. OpenBLAS itself splits from
// 2^18 up, but its idle threads sleep after OPENBLAS_THREAD_TIMEOUT and the caller waits for them
// to wake, which costs more than a product of a few hundred microseconds saves (measured on 2 cores:
// the 16 x 120 x 400 products of an NTM step ran slower on 2 threads); same bound as the built-in
// GEMM's wake-up bound (kWakeGrains products of 48^3).
constexpr int64_t kBlasThreadedMin = 192 * 192 * 192;

std::atomic<int> g_threads{1};
// The count last passed to openblas_set_num_threads (-1: none yet); it is only called on a change.
std::atomic<int> g_current{-1};

void use_threads(int n) {
  if (g_current.exchange(n, std::memory_order_relaxed) != n) openblas_set_num_threads(n);
}

}  // namespace

void blas_set_threads(int n) {
  g_threads.store(n, std::memory_order_relaxed);
  use_threads(n);
}

// Case-insensitive equality (OpenBLAS core names are capitalised inconsistently).
static bool same_name(const char* a, const char* b) {
  for (; *a && *b; ++a, ++b)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
  return *a == *b;
}

// OpenBLAS picks its kernels from the CPU model. On a CPU it does not recognise (some virtual
// machines report a generic model) it falls back to an SSE-era core such as Prescott and runs
// ~5x slower than the built-in AVX2 / AVX-512 kernels (measured at n = 64..1024). It is the
// default GEMM only when its core is of the AVX2 generation or the CPU has no AVX2 anyway.
bool blas_core_fits_cpu() {
  const CpuFeatures f = cpu_features();
  if (!(f.avx2 && f.fma)) return true;
  const char* core = openblas_get_corename();
  if (!core) return false;
  static const char* const kAvx2Cores[] = {"haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"};
  for (const char* name : kAvx2Cores)
    if (same_name(core, name)) return true;
  return false;
}

void blas_sgemm(const GemmArgs& g) {
  const int m = int(g.m), n = int(g.n), k = int(g.k);
  const int lda = g.ta ? m : k;
  const int ldb = g.tb ? k : n;
  // (so products below the bound give the same bits whatever the thread count; larger ones differ
  // in rounding between 1 and more threads, as they always have)
  use_threads(g.m * g.n * g.k >= kBlasThreadedMin ? g_threads.load(std::memory_order_relaxed) : 1);
  for (int64_t b = 0; b < g.batch; ++b) {
    cblas_sgemm(CblasRowMajor, g.ta ? CblasTrans : CblasNoTrans, g.tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f,
                g.a + b * g.sa, lda, g.b + b * g.sb, ldb, 0.0f, g.c + b * g.m * g.n, n);
  }
}

#else

bool blas_available() { return false; }
const char* blas_version() { return ""; }
void blas_set_threads(int) {}
bool blas_core_fits_cpu() { return false; }
void blas_sgemm(const GemmArgs& g) { fk().gemm(g); }

#endif

}  // namespace engram
