// JavaScript number conversions: what storing a double into an Int32Array / Uint8Array does.
// Include only from portable translation units (JsStore has inline members with external linkage).
#pragma once

#include <math.h>
#include <stdint.h>

namespace engram {

// ToInt32: NaN and +-Infinity give 0, otherwise truncate toward zero and wrap modulo 2^32.
static inline int32_t to_int32(double d) {
  if (d > -2147483649.0 && d < 2147483648.0) return int32_t(d);
  if (!(d - d == 0.0)) return 0;
  double m = fmod(trunc(d), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return int32_t(uint32_t(m));
}

// ToUint8: NaN and +-Infinity give 0, otherwise truncate toward zero and wrap modulo 256.
static inline uint8_t to_uint8(double d) {
  if (d > -1.0 && d < 256.0) return uint8_t(int(d));
  if (!(d - d == 0.0)) return 0;
  double m = fmod(trunc(d), 256.0);
  if (m < 0) m += 256.0;
  return uint8_t(m);
}

template <class T>
struct JsStore;
template <>
struct JsStore<float> {
  static float from(double d) { return float(d); }
};
template <>
struct JsStore<double> {
  static double from(double d) { return d; }
};
template <>
struct JsStore<int32_t> {
  static int32_t from(double d) { return to_int32(d); }
};
template <>
struct JsStore<uint8_t> {
  static uint8_t from(double d) { return to_uint8(d); }
};

}  // namespace engram
