// Compile-time element types for the dtype-dispatching (portable) kernels.
#pragma once

#include <stdint.h>

#include "kernels.h"

namespace engram {

template <class T>
static inline T* ptr(const Array& a) {
  return static_cast<T*>(a.data);
}

// Calls f(T{}) with the C++ element type of `t`.
template <class F>
static inline void with_type(DType t, const F& f) {
  switch (t) {
    case F32: f(float{}); break;
    case F64: f(double{}); break;
    case I32: f(int32_t{}); break;
    case U8: f(uint8_t{}); break;
    default: break;
  }
}

// Unsigned integer of the same size, for bit-exact copies.
static inline int elem_size(DType t) { return t == F64 ? 8 : t == U8 ? 1 : 4; }

}  // namespace engram
