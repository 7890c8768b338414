// Reduction, softmax and layer-norm entry points. float32 goes to the instruction-set table; int32
// and bool reductions accumulate in double exactly like the ts reference (and store with JS
// conversion), which keeps integer sums exact.
#include <math.h>

#include "dtype.h"
#include "jsnum.h"
#include "kernels.h"
#include "ops.h"
#include "threadpool.h"

namespace engram {
namespace {

int64_t imax_(int64_t a, int64_t b) { return a > b ? a : b; }

// One output element: x[base + r * inner] for r < n.
template <class T>
double reduce_one(int op, const T* x, int64_t n, int64_t inner) {
  switch (op) {
    case R_SUM:
    case R_MEAN: {
      double acc = 0;
      for (int64_t r = 0; r < n; ++r) acc += double(x[r * inner]);
      return op == R_MEAN ? acc / double(n) : acc;
    }
    case R_PROD: {
      double acc = 1;
      for (int64_t r = 0; r < n; ++r) acc *= double(x[r * inner]);
      return acc;
    }
    case R_MAX:
    case R_MIN: {
      const bool mx = op == R_MAX;
      double acc = mx ? -INFINITY : INFINITY;
      for (int64_t r = 0; r < n; ++r) {
        const double v = double(x[r * inner]);
        if (v != v) return v;
        if (mx ? v > acc : v < acc) acc = v;
      }
      return acc;
    }
    case R_ARGMAX:
    case R_ARGMIN: {
      const bool mx = op == R_ARGMAX;
      double best = 0;
      int64_t at = 0;
      for (int64_t r = 0; r < n; ++r) {
        const double v = double(x[r * inner]);
        if (v != v) return double(r);
        if (r == 0 || (mx ? v > best : v < best)) {
          best = v;
          at = r;
        }
      }
      return double(at);
    }
    case R_LOG_SUM_EXP: {
      double m = -INFINITY;
      for (int64_t r = 0; r < n; ++r) {
        const double v = double(x[r * inner]);
        if (v != v || m != m)
          m = NAN;  // Math.max propagates NaN
        else if (v > m)
          m = v;
      }
      if (m == -INFINITY || m != m) return m;
      if (m == INFINITY) return m;
      double s = 0;
      for (int64_t r = 0; r < n; ++r) s += exp(double(x[r * inner]) - m);
      return m + log(s);
    }
    default: return 0;
  }
}

template <class T, class Out>
void reduce_generic(int op, const T* x, Out* out, int64_t outer, int64_t n, int64_t inner) {
  parallel_for(outer * inner, imax_(1, kParallelGrain / imax_(n, 1)), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t o = t / inner, j = t % inner;
      out[t] = JsStore<Out>::from(reduce_one(op, x + o * n * inner + j, n, inner));
    }
  });
}

}  // namespace

bool reduce(int op, const Array& x, const Array& out, int64_t outer, int64_t n, int64_t inner) {
  if (op < 0 || op >= R_COUNT) return false;
  const bool arg = op == R_ARGMAX || op == R_ARGMIN;
  if (arg && out.type != I32) return false;
  if (x.type == F32) {
    if (!arg && out.type != F32) return false;
    fk().reduce(op, ptr<float>(x), out.data, outer, n, inner);
    return true;
  }
  if (x.type != I32 && x.type != U8) return false;
  if (out.type == F64) return false;
  with_type(x.type, [&](auto xtag) {
    using T = decltype(xtag);
    with_type(out.type, [&](auto otag) {
      using Out = decltype(otag);
      reduce_generic(op, ptr<T>(x), ptr<Out>(out), outer, n, inner);
    });
  });
  return true;
}

bool softmax(const Array& x, const Array& out, int64_t outer, int64_t n, bool log) {
  if (x.type != F32 || out.type != F32) return false;
  fk().softmax(ptr<float>(x), ptr<float>(out), outer, n, log);
  return true;
}

bool softmax_grad(const Array& y, const Array& dy, const Array& dx, int64_t outer, int64_t n, bool log) {
  if (y.type != F32 || dy.type != F32 || dx.type != F32) return false;
  fk().softmax_grad(ptr<float>(y), ptr<float>(dy), ptr<float>(dx), outer, n, log);
  return true;
}

static bool f32_or_null(const Array* a) { return !a || a->type == F32; }
static const float* fptr(const Array* a) { return a ? ptr<float>(*a) : nullptr; }
static float* fptr_mut(const Array* a) { return a ? ptr<float>(*a) : nullptr; }

bool layer_norm(const Array& x, const Array* gamma, const Array* beta, const Array& out, const Array& mean,
                const Array& rstd, int64_t outer, int64_t n, double eps) {
  if (x.type != F32 || out.type != F32 || mean.type != F32 || rstd.type != F32 || !f32_or_null(gamma) ||
      !f32_or_null(beta))
    return false;
  fk().layer_norm(ptr<float>(x), fptr(gamma), fptr(beta), ptr<float>(out), ptr<float>(mean), ptr<float>(rstd), outer,
                  n, eps);
  return true;
}

bool layer_norm_grad(const Array& x, const Array* gamma, const Array& mean, const Array& rstd, const Array& dy,
                     const Array& dx, const Array* dgamma, const Array* dbeta, int64_t outer, int64_t n) {
  if (x.type != F32 || mean.type != F32 || rstd.type != F32 || dy.type != F32 || dx.type != F32 ||
      !f32_or_null(gamma) || !f32_or_null(dgamma) || !f32_or_null(dbeta))
    return false;
  fk().layer_norm_grad(ptr<float>(x), fptr(gamma), ptr<float>(mean), ptr<float>(rstd), ptr<float>(dy),
                       ptr<float>(dx), fptr_mut(dgamma), fptr_mut(dbeta), outer, n);
  return true;
}

}  // namespace engram
