// Float32 LSTM and GRU cells, forward and backward (semantics: lstmCell / lstmCellGrad and
// gruCell / gruCellGrad in src/backend/ts/kernels.ts). Rows are split across threads; the loops over one row are branch-free
// (the optional operands are template flags) so they vectorise.
#pragma once

#include "float_common.h"

namespace engram {
namespace ENGRAM_ISA_NS {
namespace rnn_detail {

using namespace vm;

template <bool Save>
static void lstm_row(const float* __restrict gates, const float* __restrict c, float* __restrict h,
                     float* __restrict c_out, float* __restrict saved, int64_t H) {
  const float* __restrict gi = gates;
  const float* __restrict gf = gates + H;
  const float* __restrict gg = gates + 2 * H;
  const float* __restrict go = gates + 3 * H;
  for (int64_t j = 0; j < H; ++j) {
    const float i = sigmoid_(gi[j]);
    const float f = sigmoid_(gf[j]);
    const float g = tanh_(gg[j]);
    const float o = sigmoid_(go[j]);
    const float cn = f * c[j] + i * g;
    const float t = tanh_(cn);
    c_out[j] = cn;
    h[j] = o * t;
    if (Save) {
      saved[j] = i;
      saved[H + j] = f;
      saved[2 * H + j] = g;
      saved[3 * H + j] = o;
      saved[4 * H + j] = t;
    }
  }
}

template <bool HasDh, bool HasDcOut, bool HasDc>
static void lstm_grad_row(const float* __restrict s, const float* __restrict c, const float* __restrict dh,
                          const float* __restrict dc_out, float* __restrict dg, float* __restrict dc, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const float i = s[j], f = s[H + j], g = s[2 * H + j], o = s[3 * H + j], t = s[4 * H + j];
    const float dhj = HasDh ? dh[j] : 0.0f;
    // total gradient of c': directly, and through h = o tanh(c')
    const float d = (HasDcOut ? dc_out[j] : 0.0f) + dhj * o * (1.0f - t * t);
    dg[j] = d * g * i * (1.0f - i);
    dg[H + j] = d * c[j] * f * (1.0f - f);
    dg[2 * H + j] = d * i * (1.0f - g * g);
    dg[3 * H + j] = dhj * t * o * (1.0f - o);
    if (HasDc) dc[j] = d * f;
  }
}

// Gate elements per thread. A (32, 4 x 128) step takes ~15 us on one AVX-512 core, about what
// waking a second thread costs (much more when the cores are shared), so typical recurrent
// batches stay on one thread and only large ones split.
constexpr int64_t kLstmGrain = 65536;
static inline int64_t row_grain(int64_t H, int64_t grain) { return imax(1, grain / imax(1, 4 * H)); }

template <bool HasDh, bool HasDcOut>
static void lstm_grad_rows(const float* saved, const float* c, const float* dh, const float* dc_out, float* dgates,
                           float* dc, int64_t batch, int64_t H) {
  parallel_for(batch, row_grain(H, 2 * kLstmGrain), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const float* s = saved + b * 5 * H;
      const float* dhr = HasDh ? dh + b * H : nullptr;
      const float* dcr = HasDcOut ? dc_out + b * H : nullptr;
      if (dc)
        lstm_grad_row<HasDh, HasDcOut, true>(s, c + b * H, dhr, dcr, dgates + b * 4 * H, dc + b * H, H);
      else
        lstm_grad_row<HasDh, HasDcOut, false>(s, c + b * H, dhr, dcr, dgates + b * 4 * H, nullptr, H);
    }
  });
}

template <bool Save>
static void gru_row(const float* __restrict xp, const float* __restrict hp, const float* __restrict h,
                    float* __restrict out, float* __restrict saved, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const float r = sigmoid_(xp[j] + hp[j]);
    const float z = sigmoid_(xp[H + j] + hp[H + j]);
    const float hn = hp[2 * H + j];
    const float n = tanh_(xp[2 * H + j] + r * hn);
    out[j] = n + z * (h[j] - n);
    if (Save) {
      saved[j] = r;
      saved[H + j] = z;
      saved[2 * H + j] = n;
      saved[3 * H + j] = hn;
    }
  }
}

template <bool HasDhp, bool HasDh>
static void gru_grad_row(const float* __restrict s, const float* __restrict h, const float* __restrict dout,
                         float* __restrict dxp, float* __restrict dhp, float* __restrict dh, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const float r = s[j], z = s[H + j], n = s[2 * H + j], hn = s[3 * H + j];
    const float d = dout[j];
    // h' = n + z (h - n)
    const float dn = d * (1.0f - z) * (1.0f - n * n);
    const float dz = d * (h[j] - n) * z * (1.0f - z);
    const float dr = dn * hn * r * (1.0f - r);
    dxp[j] = dr;
    dxp[H + j] = dz;
    dxp[2 * H + j] = dn;
    if (HasDhp) {
      dhp[j] = dr;
      dhp[H + j] = dz;
      dhp[2 * H + j] = dn * r;
    }
    if (HasDh) dh[j] = d * z;
  }
}

template <bool HasDhp, bool HasDh>
static void gru_grad_rows(const float* saved, const float* h, const float* dout, float* dxp, float* dhp, float* dh,
                          int64_t batch, int64_t H) {
  parallel_for(batch, row_grain(H, 2 * kLstmGrain), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      gru_grad_row<HasDhp, HasDh>(saved + b * 4 * H, h + b * H, dout + b * H, dxp + b * 3 * H,
                                  HasDhp ? dhp + b * 3 * H : nullptr, HasDh ? dh + b * H : nullptr, H);
  });
}

}  // namespace rnn_detail

static void lstm_cell_f32(const float* gates, const float* c, float* h, float* c_out, float* saved, int64_t batch,
                          int64_t hidden) {
  using namespace rnn_detail;
  const int64_t H = hidden;
  parallel_for(batch, row_grain(H, kLstmGrain), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      if (saved)
        lstm_row<true>(gates + b * 4 * H, c + b * H, h + b * H, c_out + b * H, saved + b * 5 * H, H);
      else
        lstm_row<false>(gates + b * 4 * H, c + b * H, h + b * H, c_out + b * H, nullptr, H);
    }
  });
}

static void lstm_cell_grad_f32(const float* saved, const float* c, const float* dh, const float* dc_out, float* dgates,
                               float* dc, int64_t batch, int64_t hidden) {
  using namespace rnn_detail;
  if (dh && dc_out)
    lstm_grad_rows<true, true>(saved, c, dh, dc_out, dgates, dc, batch, hidden);
  else if (dh)
    lstm_grad_rows<true, false>(saved, c, dh, nullptr, dgates, dc, batch, hidden);
  else if (dc_out)
    lstm_grad_rows<false, true>(saved, c, nullptr, dc_out, dgates, dc, batch, hidden);
  else
    lstm_grad_rows<false, false>(saved, c, nullptr, nullptr, dgates, dc, batch, hidden);
}

static void gru_cell_f32(const float* xp, const float* hp, const float* h, float* out, float* saved, int64_t batch,
                         int64_t hidden) {
  using namespace rnn_detail;
  const int64_t H = hidden;
  parallel_for(batch, row_grain(H, kLstmGrain), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      if (saved)
        gru_row<true>(xp + b * 3 * H, hp + b * 3 * H, h + b * H, out + b * H, saved + b * 4 * H, H);
      else
        gru_row<false>(xp + b * 3 * H, hp + b * 3 * H, h + b * H, out + b * H, nullptr, H);
    }
  });
}

static void gru_cell_grad_f32(const float* saved, const float* h, const float* dout, float* dxp, float* dhp, float* dh,
                              int64_t batch, int64_t hidden) {
  using namespace rnn_detail;
  if (dhp && dh)
    gru_grad_rows<true, true>(saved, h, dout, dxp, dhp, dh, batch, hidden);
  else if (dhp)
    gru_grad_rows<true, false>(saved, h, dout, dxp, dhp, dh, batch, hidden);
  else if (dh)
    gru_grad_rows<false, true>(saved, h, dout, dxp, dhp, dh, batch, hidden);
  else
    gru_grad_rows<false, false>(saved, h, dout, dxp, dhp, dh, batch, hidden);
}

}  // namespace ENGRAM_ISA_NS
}  // namespace engram
