// Elementwise entry points: float32 goes to the instruction-set table (simd_*.cc); int32 / bool
// paths, where and cast are portable loops here. Integer results follow JS typed-array stores
// (computed as doubles, then ToInt32 / ToUint8), exactly like the ts reference kernels.
#include <math.h>
#include <string.h>

#include "dtype.h"
#include "jsmath.h"
#include "jsnum.h"
#include "kernels.h"
#include "layout.h"
#include "ops.h"
#include "threadpool.h"

namespace engram {
namespace {

template <class T, class F>
void map_to_bool(const T* x, uint8_t* out, int64_t n, const F& f) {
  parallel_for(n, kParallelGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = f(x[i]);
  });
}

template <class F>
void map_int(const int32_t* x, int32_t* out, int64_t n, const F& f) {
  parallel_for(n, kParallelGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = to_int32(f(double(x[i])));
  });
}

bool unary_int32(int op, const int32_t* x, int32_t* out, int64_t n, double p0, double p1) {
  switch (op) {
    case U_NEG: map_int(x, out, n, [](double v) { return -v; }); return true;
    case U_ABS: map_int(x, out, n, [](double v) { return v < 0 ? -v : v; }); return true;
    case U_SIGN: map_int(x, out, n, [](double v) { return v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0); }); return true;
    case U_SQUARE: map_int(x, out, n, [](double v) { return v * v; }); return true;
    case U_RELU: map_int(x, out, n, [](double v) { return v > 0 ? v : 0.0; }); return true;
    case U_CLAMP: map_int(x, out, n, [=](double v) { return v < p0 ? p0 : (v > p1 ? p1 : v); }); return true;
    case U_AFFINE: map_int(x, out, n, [=](double v) { return v * p0 + p1; }); return true;
    default: return false;
  }
}

// Binary op on int32 / bool operands computed in double (as the ts kernels do), stored with JS
// conversion into Out.
template <class T, class Out, class F>
void binary_generic(const T* a, const T* b, Out* out, const int32_t* layout, const F& f) {
  const int nd = layout[0];
  const int64_t sa = layout[1 + nd + nd - 1];
  const int64_t sb = layout[1 + 2 * nd + nd - 1];
  parallel_for(layout_total(layout), kParallelGrain, [&](int64_t begin, int64_t end) {
    for_each_run<2>(layout, begin, end, [&](int64_t i, const int64_t* off, int64_t len) {
      const T* pa = a + off[0];
      const T* pb = b + off[1];
      Out* po = out + i;
      if (sa == 1 && sb == 1) {
        for (int64_t t = 0; t < len; ++t) po[t] = f(pa[t], pb[t]);
      } else {
        for (int64_t t = 0; t < len; ++t) po[t] = f(pa[t * sa], pb[t * sb]);
      }
    });
  });
}

template <class T>
bool binary_int(int op, const T* a, const T* b, const Array& out, const int32_t* layout) {
  if (binary_is_compare(op)) {
    if (out.type != U8) return false;
    uint8_t* o = ptr<uint8_t>(out);
    switch (op) {
      case B_EQ: binary_generic(a, b, o, layout, [](T x, T y) { return uint8_t(x == y); }); return true;
      case B_NE: binary_generic(a, b, o, layout, [](T x, T y) { return uint8_t(x != y); }); return true;
      case B_LT: binary_generic(a, b, o, layout, [](T x, T y) { return uint8_t(x < y); }); return true;
      case B_LE: binary_generic(a, b, o, layout, [](T x, T y) { return uint8_t(x <= y); }); return true;
      case B_GT: binary_generic(a, b, o, layout, [](T x, T y) { return uint8_t(x > y); }); return true;
      case B_GE: binary_generic(a, b, o, layout, [](T x, T y) { return uint8_t(x >= y); }); return true;
      case B_LOGICAL_AND:
        binary_generic(a, b, o, layout, [](T x, T y) { return uint8_t((x != 0) & (y != 0)); });
        return true;
      case B_LOGICAL_OR:
        binary_generic(a, b, o, layout, [](T x, T y) { return uint8_t((x != 0) | (y != 0)); });
        return true;
      case B_LOGICAL_XOR:
        binary_generic(a, b, o, layout, [](T x, T y) { return uint8_t((x != 0) ^ (y != 0)); });
        return true;
      default: return false;
    }
  }
  if (out.type != I32 && out.type != U8) return false;
  bool ok = true;
  with_type(out.type, [&](auto tag) {
    using Out = decltype(tag);
    Out* o = ptr<Out>(out);
    auto run = [&](auto f) {
      binary_generic(a, b, o, layout, [&](T x, T y) { return JsStore<Out>::from(f(double(x), double(y))); });
    };
    switch (op) {
      case B_ADD: run([](double x, double y) { return x + y; }); break;
      case B_SUB: run([](double x, double y) { return x - y; }); break;
      case B_MUL: run([](double x, double y) { return x * y; }); break;
      case B_DIV: run([](double x, double y) { return x / y; }); break;  // stores truncate
      case B_POW: run([](double x, double y) { return js_pow(x, y); }); break;
      case B_MINIMUM: run([](double x, double y) { return x < y ? x : y; }); break;
      case B_MAXIMUM: run([](double x, double y) { return x > y ? x : y; }); break;
      default: ok = false;
    }
  });
  return ok;
}

template <class E>
void where_impl(const uint8_t* cond, const E* a, const E* b, E* out, const int32_t* layout) {
  parallel_for(layout_total(layout), kParallelGrain, [&](int64_t begin, int64_t end) {
    for_each_run<3>(layout, begin, end, [&](int64_t i, const int64_t* off, int64_t len) {
      const int nd = layout[0];
      const int64_t sc = layout[1 + nd + nd - 1], sa = layout[1 + 2 * nd + nd - 1], sb = layout[1 + 3 * nd + nd - 1];
      const uint8_t* pc = cond + off[0];
      const E* pa = a + off[1];
      const E* pb = b + off[2];
      E* po = out + i;
      if (sc == 1 && sa == 1 && sb == 1) {
        for (int64_t t = 0; t < len; ++t) po[t] = pc[t] ? pa[t] : pb[t];
      } else {
        for (int64_t t = 0; t < len; ++t) po[t] = pc[t * sc] ? pa[t * sa] : pb[t * sb];
      }
    });
  });
}

template <class In, class Out, class F>
void convert(const In* x, Out* out, int64_t n, const F& f) {
  parallel_for(n, kParallelGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = f(x[i]);
  });
}

}  // namespace

bool unary(int op, const Array& x, const Array& out, double p0, double p1) {
  const int64_t n = int64_t(x.length);
  if (x.type == F32 && out.type == F32) {
    fk().unary(op, ptr<float>(x), ptr<float>(out), n, p0, p1);
    return true;
  }
  if (out.type == U8 && (op == U_LOGICAL_NOT || op == U_IS_FINITE)) {
    uint8_t* o = ptr<uint8_t>(out);
    bool ok = true;
    with_type(x.type, [&](auto tag) {
      using T = decltype(tag);
      const T* xp = ptr<T>(x);
      if (op == U_LOGICAL_NOT)
        map_to_bool(xp, o, n, [](T v) { return uint8_t(v == 0); });
      else
        map_to_bool(xp, o, n, [](T v) { return uint8_t(double(v) - double(v) == 0.0); });
    });
    return ok;
  }
  if (x.type == I32 && out.type == I32) return unary_int32(op, ptr<int32_t>(x), ptr<int32_t>(out), n, p0, p1);
  return false;
}

bool unary_grad(int op, const Array& x, const Array& y, const Array& dy, const Array& dx, double p0, double p1) {
  if (x.type != F32 || y.type != F32 || dy.type != F32 || dx.type != F32) return false;
  if (op == U_LOGICAL_NOT || op == U_IS_FINITE || op < 0 || op >= U_COUNT) return false;
  fk().unary_grad(op, ptr<float>(x), ptr<float>(y), ptr<float>(dy), ptr<float>(dx), int64_t(x.length), p0, p1);
  return true;
}

bool binary(int op, const Array& a, const Array& b, const Array& out, const int32_t* layout) {
  if (a.type != b.type || op < 0 || op >= B_COUNT) return false;
  switch (a.type) {
    case F32:
      if (out.type != (binary_is_compare(op) ? U8 : F32)) return false;
      fk().binary(op, ptr<float>(a), ptr<float>(b), out.data, layout);
      return true;
    case I32: return binary_int(op, ptr<int32_t>(a), ptr<int32_t>(b), out, layout);
    case U8: return binary_int(op, ptr<uint8_t>(a), ptr<uint8_t>(b), out, layout);
    default: return false;
  }
}

bool where(const Array& cond, const Array& a, const Array& b, const Array& out, const int32_t* layout) {
  if (cond.type != U8 || a.type != b.type || a.type != out.type) return false;
  const uint8_t* c = ptr<uint8_t>(cond);
  switch (elem_size(a.type)) {
    case 1: where_impl(c, ptr<uint8_t>(a), ptr<uint8_t>(b), ptr<uint8_t>(out), layout); return true;
    case 4: where_impl(c, ptr<uint32_t>(a), ptr<uint32_t>(b), ptr<uint32_t>(out), layout); return true;
    case 8: where_impl(c, ptr<uint64_t>(a), ptr<uint64_t>(b), ptr<uint64_t>(out), layout); return true;
    default: return false;
  }
}

bool cast(const Array& x, const Array& out) {
  const int64_t n = int64_t(x.length);
  if (x.type == out.type && x.type != U8) {
    parallel_for(n, 4 * kParallelGrain, [&](int64_t b, int64_t e) {
      const size_t es = size_t(elem_size(x.type));
      memcpy(static_cast<char*>(out.data) + b * es, static_cast<const char*>(x.data) + b * es, size_t(e - b) * es);
    });
    return true;
  }
  with_type(x.type, [&](auto xtag) {
    using In = decltype(xtag);
    const In* xp = ptr<In>(x);
    switch (out.type) {
      case U8: convert(xp, ptr<uint8_t>(out), n, [](In v) { return uint8_t(v != 0); }); break;
      case I32: convert(xp, ptr<int32_t>(out), n, [](In v) { return to_int32(double(v)); }); break;
      case F32: convert(xp, ptr<float>(out), n, [](In v) { return float(v); }); break;
      case F64: convert(xp, ptr<double>(out), n, [](In v) { return double(v); }); break;
      default: break;
    }
  });
  return true;
}

}  // namespace engram
