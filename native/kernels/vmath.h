// Branch-free float32 math that GCC/Clang auto-vectorise at -O3 (no libm calls, no lookups).
// Accuracy (checked against double precision over all float32 inputs in the relevant ranges):
// exp, log, log1p, tanh, sigmoid, erf within ~2 ulp. Infinities and NaN follow IEEE/libm.
//
// This header is included once per instruction set inside a distinct namespace (ENGRAM_ISA_NS), so
// every function here is internal to that translation unit: no inline symbol compiled for AVX2 can
// be shared with the portable code. Do not include STL templates from inside that namespace.
#pragma once

#include <stdint.h>
#include <string.h>

namespace engram {
namespace ENGRAM_ISA_NS {
namespace vm {

static inline uint32_t bits(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  return u;
}
static inline float from_bits(uint32_t u) {
  float x;
  memcpy(&x, &u, 4);
  return x;
}
static inline float fabs_(float x) { return from_bits(bits(x) & 0x7fffffffu); }
static inline float copysign_(float mag, float sgn) {
  return from_bits((bits(mag) & 0x7fffffffu) | (bits(sgn) & 0x80000000u));
}
static inline float inf() { return from_bits(0x7f800000u); }
static inline float qnan() { return from_bits(0x7fc00000u); }
// NaN-propagating max/min (PyTorch semantics): NaN if either is NaN.
// (two plain selects, which vectorise; a short-circuit || does not)
static inline float maxp(float a, float b) {
  const float m = a > b ? a : b;
  return a != a ? a : m;
}
static inline float minp(float a, float b) {
  const float m = a < b ? a : b;
  return a != a ? a : m;
}
static inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

// Round to nearest, ties to even (the default FP rounding mode), keeping the sign of zero.
static inline float round_even(float x) {
  const float big = 8388608.0f;  // 2^23: floats at or above are integers
  float t = copysign_(big, x);
  float r = copysign_((x + t) - t, x);
  return fabs_(x) < big ? r : x;
}
static inline float floor_(float x) {
  float r = round_even(x);
  return r > x ? r - 1.0f : r;
}
static inline float ceil_(float x) {
  float r = round_even(x);
  return r < x ? r + 1.0f : r;
}
static inline float trunc_(float x) { return fabs_(x) < 8388608.0f ? copysign_(floor_(fabs_(x)), x) : x; }

// exp: x = n ln2 + r, |r| <= ln2/2, Cephes polynomial for exp(r), scale by 2^n in two halves so
// results in the subnormal range and near overflow are exact.
static inline float exp_(float x) {
  float xc = x < -104.0f ? -104.0f : x;  // exp(-104) rounds to 0
  xc = xc > 89.0f ? 89.0f : xc;          // exp(89) overflows to inf
  const float magic = 12582912.0f;       // 1.5 * 2^23: adding it rounds to an integer
  float t = xc * 1.44269504088896341f + magic;
  int32_t n = int32_t(bits(t)) - int32_t(bits(magic));
  float nf = t - magic;
  float r = xc - nf * 0.693359375f;
  r = r - nf * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  int32_t n1 = n >> 1;
  int32_t n2 = n - n1;
  float s1 = from_bits(uint32_t(n1 + 127) << 23);
  float s2 = from_bits(uint32_t(n2 + 127) << 23);
  return p * s1 * s2;
}

// log: x = m 2^e with m in [sqrt(1/2), sqrt(2)), Cephes polynomial for log(m).
static inline float log_(float x) {
  const float min_normal = 1.17549435e-38f;
  bool sub = x < min_normal;
  float xs = sub ? x * 8388608.0f : x;
  uint32_t u = bits(xs);
  int32_t e = int32_t((u >> 23) & 0xffu) - 126 - (sub ? 23 : 0);
  float m = from_bits((u & 0x007fffffu) | 0x3f000000u);  // [0.5, 1)
  bool lowm = m < 0.707106781186547524f;
  float f = lowm ? (m + m - 1.0f) : (m - 1.0f);
  float ef = float(lowm ? e - 1 : e);
  float z = f * f;
  float y = 7.0376836292e-2f;
  y = y * f - 1.1514610310e-1f;
  y = y * f + 1.1676998740e-1f;
  y = y * f - 1.2420140846e-1f;
  y = y * f + 1.4249322787e-1f;
  y = y * f - 1.6668057665e-1f;
  y = y * f + 2.0000714765e-1f;
  y = y * f - 2.4999993993e-1f;
  y = y * f + 3.3333331174e-1f;
  y = y * f * z;
  y = y + ef * -2.12194440e-4f;
  y = y - 0.5f * z;
  float r = f + y + ef * 0.693359375f;
  bool ok = x > 0.0f && x < inf();
  float special = x == 0.0f ? -inf() : (x == inf() ? inf() : qnan());
  return ok ? r : special;
}

static inline float log1p_(float x) {
  float u = 1.0f + x;
  float r = log_(u) * (x / (u - 1.0f));
  r = u == 1.0f ? x : r;
  return x == inf() ? x : r;
}

static inline float expm1_(float x) {
  // exp(x) - 1 with the same correction trick as log1p: accurate near 0.
  float u = exp_(x);
  float um1 = u - 1.0f;
  float r = um1 * (x / log_(u));
  r = u == 1.0f ? x : r;
  r = fabs_(x) > 0.5f ? um1 : r;
  return x == inf() ? x : r;
}

// 1 / (1 + exp(-x)), written as e / (1 + e) with e = exp(x) for x < 0 so tiny results keep their
// relative accuracy instead of flushing to 0.
static inline float sigmoid_(float x) {
  float e = exp_(-fabs_(x));
  float s = 1.0f / (1.0f + e);
  return x >= 0.0f ? s : (x != x ? x : e * s);
}

static inline float tanh_(float x) {
  float ax = fabs_(x);
  float s = x * x;
  float p = -5.70498872745e-3f;
  p = p * s + 2.06390887954e-2f;
  p = p * s - 5.37397155531e-2f;
  p = p * s + 1.33314422036e-1f;
  p = p * s - 3.33332819422e-1f;
  p = p * s * x + x;
  float e = exp_(ax + ax);
  float big = copysign_(1.0f - 2.0f / (e + 1.0f), x);
  return ax < 0.625f ? p : big;
}

// erf: odd polynomial below 0.9277, 1 - exp(poly) above (N. Juffa's float erf, ~1 ulp with FMA).
static inline float erf_(float x) {
  float t = fabs_(x);
  float s = x * x;
  float r = -1.72853470e-5f * t + 3.83197126e-4f;
  float u = -3.88396438e-3f * t + 2.42546219e-2f;
  r = r * s + u;
  r = r * t - 1.06777877e-1f;
  r = r * t - 6.34846687e-1f;
  r = r * t - 1.28717512e-1f;
  r = r * t - t;
  float big = copysign_(1.0f - exp_(r), x);
  float q = -5.96761703e-4f;
  q = q * s + 4.99119423e-3f;
  q = q * s - 2.67681349e-2f;
  q = q * s + 1.12819925e-1f;
  q = q * s - 3.76125336e-1f;
  q = q * s + 1.28379166e-1f;
  q = q * x + x;
  return t > 0.927734375f ? (t < inf() ? big : copysign_(1.0f, x)) : q;
}

}  // namespace vm
}  // namespace ENGRAM_ISA_NS
}  // namespace engram
