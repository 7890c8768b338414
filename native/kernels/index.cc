// Data movement: strided copy / scatter, gather / scatterAdd, indexSelect / indexAdd, tri.
// Copies move raw bits by element size, so they serve every dtype; accumulation adds in the
// element type (int32 and bool wrap, like JS typed-array stores).
#include <string.h>

#include "dtype.h"
#include "kernels.h"
#include "layout.h"
#include "threadpool.h"

namespace engram {
namespace {

// Items per thread chunk so that each chunk moves at least kParallelGrain elements.
int64_t imax_grain(int64_t per_item) { return per_item >= kParallelGrain ? 1 : kParallelGrain / (per_item < 1 ? 1 : per_item); }

// Element types used for accumulation.
template <class T>
struct Acc {
  static T add(T a, T b) { return a + b; }
};
template <>
struct Acc<int32_t> {
  static int32_t add(int32_t a, int32_t b) { return int32_t(uint32_t(a) + uint32_t(b)); }
};
template <>
struct Acc<uint8_t> {
  static uint8_t add(uint8_t a, uint8_t b) { return uint8_t(a + b); }
};

// Calls f(E{}) with an unsigned integer type of the element size of t (bit copies).
template <class F>
void with_bits(DType t, const F& f) {
  switch (elem_size(t)) {
    case 1: f(uint8_t{}); break;
    case 4: f(uint32_t{}); break;
    default: f(uint64_t{}); break;
  }
}

template <class E>
void strided_copy_impl(const E* x, E* out, int64_t offset, const int32_t* layout) {
  const int nd = layout[0];
  const int64_t s = layout[1 + nd + nd - 1];
  parallel_for(layout_total(layout), kParallelGrain, [&](int64_t begin, int64_t end) {
    for_each_run<1>(layout, begin, end, [&](int64_t i, const int64_t* off, int64_t len) {
      const E* src = x + offset + off[0];
      E* dst = out + i;
      if (s == 1) {
        memcpy(dst, src, size_t(len) * sizeof(E));
      } else if (s == 0) {
        const E v = *src;
        for (int64_t t = 0; t < len; ++t) dst[t] = v;
      } else {
        for (int64_t t = 0; t < len; ++t) dst[t] = src[t * s];
      }
    });
  });
}

// Serial: targets may repeat (0 or overlapping strides) and the ts order must be kept.
template <class T>
void strided_scatter_impl(const T* src, T* out, int64_t offset, const int32_t* layout, bool accumulate) {
  const int nd = layout[0];
  const int64_t s = layout[1 + nd + nd - 1];
  for_each_run<1>(layout, 0, layout_total(layout), [&](int64_t i, const int64_t* off, int64_t len) {
    T* dst = out + offset + off[0];
    const T* from = src + i;
    if (accumulate) {
      for (int64_t t = 0; t < len; ++t) dst[t * s] = Acc<T>::add(dst[t * s], from[t]);
    } else if (s == 1) {
      memmove(dst, from, size_t(len) * sizeof(T));
    } else {
      for (int64_t t = 0; t < len; ++t) dst[t * s] = from[t];
    }
  });
}

}  // namespace

bool strided_copy(const Array& x, const Array& out, int64_t offset, const int32_t* layout) {
  if (x.type != out.type) return false;
  with_bits(x.type, [&](auto tag) {
    using E = decltype(tag);
    strided_copy_impl(ptr<E>(x), ptr<E>(out), offset, layout);
  });
  return true;
}

bool strided_scatter(const Array& src, const Array& out, int64_t offset, const int32_t* layout, bool accumulate) {
  if (src.type != out.type) return false;
  if (accumulate) {
    with_type(src.type, [&](auto tag) {
      using T = decltype(tag);
      strided_scatter_impl(ptr<T>(src), ptr<T>(out), offset, layout, true);
    });
  } else {
    with_bits(src.type, [&](auto tag) {
      using E = decltype(tag);
      strided_scatter_impl(ptr<E>(src), ptr<E>(out), offset, layout, false);
    });
  }
  return true;
}

bool gather(const Array& x, const int32_t* index, const Array& out, int64_t outer, int64_t n, int64_t inner,
            int64_t k) {
  if (x.type != out.type) return false;
  with_bits(x.type, [&](auto tag) {
    using E = decltype(tag);
    const E* xp = ptr<E>(x);
    E* op = ptr<E>(out);
    parallel_for(outer * k, imax_grain(inner), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t o = r / k;
        const int32_t* ix = index + r * inner;
        const E* base = xp + o * n * inner;
        E* dst = op + r * inner;
        for (int64_t i = 0; i < inner; ++i) dst[i] = base[int64_t(ix[i]) * inner + i];
      }
    });
  });
  return true;
}

bool scatter_add(const Array& src, const int32_t* index, const Array& out, int64_t outer, int64_t n, int64_t inner,
                 int64_t k) {
  if (src.type != out.type) return false;
  with_type(src.type, [&](auto tag) {
    using T = decltype(tag);
    const T* sp = ptr<T>(src);
    T* op = ptr<T>(out);
    // Different outer slices and different inner positions never collide; within one, contributions
    // arrive in increasing j as in the reference.
    const int64_t chunks = inner >= 64 ? (inner + 63) / 64 : 1;
    const int64_t cw = chunks == 1 ? inner : 64;
    parallel_for(outer * chunks, imax_grain(k * cw), [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t o = t / chunks;
        const int64_t i0 = (t % chunks) * cw, i1 = i0 + cw < inner ? i0 + cw : inner;
        T* base = op + o * n * inner;
        for (int64_t j = 0; j < k; ++j) {
          const int64_t row = (o * k + j) * inner;
          for (int64_t i = i0; i < i1; ++i) {
            T* d = base + int64_t(index[row + i]) * inner + i;
            *d = Acc<T>::add(*d, sp[row + i]);
          }
        }
      }
    });
  });
  return true;
}

bool index_select(const Array& x, const int32_t* index, const Array& out, int64_t outer, int64_t n, int64_t inner,
                  int64_t k) {
  if (x.type != out.type) return false;
  with_bits(x.type, [&](auto tag) {
    using E = decltype(tag);
    const E* xp = ptr<E>(x);
    E* op = ptr<E>(out);
    parallel_for(outer * k, imax_grain(inner), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t o = r / k, j = r % k;
        memcpy(op + r * inner, xp + (o * n + index[j]) * inner, size_t(inner) * sizeof(E));
      }
    });
  });
  return true;
}

bool index_add(const Array& src, const int32_t* index, const Array& out, int64_t outer, int64_t n, int64_t inner,
               int64_t k) {
  if (src.type != out.type) return false;
  with_type(src.type, [&](auto tag) {
    using T = decltype(tag);
    const T* sp = ptr<T>(src);
    T* op = ptr<T>(out);
    const int64_t chunks = inner >= 256 ? (inner + 255) / 256 : 1;
    const int64_t cw = chunks == 1 ? inner : 256;
    parallel_for(outer * chunks, imax_grain(k * cw), [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t o = t / chunks;
        const int64_t i0 = (t % chunks) * cw, i1 = i0 + cw < inner ? i0 + cw : inner;
        for (int64_t j = 0; j < k; ++j) {
          T* d = op + (o * n + index[j]) * inner;
          const T* s = sp + (o * k + j) * inner;
          for (int64_t i = i0; i < i1; ++i) d[i] = Acc<T>::add(d[i], s[i]);
        }
      }
    });
  });
  return true;
}

bool tri(const Array& x, const Array& out, int64_t batch, int64_t rows, int64_t cols, int64_t diag, bool upper) {
  if (x.type != out.type) return false;
  with_bits(x.type, [&](auto tag) {
    using E = decltype(tag);
    const E* xp = ptr<E>(x);
    E* op = ptr<E>(out);
    parallel_for(batch * rows, imax_grain(cols), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t i = r % rows;
        const E* s = xp + r * cols;
        E* d = op + r * cols;
        // keep j - i >= diag (upper) or j - i <= diag (lower)
        int64_t lo = upper ? i + diag : 0, hi = upper ? cols : i + diag + 1;
        lo = lo < 0 ? 0 : (lo > cols ? cols : lo);
        hi = hi < 0 ? 0 : (hi > cols ? cols : hi);
        if (lo > hi) lo = hi;
        for (int64_t j = 0; j < lo; ++j) d[j] = 0;
        for (int64_t j = lo; j < hi; ++j) d[j] = s[j];
        for (int64_t j = hi; j < cols; ++j) d[j] = 0;
      }
    });
  });
  return true;
}

}  // namespace engram
