// Float32 additive-attention scores, forward and backward (semantics: additiveScores /
// additiveScoresGrad in src/backend/kernels.ts). Each is one pass over (batch, steps, srcLen,
// hidden) with tanh(q + k) recomputed in registers, never stored: the composite it replaces made
// four passes forward (broadcast add, tanh, GEMV) and six backward, each over a (B, T, S, H) buffer.
#pragma once

#include "float_common.h"
#include "scratch.h"

namespace engram {
namespace ENGRAM_ISA_NS {
namespace additive_detail {

using namespace vm;

// tanh evaluations per thread: a (32, 1, 30, 128) decoder step (~120k) splits in two.
constexpr int64_t kAdditiveGrain = 32768;
static inline int64_t item_grain(int64_t per_item) { return imax(1, kAdditiveGrain / imax(1, per_item)); }

// dq (when Dq), dk (+=, when Dk) and the batch row's dv partial (+=, when Dv) of one batch row b.
template <bool Dq, bool Dk, bool Dv>
static void grad_batch(const float* __restrict q, const float* __restrict k, const float* __restrict v,
                       const float* __restrict g, float* __restrict dq, float* __restrict dk, float* __restrict dvp,
                       int64_t T, int64_t S, int64_t H) {
  for (int64_t t = 0; t < T; ++t) {
    const float* __restrict qr = q + t * H;
    float* __restrict dqr = Dq ? dq + t * H : nullptr;
    if (Dq)
      for (int64_t h = 0; h < H; ++h) dqr[h] = 0.0f;
    for (int64_t s = 0; s < S; ++s) {
      const float* __restrict kr = k + s * H;
      float* __restrict dkr = Dk ? dk + s * H : nullptr;
      const float ds = g[t * S + s];
      for (int64_t h = 0; h < H; ++h) {
        const float th = tanh_(qr[h] + kr[h]);
        const float d = ds * v[h] * (1.0f - th * th);
        if (Dq) dqr[h] += d;
        if (Dk) dkr[h] += d;
        if (Dv) dvp[h] += ds * th;
      }
    }
  }
}

template <bool Dq, bool Dk, bool Dv>
static void grad_all(const float* q, const float* k, const float* v, const float* g, float* dq, float* dk, float* part,
                     int64_t B, int64_t T, int64_t S, int64_t H) {
  parallel_for(B, item_grain(T * S * H), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* dvp = Dv ? part + b * H : nullptr;
      if (Dv)
        for (int64_t h = 0; h < H; ++h) dvp[h] = 0.0f;
      grad_batch<Dq, Dk, Dv>(q + b * T * H, k + b * S * H, v, g + b * T * S, Dq ? dq + b * T * H : nullptr,
                             Dk ? dk + b * S * H : nullptr, dvp, T, S, H);
    }
  });
}

template <bool Dq, bool Dk>
static void grad_dispatch_dv(bool has_dv, const float* q, const float* k, const float* v, const float* g, float* dq,
                             float* dk, float* part, int64_t B, int64_t T, int64_t S, int64_t H) {
  if (has_dv)
    grad_all<Dq, Dk, true>(q, k, v, g, dq, dk, part, B, T, S, H);
  else
    grad_all<Dq, Dk, false>(q, k, v, g, dq, dk, nullptr, B, T, S, H);
}

}  // namespace additive_detail

static void additive_scores_f32(const float* q, const float* k, const float* v, float* out, int64_t batch,
                                int64_t steps, int64_t src, int64_t hidden) {
  using namespace additive_detail;
  const int64_t T = steps, S = src, H = hidden;
  parallel_for(batch * T, item_grain(S * H), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* __restrict qr = q + r * H;
      const float* __restrict kb = k + (r / T) * S * H;
      for (int64_t s = 0; s < S; ++s) {
        const float* __restrict kr = kb + s * H;
        out[r * S + s] = sum_block(0, H, [&](int64_t h) { return v[h] * tanh_(qr[h] + kr[h]); });
      }
    }
  });
}

// dv's per-batch-row partials are summed in row order afterwards, so the result does not depend on
// the thread count. False if that (batch, hidden) buffer could not be allocated.
static bool additive_scores_grad_f32(const float* q, const float* k, const float* v, const float* g, float* dq,
                                     float* dk, float* dv, int64_t batch, int64_t steps, int64_t src, int64_t hidden) {
  using namespace additive_detail;
  const int64_t B = batch, T = steps, S = src, H = hidden;
  float* part = nullptr;
  if (dv && B * H > 0) {
    part = thread_scratch(SCRATCH_TMP, size_t(B) * size_t(H));
    if (!part) return false;
  }
  const bool has_dv = part != nullptr;
  if (dq && dk)
    grad_dispatch_dv<true, true>(has_dv, q, k, v, g, dq, dk, part, B, T, S, H);
  else if (dq)
    grad_dispatch_dv<true, false>(has_dv, q, k, v, g, dq, dk, part, B, T, S, H);
  else if (dk)
    grad_dispatch_dv<false, true>(has_dv, q, k, v, g, dq, dk, part, B, T, S, H);
  else
    grad_dispatch_dv<false, false>(has_dv, q, k, v, g, dq, dk, part, B, T, S, H);
  if (has_dv)
    for (int64_t b = 0; b < B; ++b) {
      const float* __restrict p = part + b * H;
      for (int64_t h = 0; h < H; ++h) dv[h] += p[h];
    }
  return true;
}

}  // namespace ENGRAM_ISA_NS
}  // namespace engram
