// JavaScript Math semantics where they differ from C's libm. Internal linkage (static): safe to
// include from any translation unit, including the per-instruction-set ones.
#pragma once

#include <math.h>

namespace engram {

// Math.pow: unlike C's pow, pow(x, NaN) is NaN even for x == 1, and pow(+-1, +-Infinity) is NaN.
static inline double js_pow(double x, double y) {
  if (y != y) return y;
  if ((x == 1.0 || x == -1.0) && y - y != 0.0) return y - y;
  return pow(x, y);
}

}  // namespace engram
