// OpenBLAS binding (compiled with ENGRAM_HAVE_OPENBLAS when binding.gyp found it).
#include <stdio.h>
#include <ctype.h>
#include <string.h>

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

void blas_set_threads(int n) { openblas_set_num_threads(n); }

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
