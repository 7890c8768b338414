// Memory-network kernels, float32 (semantics and variable names: src/backend/ts/memory.ts, the
// reference). Batch entries are independent and split across threads; sums run in doubles.
#include <cmath>
#include <vector>

#include "dtype.h"
#include "kernels.h"
#include "threadpool.h"

namespace engram {

namespace {

// Roughly the work of one batch entry, in multiply-adds, for the parallel grain.
int64_t entry_grain(int64_t work) { return work >= kParallelGrain ? 1 : (kParallelGrain + work - 1) / work; }

void softmax_in_place(double* x, int64_t n, double max) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  for (int64_t i = 0; i < n; ++i) x[i] /= sum;
}

// Rotation q reads slot (i + offsets[q]) mod n; offsets in [0, n).
std::vector<int64_t> shift_offsets(int64_t n, int64_t shifts) {
  const int64_t half = (shifts - 1) / 2;
  std::vector<int64_t> offsets(shifts);
  for (int64_t q = 0; q < shifts; ++q) offsets[q] = (((half - q) % n) + n) % n;
  return offsets;
}

struct AddressArgs {
  const float *k, *m, *beta, *gate, *s, *gamma, *prev;
  int64_t batch, heads, n, w, shifts;
};

void address_forward(const AddressArgs& x, float* out, float* saved, double cos_eps, double sharp_eps) {
  const int64_t heads = x.heads, n = x.n, w = x.w, shifts = x.shifts;
  const int64_t norms_at = x.batch * heads * (3 * n + 1);
  const std::vector<int64_t> offsets = shift_offsets(n, shifts);
  parallel_for(x.batch, entry_grain(heads * n * w * 2), [&](int64_t b0, int64_t b1) {
    std::vector<double> buf(6 * n);
    double *row_norm = buf.data(), *cos = row_norm + n, *wc = cos + n, *wg = wc + n, *wt = wg + n, *ws = wt + n;
    for (int64_t b = b0; b < b1; ++b) {
      for (int64_t i = 0; i < n; ++i) {
        const float* mi = x.m + (b * n + i) * w;
        double ss = 0;
        for (int64_t j = 0; j < w; ++j) ss += double(mi[j]) * mi[j];
        row_norm[i] = std::sqrt(ss + cos_eps);
        if (saved) saved[norms_at + b * n + i] = float(row_norm[i]);
      }
      for (int64_t h = 0; h < heads; ++h) {
        const int64_t bh = b * heads + h;
        const float* k = x.k + bh * w;
        double ks = 0;
        for (int64_t j = 0; j < w; ++j) ks += double(k[j]) * k[j];
        const double kn = std::sqrt(ks + cos_eps);
        const double bt = x.beta[bh];
        double max = -INFINITY;
        for (int64_t i = 0; i < n; ++i) {
          const float* mi = x.m + (b * n + i) * w;
          double dot = 0;
          for (int64_t j = 0; j < w; ++j) dot += double(k[j]) * mi[j];
          cos[i] = dot / (kn * row_norm[i]);
          wc[i] = bt * cos[i];
          if (wc[i] > max) max = wc[i];
        }
        softmax_in_place(wc, n, max);
        const float* prev = x.prev + bh * n;
        const double gt = x.gate[bh];
        for (int64_t i = 0; i < n; ++i) wg[i] = prev[i] + gt * (wc[i] - prev[i]);
        for (int64_t i = 0; i < n; ++i) wt[i] = 0;
        for (int64_t q = 0; q < shifts; ++q) {
          const double sq = x.s[bh * shifts + q];
          const int64_t off = offsets[q];
          for (int64_t i = 0; i < n; ++i) wt[i] += wg[i + off < n ? i + off : i + off - n] * sq;
        }
        const double gm = x.gamma[bh];
        max = -INFINITY;
        for (int64_t i = 0; i < n; ++i) {
          ws[i] = gm * std::log(wt[i] + sharp_eps);
          if (ws[i] > max) max = ws[i];
        }
        softmax_in_place(ws, n, max);
        float* o = out + bh * n;
        for (int64_t i = 0; i < n; ++i) o[i] = float(ws[i]);
        if (saved) {
          float* sv = saved + bh * (3 * n + 1);
          for (int64_t i = 0; i < n; ++i) {
            sv[i] = float(cos[i]);
            sv[n + i] = float(wc[i]);
            sv[2 * n + i] = float(wt[i]);
          }
          sv[3 * n] = float(kn);
        }
      }
    }
  });
}

struct AddressGrads {
  float *dk, *dm, *dbeta, *dgate, *ds, *dgamma, *dprev;
};

void address_backward(const AddressArgs& x, const float* out, const float* saved, const float* dout, const AddressGrads& d,
                      double sharp_eps) {
  const int64_t heads = x.heads, n = x.n, w = x.w, shifts = x.shifts;
  const int64_t norms_at = x.batch * heads * (3 * n + 1);
  const std::vector<int64_t> offsets = shift_offsets(n, shifts);
  parallel_for(x.batch, entry_grain(heads * n * w * 4), [&](int64_t b0, int64_t b1) {
    std::vector<double> buf(5 * n + n * w);
    double *dwt = buf.data(), *wg = dwt + n, *dwg = wg + n, *dcos = dwg + n, *row_self = dcos + n, *dm_row = row_self + n;
    for (int64_t b = b0; b < b1; ++b) {
      for (int64_t i = 0; i < n * w; ++i) dm_row[i] = 0;
      for (int64_t i = 0; i < n; ++i) row_self[i] = 0;
      for (int64_t h = 0; h < heads; ++h) {
        const int64_t bh = b * heads + h;
        const float* sv = saved + bh * (3 * n + 1);
        const float* o = out + bh * n;
        const float* go = dout + bh * n;
        const float* prev = x.prev + bh * n;
        const double kn = sv[3 * n];
        double dot = 0;
        for (int64_t i = 0; i < n; ++i) dot += double(go[i]) * o[i];
        const double gm = x.gamma[bh];
        double dgm = 0;
        for (int64_t i = 0; i < n; ++i) {
          const double dy = double(o[i]) * (go[i] - dot);
          const double wti = double(sv[2 * n + i]) + sharp_eps;
          dgm += dy * std::log(wti);
          dwt[i] = gm * dy / wti;
        }
        d.dgamma[bh] = float(dgm);
        const double gt = x.gate[bh];
        for (int64_t i = 0; i < n; ++i) wg[i] = prev[i] + gt * (double(sv[n + i]) - prev[i]);
        for (int64_t i = 0; i < n; ++i) dwg[i] = 0;
        for (int64_t q = 0; q < shifts; ++q) {
          const double sq = x.s[bh * shifts + q];
          const int64_t off = offsets[q];
          double dsq = 0;
          for (int64_t i = 0; i < n; ++i) {
            const int64_t src = i + off < n ? i + off : i + off - n;
            dsq += dwt[i] * wg[src];
            dwg[src] += dwt[i] * sq;
          }
          d.ds[bh * shifts + q] = float(dsq);
        }
        double dg = 0, dot2 = 0;
        for (int64_t i = 0; i < n; ++i) {
          const double wci = sv[n + i];
          dg += dwg[i] * (wci - prev[i]);
          d.dprev[bh * n + i] = float((1 - gt) * dwg[i]);
          dot2 += gt * dwg[i] * wci;
        }
        d.dgate[bh] = float(dg);
        const double bt = x.beta[bh];
        double dbt = 0, key_self = 0;
        for (int64_t i = 0; i < n; ++i) {
          const double wci = sv[n + i];
          const double dz = wci * (gt * dwg[i] - dot2);
          const double c = sv[i];
          dbt += dz * c;
          dcos[i] = bt * dz;
          key_self += dcos[i] * c;
        }
        d.dbeta[bh] = float(dbt);
        const float* k = x.k + bh * w;
        float* dk = d.dk + bh * w;
        std::vector<double> dkj(w);
        for (int64_t j = 0; j < w; ++j) dkj[j] = -key_self * k[j] / (kn * kn);
        for (int64_t i = 0; i < n; ++i) {
          const double rn = saved[norms_at + b * n + i];
          const double a = dcos[i] / (kn * rn);
          const float* mi = x.m + (b * n + i) * w;
          double* dmi = dm_row + i * w;
          for (int64_t j = 0; j < w; ++j) {
            dkj[j] += a * mi[j];
            dmi[j] += a * k[j];
          }
          row_self[i] += dcos[i] * sv[i] / (rn * rn);
        }
        for (int64_t j = 0; j < w; ++j) dk[j] = float(dkj[j]);
      }
      for (int64_t i = 0; i < n; ++i) {
        const float* mi = x.m + (b * n + i) * w;
        float* dmi = d.dm + (b * n + i) * w;
        for (int64_t j = 0; j < w; ++j) dmi[j] = float(dm_row[i * w + j] - row_self[i] * mi[j]);
      }
    }
  });
}

bool all_f32(std::initializer_list<const Array*> arrays) {
  for (const Array* a : arrays)
    if (a && a->type != F32) return false;
  return true;
}

}  // namespace

bool ntm_addressing(const Array& k, const Array& m, const Array& beta, const Array& gate, const Array& s, const Array& gamma,
                    const Array& prev, const Array& out, const Array* saved, int64_t batch, int64_t heads, int64_t slots,
                    int64_t width, int64_t shifts, double cos_eps, double sharp_eps) {
  if (!all_f32({&k, &m, &beta, &gate, &s, &gamma, &prev, &out, saved})) return false;
  AddressArgs x{ptr<float>(k), ptr<float>(m), ptr<float>(beta), ptr<float>(gate), ptr<float>(s), ptr<float>(gamma),
                ptr<float>(prev), batch, heads, slots, width, shifts};
  address_forward(x, ptr<float>(out), saved ? ptr<float>(*saved) : nullptr, cos_eps, sharp_eps);
  return true;
}

bool ntm_addressing_grad(const Array& k, const Array& m, const Array& beta, const Array& gate, const Array& s,
                         const Array& gamma, const Array& prev, const Array& out, const Array& saved, const Array& dout,
                         const Array& dk, const Array& dm, const Array& dbeta, const Array& dgate, const Array& ds,
                         const Array& dgamma, const Array& dprev, int64_t batch, int64_t heads, int64_t slots,
                         int64_t width, int64_t shifts, double sharp_eps) {
  if (!all_f32({&k, &m, &beta, &gate, &s, &gamma, &prev, &out, &saved, &dout, &dk, &dm, &dbeta, &dgate, &ds, &dgamma,
                &dprev}))
    return false;
  AddressArgs x{ptr<float>(k), ptr<float>(m), ptr<float>(beta), ptr<float>(gate), ptr<float>(s), ptr<float>(gamma),
                ptr<float>(prev), batch, heads, slots, width, shifts};
  AddressGrads d{ptr<float>(dk), ptr<float>(dm), ptr<float>(dbeta), ptr<float>(dgate),
                 ptr<float>(ds), ptr<float>(dgamma), ptr<float>(dprev)};
  address_backward(x, ptr<float>(out), ptr<float>(saved), ptr<float>(dout), d, sharp_eps);
  return true;
}

bool memory_write(const Array& m, const Array& w, const Array& e, const Array& a, const Array& out, int64_t batch,
                  int64_t heads, int64_t n, int64_t width) {
  if (!all_f32({&m, &w, &e, &a, &out})) return false;
  const float *M = ptr<float>(m), *W = ptr<float>(w), *E = ptr<float>(e), *A = ptr<float>(a);
  float* O = ptr<float>(out);
  parallel_for(batch, entry_grain(n * width * heads * 2), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      for (int64_t i = 0; i < n; ++i) {
        const int64_t mo = (b * n + i) * width;
        if (heads == 1) {
          const float wi = W[b * n + i];
          const float* eb = E + b * width;
          const float* ab = A + b * width;
          for (int64_t j = 0; j < width; ++j) O[mo + j] = M[mo + j] * (1.0f - wi * eb[j]) + wi * ab[j];
          continue;
        }
        for (int64_t j = 0; j < width; ++j) {
          double keep = 1, added = 0;
          for (int64_t h = 0; h < heads; ++h) {
            const double wi = W[(b * heads + h) * n + i];
            const int64_t v = (b * heads + h) * width + j;
            keep *= 1 - wi * E[v];
            added += wi * A[v];
          }
          O[mo + j] = float(M[mo + j] * keep + added);
        }
      }
  });
  return true;
}

bool memory_write_grad(const Array& m, const Array& w, const Array& e, const Array& a, const Array& g, const Array& dm,
                       const Array& dw, const Array& de, const Array& da, int64_t batch, int64_t heads, int64_t n,
                       int64_t width) {
  if (!all_f32({&m, &w, &e, &a, &g, &dm, &dw, &de, &da})) return false;
  const float *M = ptr<float>(m), *W = ptr<float>(w), *E = ptr<float>(e), *A = ptr<float>(a), *G = ptr<float>(g);
  float *DM = ptr<float>(dm), *DW = ptr<float>(dw), *DE = ptr<float>(de), *DA = ptr<float>(da);
  parallel_for(batch, entry_grain(n * width * heads * heads * 4), [&](int64_t b0, int64_t b1) {
    std::vector<double> acc(2 * heads * width);
    for (int64_t b = b0; b < b1; ++b) {
      double* de_b = acc.data();
      double* da_b = de_b + heads * width;
      for (int64_t v = 0; v < 2 * heads * width; ++v) acc[v] = 0;
      for (int64_t i = 0; i < n; ++i) {
        const int64_t mo = (b * n + i) * width;
        for (int64_t h = 0; h < heads; ++h) {
          const double wi = W[(b * heads + h) * n + i];
          const float* eh = E + (b * heads + h) * width;
          const float* ah = A + (b * heads + h) * width;
          double dwi = 0;
          for (int64_t j = 0; j < width; ++j) {
            // the other heads' erase factors, without dividing by this head's (it may be 0)
            double others = 1;
            for (int64_t h2 = 0; h2 < heads; ++h2)
              if (h2 != h) others *= 1 - double(W[(b * heads + h2) * n + i]) * E[(b * heads + h2) * width + j];
            const double gij = G[mo + j];
            const double erased = gij * M[mo + j] * others;
            dwi += gij * ah[j] - erased * eh[j];
            de_b[h * width + j] -= erased * wi;
            da_b[h * width + j] += gij * wi;
          }
          DW[(b * heads + h) * n + i] = float(dwi);
        }
        for (int64_t j = 0; j < width; ++j) {
          double keep = 1;
          for (int64_t h = 0; h < heads; ++h) keep *= 1 - double(W[(b * heads + h) * n + i]) * E[(b * heads + h) * width + j];
          DM[mo + j] = float(G[mo + j] * keep);
        }
      }
      for (int64_t v = 0; v < heads * width; ++v) {
        DE[b * heads * width + v] = float(de_b[v]);
        DA[b * heads * width + v] = float(da_b[v]);
      }
    }
  });
  return true;
}

}  // namespace engram
