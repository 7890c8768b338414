// Float32 softmax / log-softmax and layer norm, forward and backward, over the last axis of an
// (outer, n) view (semantics: src/backend/ts/kernels.ts). Rows are split across threads.
#pragma once

#include "float_common.h"

namespace engram {
namespace ENGRAM_ISA_NS {
namespace norm_detail {

using namespace vm;

constexpr int64_t kTile = 256;   // columns per task for the dgamma/dbeta column sums
constexpr int64_t kChunk = 64;   // rows per first-level partial sum

static void softmax_row(const float* x, float* y, int64_t n, bool log) {
  const float m = max_nan(x, n);
  if (m == -inf()) {
    const float fill = log ? -inf() : 0.0f;
    for (int64_t i = 0; i < n; ++i) y[i] = fill;
    return;
  }
  for (int64_t i = 0; i < n; ++i) y[i] = exp_(x[i] - m);
  const float s = psum(0, n, [=](int64_t i) { return y[i]; });
  if (log) {
    // (x - m) - log(s), not x - (m + log(s)): rounding m + log(s) to float32 loses digits for large logits
    const float ls = log_(s);
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) - ls;
  } else {
    const float inv = 1.0f / s;
    for (int64_t i = 0; i < n; ++i) y[i] *= inv;
  }
}

template <class F>
static void rows(int64_t outer, int64_t n, int64_t grain, const F& f) {
  parallel_for(outer, imax(1, grain / imax(n, 1)), [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) f(o);
  });
}

}  // namespace norm_detail

static void softmax_f32(const float* x, float* out, int64_t outer, int64_t n, bool log) {
  using namespace norm_detail;
  rows(outer, n, kGrainHeavy, [&](int64_t o) { softmax_row(x + o * n, out + o * n, n, log); });
}

static void softmax_grad_f32(const float* y, const float* dy, float* dx, int64_t outer, int64_t n, bool log) {
  using namespace norm_detail;
  rows(outer, n, log ? kGrainHeavy : kGrainCheap, [&](int64_t o) {
    const float* yr = y + o * n;
    const float* gr = dy + o * n;
    float* dr = dx + o * n;
    if (log) {
      const float s = psum(0, n, [=](int64_t i) { return gr[i]; });
      for (int64_t i = 0; i < n; ++i) dr[i] = gr[i] - exp_(yr[i]) * s;
    } else {
      const float s = psum(0, n, [=](int64_t i) { return gr[i] * yr[i]; });
      for (int64_t i = 0; i < n; ++i) dr[i] = yr[i] * (gr[i] - s);
    }
  });
}

static void layer_norm_f32(const float* x, const float* gamma, const float* beta, float* out, float* mean, float* rstd,
                           int64_t outer, int64_t n, double eps) {
  using namespace norm_detail;
  rows(outer, n, kGrainCheap, [&](int64_t o) {
    const float* xr = x + o * n;
    float* yr = out + o * n;
    const float mu = psum(0, n, [=](int64_t i) { return xr[i]; }) / float(n);
    const float var = psum(0, n, [=](int64_t i) {
                        const float d = xr[i] - mu;
                        return d * d;
                      }) /
                      float(n);
    const float r = float(1.0 / __builtin_sqrt(double(var) + eps));
    mean[o] = mu;
    rstd[o] = r;
    if (gamma && beta) {
      for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - mu) * r * gamma[i] + beta[i];
    } else if (gamma) {
      for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - mu) * r * gamma[i];
    } else if (beta) {
      for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - mu) * r + beta[i];
    } else {
      for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - mu) * r;
    }
  });
}

static void layer_norm_grad_f32(const float* x, const float* gamma, const float* mean, const float* rstd,
                                const float* dy, float* dx, float* dgamma, float* dbeta, int64_t outer, int64_t n) {
  using namespace norm_detail;
  // dx: dxhat = dy * gamma; dx = r * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
  rows(outer, n, kGrainCheap, [&](int64_t o) {
    const float* xr = x + o * n;
    const float* gr = dy + o * n;
    float* dr = dx + o * n;
    const float mu = mean[o], r = rstd[o];
    const float fn = float(n);
    float s1, s2;
    if (gamma) {
      s1 = psum(0, n, [=](int64_t i) { return gr[i] * gamma[i]; }) / fn;
      s2 = psum(0, n, [=](int64_t i) { return gr[i] * gamma[i] * ((xr[i] - mu) * r); }) / fn;
      for (int64_t i = 0; i < n; ++i) dr[i] = r * (gr[i] * gamma[i] - s1 - (xr[i] - mu) * r * s2);
    } else {
      s1 = psum(0, n, [=](int64_t i) { return gr[i]; }) / fn;
      s2 = psum(0, n, [=](int64_t i) { return gr[i] * ((xr[i] - mu) * r); }) / fn;
      for (int64_t i = 0; i < n; ++i) dr[i] = r * (gr[i] - s1 - (xr[i] - mu) * r * s2);
    }
  });
  if (!dgamma && !dbeta) return;
  // dgamma[j] = sum_o dy * xhat, dbeta[j] = sum_o dy: column sums, split across threads by columns
  const int64_t tiles = (n + kTile - 1) / kTile;
  parallel_for(tiles, imax(1, kGrainCheap / imax(1, kTile * outer)), [&](int64_t t0, int64_t t1) {
    float g1[kTile], g2[kTile], b1[kTile], b2[kTile];
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t c0 = t * kTile;
      const int64_t w = imin(kTile, n - c0);
      for (int64_t c = 0; c < w; ++c) g2[c] = b2[c] = 0.0f;
      for (int64_t o0 = 0; o0 < outer; o0 += kChunk) {
        const int64_t o1 = imin(outer, o0 + kChunk);
        for (int64_t c = 0; c < w; ++c) g1[c] = b1[c] = 0.0f;
        for (int64_t o = o0; o < o1; ++o) {
          const float* xr = x + o * n + c0;
          const float* gr = dy + o * n + c0;
          const float mu = mean[o], r = rstd[o];
          for (int64_t c = 0; c < w; ++c) {
            g1[c] += gr[c] * ((xr[c] - mu) * r);
            b1[c] += gr[c];
          }
        }
        for (int64_t c = 0; c < w; ++c) {
          g2[c] += g1[c];
          b2[c] += b1[c];
        }
      }
      if (dgamma)
        for (int64_t c = 0; c < w; ++c) dgamma[c0 + c] = g2[c];
      if (dbeta)
        for (int64_t c = 0; c < w; ++c) dbeta[c0 + c] = b2[c];
    }
  });
}

}  // namespace ENGRAM_ISA_NS
}  // namespace engram
