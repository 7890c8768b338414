// The built-in GEMM driver, compiled once per instruction set. The including translation unit
// defines, inside namespace engram::ENGRAM_ISA_NS:
//   constexpr int MR, NR;            register tile (rows of A x columns of B)
//   constexpr int64_t KC, MC, NB;    depth of a packed panel, rows of the packed A block, columns of
//                                    the packed B block
//   void ukr(kc, A, B, ldb, C, ldc, accumulate)
//     C[MR x NR] (+)= Apacked[kc x MR] * B[kc x NR], B rows ldb floats apart (NR when packed).
//
// Blocking (row-major C = A B):
//   for pc over K by KC:                                  panel depth
//     for ic over M by MC:                                A block (packed, shared by all threads)
//       threads split N into blocks of <= NB columns      B block (packed per thread, stays in L2)
//         for each MR-row micro-panel of the A block      (stays in L1 while...)
//           for each NR-column micro-panel of B block     ...the micro-kernel sweeps the B block
// Tiny problems, matrix-vector shapes and A B^T with few rows of A skip packing (gemm_direct, gemv,
// gemm_dots); batches of small matrices run one matrix per thread.
#pragma once

#include <stdint.h>
#include <string.h>

#include "kernels.h"
#include "scratch.h"
#include "threadpool.h"

namespace engram {
namespace ENGRAM_ISA_NS {
namespace gemm_detail {

static inline int64_t min_(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max_(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Problems with m*n*k at or below this run unpacked on one thread (measured: the packed path wins
// from about 8 x 8 x 8 up).
constexpr int64_t kDirectMax = 8 * 8 * 8;
// Below this much work per matrix a batch is split across threads instead of each matrix.
constexpr int64_t kBatchParallelMax = 192 * 192 * 192;
// Minimum multiply-adds per thread before a single product is split.
constexpr int64_t kMinWorkPerThread = 48 * 48 * 48;

// Dot product with 16 independent partial sums (vectorisable without reassociation flags).
static inline float dot(const float* x, const float* y, int64_t k) {
  float acc[16] = {0};
  int64_t p = 0;
  for (; p + 16 <= k; p += 16)
    for (int l = 0; l < 16; ++l) acc[l] += x[p + l] * y[p + l];
  float s = 0.0f;
  for (; p < k; ++p) s += x[p] * y[p];
  float t = 0.0f;
  for (int l = 0; l < 16; ++l) t += acc[l];
  return t + s;
}

// out[j] = sum_p v[p] * M[p * ldm + j] for j in [j0, j1).
static void gemv_axpy(const float* v, const float* M, int64_t ldm, int64_t k, float* out, int64_t j0, int64_t j1) {
  constexpr int64_t kTile = 1024;
  for (int64_t jt = j0; jt < j1; jt += kTile) {
    const int64_t je = min_(jt + kTile, j1);
    float* o = out + jt;
    const int64_t w = je - jt;
    for (int64_t j = 0; j < w; ++j) o[j] = 0.0f;
    int64_t p = 0;
    for (; p + 4 <= k; p += 4) {
      const float a0 = v[p], a1 = v[p + 1], a2 = v[p + 2], a3 = v[p + 3];
      const float* m0 = M + p * ldm + jt;
      const float* m1 = m0 + ldm;
      const float* m2 = m1 + ldm;
      const float* m3 = m2 + ldm;
      for (int64_t j = 0; j < w; ++j) o[j] += a0 * m0[j] + a1 * m1[j] + a2 * m2[j] + a3 * m3[j];
    }
    for (; p < k; ++p) {
      const float a0 = v[p];
      const float* m0 = M + p * ldm + jt;
      for (int64_t j = 0; j < w; ++j) o[j] += a0 * m0[j];
    }
  }
}

// out[j] = dot(v, M[j * ldm ...]) for j in [j0, j1).
static void gemv_dot(const float* v, const float* M, int64_t ldm, int64_t k, float* out, int64_t j0, int64_t j1) {
  for (int64_t j = j0; j < j1; ++j) out[j] = dot(v, M + j * ldm, k);
}

// One matrix-vector product (m == 1 or n == 1), split across threads when large.
static void gemv(const float* A, const float* B, float* C, int64_t m, int64_t n, int64_t k, bool ta, bool tb,
                 int threads) {
  // m == 1: A is a k-vector in either layout; n == 1: B is.
  const float* v;
  const float* M;
  int64_t ldm, len;
  bool axpy;
  if (m == 1) {
    v = A;
    M = B;
    len = n;
    axpy = !tb;
    ldm = tb ? k : n;
  } else {
    v = B;
    M = A;
    len = m;
    axpy = ta;
    ldm = ta ? m : k;
  }
  auto body = [&](int64_t j0, int64_t j1) {
    if (axpy)
      gemv_axpy(v, M, ldm, k, C, j0, j1);
    else
      gemv_dot(v, M, ldm, k, C, j0, j1);
  };
  if (threads > 1 && len * k >= 2 * kMinWorkPerThread) {
    const int64_t grain = max_(16, kMinWorkPerThread / max_(k, 1));
    parallel_for(len, grain, body);
  } else {
    body(0, len);
  }
}

static inline void axpy(float* __restrict c, const float* __restrict b, float a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) c[j] += a * b[j];
}

// Unpacked loops for tiny products (a transposed B is first transposed into scratch, so the inner
// loop always runs along a contiguous row of C).
static void gemm_direct(const float* A, const float* B, float* C, int64_t m, int64_t n, int64_t k, bool ta, bool tb) {
  const int64_t lda = ta ? m : k;
  int64_t ldb = tb ? k : n;
  if (tb) {
    float* Bt = thread_scratch(SCRATCH_TMP, size_t(k) * size_t(n));
    if (Bt) {
      for (int64_t j = 0; j < n; ++j)
        for (int64_t p = 0; p < k; ++p) Bt[p * n + j] = B[j * ldb + p];
      B = Bt;
      tb = false;
      ldb = n;
    }
  }
  if (!tb) {
    for (int64_t i = 0; i < m; ++i) {
      float* c = C + i * n;
      for (int64_t j = 0; j < n; ++j) c[j] = 0.0f;
      for (int64_t p = 0; p < k; ++p) axpy(c, B + p * ldb, ta ? A[p * lda + i] : A[i * lda + p], n);
    }
  } else if (!ta) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) C[i * n + j] = dot(A + i * lda, B + j * ldb, k);
  } else {
    for (int64_t i = 0; i < m; ++i) {
      float* c = C + i * n;
      for (int64_t j = 0; j < n; ++j) c[j] = 0.0f;
      for (int64_t p = 0; p < k; ++p) {
        const float a = A[p * lda + i];
        for (int64_t j = 0; j < n; ++j) c[j] += a * B[j * ldb + p];
      }
    }
  }
}

// C = A B^T for few rows of A (m <= kDotsMaxM): B (n x k) is streamed once in blocks that stay in
// cache while every row of A is dotted with them, instead of being packed on every call (the
// x @ W^T of a linear layer on a small batch). A is m x k row-major (lda = k).
constexpr int64_t kDotsMaxM = 16;

static void dots_block(const float* A, const float* B, float* C, int64_t m, int64_t n, int64_t k, int64_t j0,
                       int64_t j1) {
  constexpr int64_t kJBlock = 16;  // rows of B per block (16 x k floats)
  for (int64_t jb = j0; jb < j1; jb += kJBlock) {
    const int64_t je = min_(j1, jb + kJBlock);
    int64_t i = 0;
    for (; i + 4 <= m; i += 4) {
      const float* a0 = A + i * k;
      const float* a1 = a0 + k;
      const float* a2 = a1 + k;
      const float* a3 = a2 + k;
      for (int64_t j = jb; j < je; ++j) {
        const float* b = B + j * k;
        float s0[16] = {0}, s1[16] = {0}, s2[16] = {0}, s3[16] = {0};
        int64_t p = 0;
        for (; p + 16 <= k; p += 16) {
          for (int l = 0; l < 16; ++l) {
            const float bv = b[p + l];
            s0[l] += a0[p + l] * bv;
            s1[l] += a1[p + l] * bv;
            s2[l] += a2[p + l] * bv;
            s3[l] += a3[p + l] * bv;
          }
        }
        float t0 = 0, t1 = 0, t2 = 0, t3 = 0;
        for (; p < k; ++p) {
          t0 += a0[p] * b[p];
          t1 += a1[p] * b[p];
          t2 += a2[p] * b[p];
          t3 += a3[p] * b[p];
        }
        for (int l = 0; l < 16; ++l) {
          t0 += s0[l];
          t1 += s1[l];
          t2 += s2[l];
          t3 += s3[l];
        }
        C[i * n + j] = t0;
        C[(i + 1) * n + j] = t1;
        C[(i + 2) * n + j] = t2;
        C[(i + 3) * n + j] = t3;
      }
    }
    for (; i < m; ++i)
      for (int64_t j = jb; j < je; ++j) C[i * n + j] = dot(A + i * k, B + j * k, k);
  }
}

static void gemm_dots(const float* A, const float* B, float* C, int64_t m, int64_t n, int64_t k, bool ta,
                      int threads) {
  if (ta) {
    // A is stored k x m: transpose the few rows into scratch first
    float* At = thread_scratch(SCRATCH_TMP, size_t(m) * size_t(k));
    if (!At) {
      gemm_direct(A, B, C, m, n, k, true, true);
      return;
    }
    for (int64_t p = 0; p < k; ++p)
      for (int64_t i = 0; i < m; ++i) At[i * k + p] = A[p * m + i];
    A = At;
  }
  if (threads > 1 && m * n * k >= 2 * kMinWorkPerThread) {
    parallel_for(n, max_(16, kMinWorkPerThread / max_(1, m * k)),
                 [&](int64_t j0, int64_t j1) { dots_block(A, B, C, m, n, k, j0, j1); });
  } else {
    dots_block(A, B, C, m, n, k, 0, n);
  }
}

// Packs rows [i0, i0 + mr) x columns [p0, p0 + kc) of op(A) as one MR-row micro-panel:
// dst[p * MR + r], rows past mr zero.
static void pack_a(const float* A, int64_t lda, bool ta, int64_t i0, int64_t mr, int64_t p0, int64_t kc, float* dst) {
  if (!ta) {
    if (mr == MR) {
      const float* src = A + i0 * lda + p0;
      for (int64_t p = 0; p < kc; ++p)
        for (int r = 0; r < MR; ++r) dst[p * MR + r] = src[r * lda + p];
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        for (int64_t r = 0; r < mr; ++r) dst[p * MR + r] = A[(i0 + r) * lda + p0 + p];
        for (int64_t r = mr; r < MR; ++r) dst[p * MR + r] = 0.0f;
      }
    }
  } else {
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = A + (p0 + p) * lda + i0;
      float* d = dst + p * MR;
      if (mr == MR) {
        for (int r = 0; r < MR; ++r) d[r] = src[r];
      } else {
        for (int64_t r = 0; r < mr; ++r) d[r] = src[r];
        for (int64_t r = mr; r < MR; ++r) d[r] = 0.0f;
      }
    }
  }
}

// Packs rows [p0, p0 + kc) x columns [j0, j0 + nr) of op(B) as one NR-column micro-panel:
// dst[p * NR + j], columns past nr zero.
static void pack_b(const float* B, int64_t ldb, bool tb, int64_t p0, int64_t kc, int64_t j0, int64_t nr, float* dst) {
  if (!tb) {
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = B + (p0 + p) * ldb + j0;
      float* d = dst + p * NR;
      if (nr == NR) {
        for (int j = 0; j < NR; ++j) d[j] = src[j];
      } else {
        for (int64_t j = 0; j < nr; ++j) d[j] = src[j];
        for (int64_t j = nr; j < NR; ++j) d[j] = 0.0f;
      }
    }
  } else {
    for (int64_t j = 0; j < nr; ++j) {
      const float* src = B + (j0 + j) * ldb + p0;
      for (int64_t p = 0; p < kc; ++p) dst[p * NR + j] = src[p];
    }
    for (int64_t j = nr; j < NR; ++j)
      for (int64_t p = 0; p < kc; ++p) dst[p * NR + j] = 0.0f;
  }
}

struct Block {
  const float* A;
  const float* B;
  float* C;
  int64_t m, n, k, lda, ldb;
  bool ta, tb;
  int64_t pc, kc, ic, mc, nmp;
  bool accumulate;
  float* Ap;  // packed A block: nmp micro-panels of MR x kc
};

// How a thread team splits the columns (and, when there are few columns, the rows) of a block.
struct Split {
  int64_t nblocks, width, msplit;
};

static Split split_for(int64_t n, int64_t nmp, int nt) {
  Split s;
  s.msplit = 1;
  s.nblocks = ceil_div(n, NB);
  if (nt > 1) {
    if (n >= int64_t(nt) * NR * 2) {
      s.nblocks = ceil_div(s.nblocks, nt) * nt;
    } else {
      s.msplit = min_(nt, nmp);
    }
  }
  s.width = ceil_div(ceil_div(n, s.nblocks), NR) * NR;
  s.nblocks = ceil_div(n, s.width);
  return s;
}

static void pack_a_panels(const Block& b, int64_t mp0, int64_t mp1) {
  for (int64_t mp = mp0; mp < mp1; ++mp) {
    const int64_t i = mp * MR;
    pack_a(b.A, b.lda, b.ta, b.ic + i, min_(MR, b.mc - i), b.pc, b.kc, b.Ap + mp * MR * b.kc);
  }
}

static void store_edge(const float* tmp, float* c, int64_t ldc, int64_t mr, int64_t nr, bool accumulate) {
  for (int64_t r = 0; r < mr; ++r) {
    float* cr = c + r * ldc;
    const float* tr = tmp + r * NR;
    if (accumulate)
      for (int64_t j = 0; j < nr; ++j) cr[j] += tr[j];
    else
      for (int64_t j = 0; j < nr; ++j) cr[j] = tr[j];
  }
}

// Computes the tile rows [mp0, mp1) (in micro-panels) x columns [j0, j0 + jn) of the block.
static bool compute_tasks(const Block& b, int tid, int nt) {
  const Split s = split_for(b.n, b.nmp, nt);
  const int64_t ntasks = s.nblocks * s.msplit;
  const int64_t t0 = ntasks * tid / nt, t1 = ntasks * (tid + 1) / nt;
  float* Bp = thread_scratch(SCRATCH_GEMM_B, size_t(b.kc) * size_t(s.width));
  float* edge = thread_scratch(SCRATCH_GEMM_EDGE, size_t(b.kc) * NR + size_t(MR) * NR);
  if (!Bp || !edge) return false;
  float* tmp = edge + b.kc * NR;
  int64_t packed = -1;
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t nb = t / s.msplit, ms = t % s.msplit;
    const int64_t j0 = nb * s.width;
    const int64_t jn = min_(s.width, b.n - j0);
    const int64_t mp0 = b.nmp * ms / s.msplit, mp1 = b.nmp * (ms + 1) / s.msplit;
    if (jn <= 0 || mp0 >= mp1) continue;
    const int64_t npanels = ceil_div(jn, NR);
    // Packing B pays off when several A micro-panels reuse it; otherwise the micro-kernel reads
    // B in place (only possible for untransposed B), packing just a ragged last panel.
    const bool packB = b.tb || mp1 - mp0 > 2;
    if (packB && packed != nb) {
      for (int64_t jp = 0; jp < npanels; ++jp)
        pack_b(b.B, b.ldb, b.tb, b.pc, b.kc, j0 + jp * NR, min_(NR, jn - jp * NR), Bp + jp * NR * b.kc);
      packed = nb;
    }
    const bool ragged = jn % NR != 0;
    if (!packB && ragged) {
      const int64_t jl = (npanels - 1) * NR;
      pack_b(b.B, b.ldb, false, b.pc, b.kc, j0 + jl, jn - jl, edge);
    }
    for (int64_t mp = mp0; mp < mp1; ++mp) {
      const int64_t i = mp * MR;
      const int64_t mr = min_(MR, b.mc - i);
      const float* ap = b.Ap + mp * MR * b.kc;
      float* crow = b.C + (b.ic + i) * b.n + j0;
      for (int64_t jp = 0; jp < npanels; ++jp) {
        const int64_t jj = jp * NR;
        const int64_t nr = min_(NR, jn - jj);
        const float* bp;
        int64_t ldbp;
        if (packB) {
          bp = Bp + jp * NR * b.kc;
          ldbp = NR;
        } else if (nr == NR) {
          bp = b.B + b.pc * b.ldb + j0 + jj;
          ldbp = b.ldb;
        } else {
          bp = edge;
          ldbp = NR;
        }
        if (mr == MR && nr == NR) {
          ukr(b.kc, ap, bp, ldbp, crow + jj, b.n, b.accumulate);
        } else {
          ukr(b.kc, ap, bp, ldbp, tmp, NR, false);
          store_edge(tmp, crow + jj, b.n, mr, nr, b.accumulate);
        }
      }
    }
  }
  return true;
}

// One packed product on up to `threads` threads. Returns false if scratch memory ran out.
static bool gemm_packed(const float* A, const float* B, float* C, int64_t m, int64_t n, int64_t k, bool ta, bool tb,
                        int threads) {
  Block b;
  b.A = A;
  b.B = B;
  b.C = C;
  b.m = m;
  b.n = n;
  b.k = k;
  b.ta = ta;
  b.tb = tb;
  b.lda = ta ? m : k;
  b.ldb = tb ? k : n;
  const int64_t kcmax = min_(KC, k);
  const int64_t mcmax = min_(MC, ceil_div(m, MR) * MR);
  b.Ap = thread_scratch(SCRATCH_GEMM_A, size_t(kcmax) * size_t(mcmax));
  if (!b.Ap) return false;
  const int64_t work = m * n * k;
  int team = int(min_(threads, max_(1, work / kMinWorkPerThread)));
  bool ok = true;
  for (int64_t pc = 0; pc < k; pc += KC) {
    b.pc = pc;
    b.kc = min_(KC, k - pc);
    b.accumulate = pc > 0;
    for (int64_t ic = 0; ic < m; ic += MC) {
      b.ic = ic;
      b.mc = min_(MC, m - ic);
      b.nmp = ceil_div(b.mc, MR);
      // the packing job counts the block's product too: a worker woken for it is in time for the product
      const int64_t grains = b.mc * n * b.kc / kMinWorkPerThread;
      if (team > 1 && b.nmp >= 4) {
        parallel_run(team, grains, [&](int tid, int nt) { pack_a_panels(b, b.nmp * tid / nt, b.nmp * (tid + 1) / nt); });
      } else {
        pack_a_panels(b, 0, b.nmp);
      }
      if (team > 1) {
        bool fail = false;
        parallel_run(team, grains, [&](int tid, int nt) {
          if (!compute_tasks(b, tid, nt)) fail = true;
        });
        if (fail) ok = false;
      } else if (!compute_tasks(b, 0, 1)) {
        ok = false;
      }
      if (!ok) return false;
    }
  }
  return true;
}

static void gemm_matrix(const float* A, const float* B, float* C, int64_t m, int64_t n, int64_t k, bool ta, bool tb,
                        int threads) {
  if (m == 1 || n == 1) {
    gemv(A, B, C, m, n, k, ta, tb, threads);
  } else if (tb && m <= kDotsMaxM && k >= 64 && m * n * k > kDirectMax) {
    gemm_dots(A, B, C, m, n, k, ta, threads);
  } else if (m * n * k <= kDirectMax || !gemm_packed(A, B, C, m, n, k, ta, tb, threads)) {
    gemm_direct(A, B, C, m, n, k, ta, tb);
  }
}

}  // namespace gemm_detail

static void gemm(const GemmArgs& g) {
  using namespace gemm_detail;
  const int64_t m = g.m, n = g.n, k = g.k, batch = g.batch;
  if (m <= 0 || n <= 0 || batch <= 0) return;
  if (k <= 0) {
    memset(g.c, 0, size_t(batch * m * n) * sizeof(float));
    return;
  }
  const int threads = pool_size();
  const int64_t work = m * n * k;
  if (batch > 1 && threads > 1 && work < kBatchParallelMax && batch * work >= 2 * kMinWorkPerThread) {
    parallel_for(batch, max_(1, kMinWorkPerThread / work), [&](int64_t b0, int64_t b1) {
      for (int64_t bi = b0; bi < b1; ++bi)
        gemm_matrix(g.a + bi * g.sa, g.b + bi * g.sb, g.c + bi * m * n, m, n, k, g.ta, g.tb, 1);
    });
    return;
  }
  for (int64_t bi = 0; bi < batch; ++bi)
    gemm_matrix(g.a + bi * g.sa, g.b + bi * g.sb, g.c + bi * m * n, m, n, k, g.ta, g.tb, threads);
}

}  // namespace ENGRAM_ISA_NS
}  // namespace engram
