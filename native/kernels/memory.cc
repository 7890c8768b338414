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

// ---------------------------------------------------------------- MemN2N sentence encoding

namespace {

// Words of row r up to its last non-PAD one.
int64_t row_length(const int32_t* ids, int64_t r, int64_t words) {
  int64_t J = 0;
  for (int64_t j = 0; j < words; ++j)
    if (ids[r * words + j] != 0) J = j + 1;
  return J;
}

// MemN2N's word weights l_kj = a_j + kd[k] b_j (kd[k] = k/d, k 1-based), as sentenceWeightTerms in
// src/backend/kernels.ts: encoding 0 bag of words (a = 1, b = 0), 1 the paper's formula over the
// row's own J words, 2 the reference code's over the row's full width W.
inline void position_terms(int64_t encoding, int64_t j, int64_t J, int64_t W, int64_t d, double* a, double* b) {
  if (encoding == 1) {
    *a = 1.0 - double(j) / double(J);
    *b = 2.0 * double(j) / double(J) - 1.0;
  } else if (encoding == 2) {
    const double c = double(j) - double(W + 1) / 2.0;
    *a = 1.0 - 2.0 * double(d + 1) * c / (double(d) * double(W));
    *b = 4.0 * c / double(W);
  } else {
    *a = 1.0;
    *b = 0.0;
  }
}

std::vector<double> dim_fractions(int64_t dim) {
  std::vector<double> kd(dim);
  for (int64_t k = 0; k < dim; ++k) kd[k] = double(k + 1) / double(dim);
  return kd;
}

}  // namespace

bool sentence_encode(const Array& ids, const Array& table, const Array* temporal, const Array* ages, const Array& out,
                     int64_t rows, int64_t words, int64_t dim, int64_t encoding) {
  if (ids.type != I32 || !all_f32({&table, &out}) || (temporal && temporal->type != F32) || (ages && ages->type != I32))
    return false;
  const int32_t* X = ptr<int32_t>(ids);
  const float* T = ptr<float>(table);
  const float* TT = temporal && ages ? ptr<float>(*temporal) : nullptr;
  const int32_t* AG = temporal && ages ? ptr<int32_t>(*ages) : nullptr;
  float* O = ptr<float>(out);
  std::vector<float> kd(dim);
  for (int64_t k = 0; k < dim; ++k) kd[k] = float(double(k + 1) / double(dim));
  parallel_for(rows, entry_grain(words * dim), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      // a handful of terms per row: float sums, vectorised over the embedding
      float* o = O + r * dim;
      for (int64_t k = 0; k < dim; ++k) o[k] = TT ? TT[int64_t(AG[r]) * dim + k] : 0.0f;
      const int64_t J = row_length(X, r, words);
      for (int64_t j = 1; j <= J; ++j) {
        const int64_t id = X[r * words + j - 1];
        if (id == 0) continue;
        const float* row = T + id * dim;
        double a, b;
        position_terms(encoding, j, J, words, dim, &a, &b);
        const float fa = float(a), fb = float(b);
        for (int64_t k = 0; k < dim; ++k) o[k] += (fa + kd[k] * fb) * row[k];
      }
    }
  });
  return true;
}

bool sentence_encode_grad(const Array& ids, const Array* ages, const Array& g, const Array& dtable, const Array* dtemporal,
                          int64_t rows, int64_t words, int64_t dim, int64_t encoding) {
  if (ids.type != I32 || !all_f32({&g, &dtable}) || (dtemporal && dtemporal->type != F32) || (ages && ages->type != I32))
    return false;
  const int32_t* X = ptr<int32_t>(ids);
  const float* G = ptr<float>(g);
  // a scatter: rows share table rows, so one thread, sums in doubles
  std::vector<double> dt(dtable.length, 0.0);
  std::vector<double> dtt(dtemporal && ages ? dtemporal->length : 0, 0.0);
  const int32_t* AG = dtemporal && ages ? ptr<int32_t>(*ages) : nullptr;
  const std::vector<double> kd = dim_fractions(dim);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t J = row_length(X, r, words);
    const float* gr = G + r * dim;
    for (int64_t j = 1; j <= J; ++j) {
      const int64_t id = X[r * words + j - 1];
      if (id == 0) continue;
      double* row = dt.data() + id * dim;
      double a, b;
      position_terms(encoding, j, J, words, dim, &a, &b);
      for (int64_t k = 0; k < dim; ++k) row[k] += (a + kd[k] * b) * gr[k];
    }
    if (AG)
      for (int64_t k = 0; k < dim; ++k) dtt[int64_t(AG[r]) * dim + k] += gr[k];
  }
  float* DT = ptr<float>(dtable);
  for (size_t i = 0; i < dt.size(); ++i) DT[i] = float(dt[i]);
  if (AG) {
    float* DTT = ptr<float>(*dtemporal);
    for (size_t i = 0; i < dtt.size(); ++i) DTT[i] = float(dtt[i]);
  }
  return true;
}

// ---------------------------------------------------------------- fast weights, attention form, S = 1

namespace {

struct FastWeightsDims {
  int64_t batch, steps, hidden;
  double decay, eta;
  bool relu;
  // offset of step t, row b in the saved buffer: pre (H), xhat (H), rstd, scores (T)
  int64_t saved_at(int64_t t, int64_t b) const { return (t * batch + b) * (2 * hidden + 1 + steps); }
};

// a . b with independent partial sums (the compiler vectorises them; a plain double sum stays scalar)
inline double dot_lanes(const float* a, const float* b, int64_t n) {
  constexpr int kLanes = 16;
  float acc[kLanes] = {0};
  int64_t k = 0;
  for (; k + kLanes <= n; k += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += a[k + l] * b[k + l];
  double s = 0;
  for (int l = 0; l < kLanes; ++l) s += acc[l];
  for (; k < n; ++k) s += double(a[k]) * b[k];
  return s;
}

// eta lambda^(t-1-tau) for tau < t
std::vector<double> fw_coefs(int64_t t, double decay, double eta) {
  std::vector<double> c(t);
  for (int64_t tau = 0; tau < t; ++tau) c[tau] = eta * std::pow(decay, double(t - 1 - tau));
  return c;
}

inline double fw_act(bool relu, double v) { return relu ? (v > 0 ? v : 0) : std::tanh(v); }
// derivative of the activation from its output
inline double fw_dact(bool relu, double y) { return relu ? (y > 0 ? 1 : 0) : 1 - y * y; }

}  // namespace

bool fast_weights_sequence(const Array& xp, const Array& w, const Array* gain, const Array* bias, const Array& out,
                           const Array* saved, int64_t batch, int64_t steps, int64_t hidden, double decay, double eta,
                           bool relu, double eps) {
  if (!all_f32({&xp, &w, &out}) || (gain && gain->type != F32) || (bias && bias->type != F32) ||
      (saved && saved->type != F32))
    return false;
  const FastWeightsDims d{batch, steps, hidden, decay, eta, relu};
  const int64_t H = hidden;
  const float *XP = ptr<float>(xp), *W = ptr<float>(w);
  const float* GN = gain && bias ? ptr<float>(*gain) : nullptr;
  const float* BS = gain && bias ? ptr<float>(*bias) : nullptr;
  float* O = ptr<float>(out);
  float* S = saved ? ptr<float>(*saved) : nullptr;
  std::vector<float> hprev(batch * H), rec(batch * H);
  for (int64_t t = 0; t < steps; ++t) {
    if (t > 0) {
      // rec = h_{t-1} W^T, one GEMM for the batch
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t k = 0; k < H; ++k) hprev[b * H + k] = O[(b * steps + t - 1) * H + k];
      matmul_f32(GemmArgs{hprev.data(), W, rec.data(), 1, batch, H, H, false, true, 0, 0});
    }
    const std::vector<double> coefs = fw_coefs(t, decay, eta);
    parallel_for(batch, entry_grain(H * (t + 4)), [&](int64_t b0, int64_t b1) {
      std::vector<double> pre(H), z(H);
      std::vector<float> h0(H);
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t row = (b * steps + t) * H;
        for (int64_t k = 0; k < H; ++k) {
          pre[k] = double(XP[row + k]) + (t > 0 ? double(rec[b * H + k]) : 0.0);
          z[k] = pre[k];
        }
        const int64_t at = d.saved_at(t, b);
        if (t > 0) {
          for (int64_t k = 0; k < H; ++k) h0[k] = float(fw_act(relu, pre[k]));
          for (int64_t tau = 0; tau < t; ++tau) {
            const float* past = O + (b * steps + tau) * H;
            const double score = dot_lanes(past, h0.data(), H);
            if (S) S[at + 2 * H + 1 + tau] = float(score);
            const double c = coefs[tau] * score;
            for (int64_t k = 0; k < H; ++k) z[k] += c * past[k];
          }
        }
        double rstd = 1;
        if (GN) {
          double mean = 0;
          for (int64_t k = 0; k < H; ++k) mean += z[k];
          mean /= double(H);
          double v = 0;
          for (int64_t k = 0; k < H; ++k) v += (z[k] - mean) * (z[k] - mean);
          rstd = 1 / std::sqrt(v / double(H) + eps);
          for (int64_t k = 0; k < H; ++k) z[k] = (z[k] - mean) * rstd;
        }
        for (int64_t k = 0; k < H; ++k) O[row + k] = float(fw_act(relu, GN ? z[k] * GN[k] + BS[k] : z[k]));
        if (S) {
          for (int64_t k = 0; k < H; ++k) {
            S[at + k] = float(pre[k]);
            S[at + H + k] = float(z[k]);
          }
          S[at + 2 * H] = float(rstd);
        }
      }
    });
  }
  return true;
}

bool fast_weights_sequence_grad(const Array& w, const Array* gain, const Array& out, const Array& saved, const Array& g,
                                const Array& dxp, const Array& dw, const Array* dgain, const Array* dbias, int64_t batch,
                                int64_t steps, int64_t hidden, double decay, double eta, bool relu) {
  if (!all_f32({&w, &out, &saved, &g, &dxp, &dw}) || (gain && gain->type != F32) || (dgain && dgain->type != F32) ||
      (dbias && dbias->type != F32))
    return false;
  const FastWeightsDims d{batch, steps, hidden, decay, eta, relu};
  const int64_t H = hidden;
  const float *W = ptr<float>(w), *O = ptr<float>(out), *S = ptr<float>(saved), *G = ptr<float>(g);
  const float* GN = gain ? ptr<float>(*gain) : nullptr;
  float* DXP = ptr<float>(dxp);
  // gradient reaching each h_t (B, T, H), complete before step t is visited
  std::vector<double> dH(batch * steps * H);
  for (size_t i = 0; i < dH.size(); ++i) dH[i] = G[i];
  std::vector<double> dW(H * H, 0.0), dG(H, 0.0), dB(H, 0.0);
  // per row: dy o xhat and dy (layer-norm parameter gradients, summed after each step)
  std::vector<double> rowG(GN ? batch * H : 0), rowB(GN ? batch * H : 0);
  std::vector<float> dpre(batch * H), hprev(batch * H), tmpHH(H * H), tmpBH(batch * H);
  for (int64_t t = steps - 1; t >= 0; --t) {
    const std::vector<double> coefs = fw_coefs(t, decay, eta);
    parallel_for(batch, entry_grain(H * (t + 4)), [&](int64_t b0, int64_t b1) {
      std::vector<double> dz(H), h0(H), dh0(H);
      std::vector<float> dzf(H);
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t row = (b * steps + t) * H;
        const int64_t at = d.saved_at(t, b);
        for (int64_t k = 0; k < H; ++k) dz[k] = dH[row + k] * fw_dact(relu, O[row + k]);
        if (GN) {
          double m1 = 0, m2 = 0;
          for (int64_t k = 0; k < H; ++k) {
            const double xhat = S[at + H + k];
            rowG[b * H + k] = dz[k] * xhat;
            rowB[b * H + k] = dz[k];
            dz[k] *= GN[k];
            m1 += dz[k];
            m2 += dz[k] * xhat;
          }
          m1 /= double(H);
          m2 /= double(H);
          const double rstd = S[at + 2 * H];
          for (int64_t k = 0; k < H; ++k) dz[k] = rstd * (dz[k] - m1 - S[at + H + k] * m2);
        }
        if (t > 0) {
          for (int64_t k = 0; k < H; ++k) {
            h0[k] = fw_act(relu, S[at + k]);
            dh0[k] = 0;
            dzf[k] = float(dz[k]);
          }
          for (int64_t tau = 0; tau < t; ++tau) {
            const float* past = O + (b * steps + tau) * H;
            double* dpast = dH.data() + (b * steps + tau) * H;
            const double c = coefs[tau];
            const double score = S[at + 2 * H + 1 + tau];
            const double dscore = c * dot_lanes(past, dzf.data(), H);
            for (int64_t k = 0; k < H; ++k) {
              dpast[k] += c * score * dz[k] + dscore * h0[k];
              dh0[k] += dscore * past[k];
            }
          }
          for (int64_t k = 0; k < H; ++k) dz[k] += dh0[k] * fw_dact(relu, h0[k]);
        }
        for (int64_t k = 0; k < H; ++k) {
          DXP[row + k] = float(dz[k]);
          dpre[b * H + k] = float(dz[k]);
        }
      }
    });
    if (GN)
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t k = 0; k < H; ++k) {
          dG[k] += rowG[b * H + k];
          dB[k] += rowB[b * H + k];
        }
    if (t == 0) break;
    // pre = xp + h_{t-1} W^T: dW += dpre^T h_{t-1}, dh_{t-1} += dpre W
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t k = 0; k < H; ++k) hprev[b * H + k] = O[(b * steps + t - 1) * H + k];
    matmul_f32(GemmArgs{dpre.data(), hprev.data(), tmpHH.data(), 1, H, H, batch, true, false, 0, 0});
    matmul_f32(GemmArgs{dpre.data(), W, tmpBH.data(), 1, batch, H, H, false, false, 0, 0});
    for (int64_t i = 0; i < H * H; ++i) dW[i] += tmpHH[i];
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t k = 0; k < H; ++k) dH[(b * steps + t - 1) * H + k] += tmpBH[b * H + k];
  }
  float* DW = ptr<float>(dw);
  for (int64_t i = 0; i < H * H; ++i) DW[i] = float(dW[i]);
  if (dgain)
    for (int64_t k = 0; k < H; ++k) ptr<float>(*dgain)[k] = float(dG[k]);
  if (dbias)
    for (int64_t k = 0; k < H; ++k) ptr<float>(*dbias)[k] = float(dB[k]);
  return true;
}

}  // namespace engram
