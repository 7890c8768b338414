// OpenBLAS binding (compiled with ENGRAM_HAVE_OPENBLAS when binding.gyp found it).
#include <stdio.h>
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
void blas_sgemm(const GemmArgs& g) { fk().gemm(g); }

#endif

}  // namespace engram
