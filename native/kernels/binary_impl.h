// Float32 binary ops with broadcasting (semantics: src/backend/ts/kernels.ts).
#pragma once

#include <math.h>

#include "float_common.h"
#include "jsmath.h"
#include "layout.h"
#include "ops.h"

namespace engram {
namespace ENGRAM_ISA_NS {
namespace binary_detail {

using namespace vm;

template <class Out, class F>
static void run(const float* a, const float* b, Out* out, const int32_t* layout, int64_t grain, const F& f) {
  const int nd = layout[0];
  const int64_t sa = layout[1 + nd + nd - 1];
  const int64_t sb = layout[1 + 2 * nd + nd - 1];
  parallel_for(layout_total(layout), grain, [&](int64_t begin, int64_t end) {
    for_each_run<2>(layout, begin, end, [&](int64_t i, const int64_t* off, int64_t len) {
      const float* pa = a + off[0];
      const float* pb = b + off[1];
      Out* po = out + i;
      if (sa == 1 && sb == 1) {
        for (int64_t t = 0; t < len; ++t) po[t] = f(pa[t], pb[t]);
      } else if (sa == 1 && sb == 0) {
        const float vb = *pb;
        for (int64_t t = 0; t < len; ++t) po[t] = f(pa[t], vb);
      } else if (sa == 0 && sb == 1) {
        const float va = *pa;
        for (int64_t t = 0; t < len; ++t) po[t] = f(va, pb[t]);
      } else {
        for (int64_t t = 0; t < len; ++t) po[t] = f(pa[t * sa], pb[t * sb]);
      }
    });
  });
}

// JS Math.min / Math.max with NaN propagation: -0 < +0.
static inline float min_js(float a, float b) { return a < b ? a : (b < a ? b : from_bits(bits(a) | bits(b))); }
static inline float max_js(float a, float b) {
  return a > b ? a : (b > a ? b : (a != a || b != b ? a + b : from_bits(bits(a) & bits(b))));
}

}  // namespace binary_detail

static void binary_f32(int op, const float* a, const float* b, void* out, const int32_t* layout) {
  using namespace binary_detail;
  const int64_t C = kGrainCheap;
  float* of = static_cast<float*>(out);
  uint8_t* ob = static_cast<uint8_t*>(out);
  switch (op) {
    case B_ADD: return run(a, b, of, layout, C, [](float x, float y) { return x + y; });
    case B_SUB: return run(a, b, of, layout, C, [](float x, float y) { return x - y; });
    case B_MUL: return run(a, b, of, layout, C, [](float x, float y) { return x * y; });
    case B_DIV: return run(a, b, of, layout, C, [](float x, float y) { return x / y; });
    case B_POW: return run(a, b, of, layout, 512, [](float x, float y) { return float(js_pow(double(x), double(y))); });
    case B_MINIMUM: return run(a, b, of, layout, C, [](float x, float y) { return min_js(x, y); });
    case B_MAXIMUM: return run(a, b, of, layout, C, [](float x, float y) { return max_js(x, y); });
    case B_EQ: return run(a, b, ob, layout, C, [](float x, float y) { return uint8_t(x == y); });
    case B_NE: return run(a, b, ob, layout, C, [](float x, float y) { return uint8_t(x != y); });
    case B_LT: return run(a, b, ob, layout, C, [](float x, float y) { return uint8_t(x < y); });
    case B_LE: return run(a, b, ob, layout, C, [](float x, float y) { return uint8_t(x <= y); });
    case B_GT: return run(a, b, ob, layout, C, [](float x, float y) { return uint8_t(x > y); });
    case B_GE: return run(a, b, ob, layout, C, [](float x, float y) { return uint8_t(x >= y); });
    case B_LOGICAL_AND:
      return run(a, b, ob, layout, C, [](float x, float y) { return uint8_t((x != 0.0f) & (y != 0.0f)); });
    case B_LOGICAL_OR:
      return run(a, b, ob, layout, C, [](float x, float y) { return uint8_t((x != 0.0f) | (y != 0.0f)); });
    case B_LOGICAL_XOR:
      return run(a, b, ob, layout, C, [](float x, float y) { return uint8_t((x != 0.0f) ^ (y != 0.0f)); });
    default: return;
  }
}

}  // namespace ENGRAM_ISA_NS
}  // namespace engram
