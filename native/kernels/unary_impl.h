// Float32 unary ops and their gradients (semantics: src/backend/ts/kernels.ts).
#pragma once

#include <math.h>

#include "float_common.h"
#include "jsmath.h"
#include "ops.h"

namespace engram {
namespace ENGRAM_ISA_NS {
namespace unary_detail {

using namespace vm;

constexpr float kSqrt1_2 = 0.70710678118654752f;
constexpr float kSqrt2OverPi = 0.79788456080286536f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;
constexpr float kTwoOverSqrtPi = 1.12837916709551257f;

template <class F>
static void map(const float* x, float* out, int64_t n, int64_t grain, const F& f) {
  parallel_for(n, grain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = f(x[i]);
  });
}

template <class F>
static void map_grad(const float* x, const float* y, const float* dy, float* dx, int64_t n, int64_t grain,
                     const F& f) {
  parallel_for(n, grain, [&](int64_t b, int64_t e) {
    // in double: exact for float factors (one rounding, as the ts kernels), and f may return a
    // double when its float value could overflow
    for (int64_t i = b; i < e; ++i) dx[i] = float(double(dy[i]) * double(f(x[i], y[i])));
  });
}

static inline float softplus(float x) { return x > 20.0f ? x : (x < -20.0f ? exp_(x) : log1p_(exp_(x))); }

static inline float gelu_tanh(float x) {
  // 0.5 x (1 + tanh(u)) == x * sigmoid(2u), without the cancellation of 1 + tanh(u) for x << 0
  const float u = kSqrt2OverPi * (x + 0.044715f * x * x * x);
  return x * sigmoid_(u + u);
}

}  // namespace unary_detail

static void unary_f32(int op, const float* x, float* out, int64_t n, double p0, double p1) {
  using namespace unary_detail;
  const int64_t C = kGrainCheap, H = kGrainHeavy;
  const float a = float(p0), b = float(p1);
  switch (op) {
    case U_NEG: return map(x, out, n, C, [](float v) { return -v; });
    case U_ABS: return map(x, out, n, C, [](float v) { return fabs_(v); });
    case U_SIGN: return map(x, out, n, C, [](float v) { return v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : v); });
    case U_EXP: return map(x, out, n, H, [](float v) { return exp_(v); });
    case U_LOG: return map(x, out, n, H, [](float v) { return log_(v); });
    case U_LOG1P: return map(x, out, n, H, [](float v) { return log1p_(v); });
    case U_SQRT: return map(x, out, n, C, [](float v) { return __builtin_sqrtf(v); });
    case U_RSQRT: return map(x, out, n, C, [](float v) { return float(1.0 / __builtin_sqrt(double(v))); });
    case U_SQUARE: return map(x, out, n, C, [](float v) { return v * v; });
    case U_RECIPROCAL: return map(x, out, n, C, [](float v) { return 1.0f / v; });
    case U_SIN: return map(x, out, n, 512, [](float v) { return float(::sin(double(v))); });
    case U_COS: return map(x, out, n, 512, [](float v) { return float(::cos(double(v))); });
    case U_FLOOR: return map(x, out, n, C, [](float v) { return floor_(v); });
    case U_CEIL: return map(x, out, n, C, [](float v) { return ceil_(v); });
    case U_ROUND: return map(x, out, n, C, [](float v) { return round_even(v); });
    case U_RELU: return map(x, out, n, C, [](float v) { return v > 0.0f ? v : (v != v ? v : 0.0f); });
    case U_SIGMOID: return map(x, out, n, H, [](float v) { return sigmoid_(v); });
    case U_TANH: return map(x, out, n, H, [](float v) { return tanh_(v); });
    case U_SOFTPLUS: return map(x, out, n, H, [](float v) { return softplus(v); });
    case U_SILU: return map(x, out, n, H, [](float v) { return v * sigmoid_(v); });
    case U_GELU: return map(x, out, n, H, [](float v) { return 0.5f * v * (1.0f + erf_(v * kSqrt1_2)); });
    case U_GELU_TANH: return map(x, out, n, H, [](float v) { return gelu_tanh(v); });
    case U_ELU: return map(x, out, n, H, [a](float v) { return v > 0.0f ? v : a * expm1_(v); });
    case U_LEAKY_RELU: return map(x, out, n, C, [a](float v) { return v > 0.0f ? v : v * a; });
    case U_ERF: return map(x, out, n, H, [](float v) { return erf_(v); });
    case U_CLAMP: return map(x, out, n, C, [a, b](float v) { return v < a ? a : (v > b ? b : v); });
    case U_POW_SCALAR:
      if (p0 == 2.0) return map(x, out, n, C, [](float v) { return v * v; });
      if (p0 == 1.0) return map(x, out, n, C, [](float v) { return v; });
      if (p0 == 0.0) return map(x, out, n, C, [](float) { return 1.0f; });
      if (p0 == -1.0) return map(x, out, n, C, [](float v) { return 1.0f / v; });
      if (p0 == 3.0) return map(x, out, n, C, [](float v) { return float(double(v) * v * v); });
      return map(x, out, n, 512, [p0](float v) { return float(js_pow(double(v), p0)); });
    case U_AFFINE: return map(x, out, n, C, [p0, p1](float v) { return float(double(v) * p0 + p1); });
    case U_LOGICAL_NOT: return map(x, out, n, C, [](float v) { return v == 0.0f ? 1.0f : 0.0f; });
    case U_IS_FINITE: return map(x, out, n, C, [](float v) { return v - v == 0.0f ? 1.0f : 0.0f; });
    default: return;
  }
}

static void unary_grad_f32(int op, const float* x, const float* y, const float* dy, float* dx, int64_t n, double p0,
                           double p1) {
  using namespace unary_detail;
  const int64_t C = kGrainCheap, H = kGrainHeavy;
  const float a = float(p0), b = float(p1);
  switch (op) {
    case U_NEG: return map_grad(x, y, dy, dx, n, C, [](float, float) { return -1.0f; });
    case U_ABS:
      return map_grad(x, y, dy, dx, n, C, [](float v, float) { return v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f); });
    case U_SIGN:
    case U_FLOOR:
    case U_CEIL:
    case U_ROUND: return map_grad(x, y, dy, dx, n, C, [](float, float) { return 0.0f; });
    case U_EXP: return map_grad(x, y, dy, dx, n, C, [](float, float o) { return o; });
    case U_LOG: return map_grad(x, y, dy, dx, n, C, [](float v, float) { return 1.0f / v; });
    case U_LOG1P: return map_grad(x, y, dy, dx, n, C, [](float v, float) { return 1.0f / (1.0f + v); });
    case U_SQRT: return map_grad(x, y, dy, dx, n, C, [](float, float o) { return 0.5f / o; });
    case U_RSQRT: return map_grad(x, y, dy, dx, n, C, [](float, float o) { return -0.5f * o * o * o; });
    case U_SQUARE: return map_grad(x, y, dy, dx, n, C, [](float v, float) { return 2.0 * double(v); });
    case U_RECIPROCAL: return map_grad(x, y, dy, dx, n, C, [](float, float o) { return -o * o; });
    case U_SIN: return map_grad(x, y, dy, dx, n, 512, [](float v, float) { return float(::cos(double(v))); });
    case U_COS: return map_grad(x, y, dy, dx, n, 512, [](float v, float) { return float(-::sin(double(v))); });
    case U_RELU: return map_grad(x, y, dy, dx, n, C, [](float v, float) { return v > 0.0f ? 1.0f : 0.0f; });
    case U_SIGMOID: return map_grad(x, y, dy, dx, n, C, [](float, float o) { return o * (1.0f - o); });
    case U_TANH: return map_grad(x, y, dy, dx, n, C, [](float, float o) { return 1.0f - o * o; });
    case U_SOFTPLUS: return map_grad(x, y, dy, dx, n, H, [](float v, float) { return sigmoid_(v); });
    case U_SILU:
      return map_grad(x, y, dy, dx, n, H, [](float v, float) {
        const float s = sigmoid_(v);
        return s * (1.0f + v * (1.0f - s));
      });
    case U_GELU:
      return map_grad(x, y, dy, dx, n, H, [](float v, float) {
        return 0.5f * (1.0f + erf_(v * kSqrt1_2)) + v * kInvSqrt2Pi * exp_(-0.5f * v * v);
      });
    case U_GELU_TANH:
      return map_grad(x, y, dy, dx, n, H, [](float v, float) {
        // tanh(u) is exactly +-1 in float for |v| > 10, so clamping v inside the polynomials only
        // avoids float overflow (v^3 for huge v), keeping 0 * finite = 0 as in double
        const float vc = v > 20.0f ? 20.0f : (v < -20.0f ? -20.0f : v);
        const float u = kSqrt2OverPi * (vc + 0.044715f * vc * vc * vc);
        const float t = tanh_(u);
        return 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * vc * vc);
      });
    case U_ELU: return map_grad(x, y, dy, dx, n, C, [a](float v, float o) { return v > 0.0f ? 1.0f : o + a; });
    case U_LEAKY_RELU: return map_grad(x, y, dy, dx, n, C, [a](float v, float) { return v > 0.0f ? 1.0f : a; });
    case U_ERF: return map_grad(x, y, dy, dx, n, H, [](float v, float) { return kTwoOverSqrtPi * exp_(-v * v); });
    case U_CLAMP:
      return map_grad(x, y, dy, dx, n, C, [a, b](float v, float) { return v >= a && v <= b ? 1.0f : 0.0f; });
    case U_POW_SCALAR:
      if (p0 == 0.0) return map_grad(x, y, dy, dx, n, C, [](float, float) { return 0.0f; });
      if (p0 == 1.0) return map_grad(x, y, dy, dx, n, C, [](float, float) { return 1.0f; });
      if (p0 == 2.0) return map_grad(x, y, dy, dx, n, C, [](float v, float) { return 2.0 * double(v); });
      return map_grad(x, y, dy, dx, n, 512,
                      [p0](float v, float) { return float(p0 * js_pow(double(v), p0 - 1.0)); });
    case U_AFFINE: return map_grad(x, y, dy, dx, n, C, [a](float, float) { return a; });
    default: return;
  }
}

}  // namespace ENGRAM_ISA_NS
}  // namespace engram
