// Fused float32 optimizer updates (semantics: sgdUpdate / adamUpdate / rmspropUpdate / adagradUpdate
// in src/backend/ts/kernels.ts). Each is one in-place pass over the parameter and its state.
//
// They reproduce the ts kernels bit for bit: intermediates are doubles (JS numbers), p and every
// state buffer round to float once, in the same order, and each expression keeps the ts evaluation
// order. That is why this file is built in its own target with -ffp-contract=off (a fused
// multiply-add rounds once where JS rounds twice) and at the baseline instruction set. Optional
// operands and zero coefficients are template flags, so the loops are branch-free and vectorise.
#include <cmath>

#include "kernels.h"
#include "threadpool.h"

namespace engram {
namespace {

// Elements per thread: an update is a few flops and 20-28 bytes of traffic per element, so only
// large parameters are worth waking the pool for.
constexpr int64_t kOptimGrain = 65536;

// Calls f(std::integral_constant-like flag) with `b` lifted to a compile-time bool.
template <bool B>
struct Flag {
  static constexpr bool value = B;
};
template <class F>
static inline void lift(bool b, const F& f) {
  if (b)
    f(Flag<true>{});
  else
    f(Flag<false>{});
}

struct SgdArgs {
  float* p;
  const float* g;
  float* buf;
  double lr, momentum, wd, keep, add;
};

template <bool WD, bool Mom, bool Nesterov>
static void sgd_range(const SgdArgs& a, int64_t b, int64_t e) {
  float* __restrict p = a.p;
  const float* __restrict g = a.g;
  float* __restrict buf = a.buf;
  const double lr = a.lr, momentum = a.momentum, wd = a.wd, keep = a.keep, add = a.add;
  for (int64_t i = b; i < e; ++i) {
    const double d = WD ? double(g[i]) + wd * double(p[i]) : double(g[i]);
    if (!Mom) {
      p[i] = float(double(p[i]) - lr * d);
    } else {
      const float bi = float(keep * double(buf[i]) + add * d);
      buf[i] = bi;
      p[i] = float(double(p[i]) - lr * (Nesterov ? d + momentum * double(bi) : double(bi)));
    }
  }
}

struct AdamArgs {
  float* p;
  const float* g;
  float *m, *v, *vmax;
  double beta1, beta2, eps, step_size, bc2_sqrt, l2, decay;
};

template <bool L2, bool Decay, bool Ams>
static void adam_range(const AdamArgs& a, int64_t b, int64_t e) {
  float* __restrict p = a.p;
  const float* __restrict g = a.g;
  float* __restrict m = a.m;
  float* __restrict v = a.v;
  float* __restrict vmax = a.vmax;
  const double beta1 = a.beta1, beta2 = a.beta2, eps = a.eps, step_size = a.step_size, bc2_sqrt = a.bc2_sqrt;
  const double l2 = a.l2, decay = a.decay;
  for (int64_t i = b; i < e; ++i) {
    float pi = p[i];
    if (Decay) pi = float(double(pi) * decay);
    const double gi = L2 ? double(g[i]) + l2 * double(pi) : double(g[i]);
    const float mi = float(double(m[i]) * beta1 + (1 - beta1) * gi);
    float vi = float(double(v[i]) * beta2 + (1 - beta2) * gi * gi);
    m[i] = mi;
    v[i] = vi;
    if (Ams) {
      // torch.maximum propagates NaN
      const float vm = vmax[i];
      vi = (vi > vm || vi != vi) ? vi : vm;
      vmax[i] = vi;
    }
    const double denom = std::sqrt(double(vi)) / bc2_sqrt + eps;
    p[i] = float(double(pi) + -step_size * (double(mi) / denom));
  }
}

struct RmspropArgs {
  float* p;
  const float* g;
  float *sq, *avg_g, *buf;
  double lr, alpha, eps, wd, momentum;
};

template <bool WD, bool Centered, bool Mom>
static void rmsprop_range(const RmspropArgs& a, int64_t b, int64_t e) {
  float* __restrict p = a.p;
  const float* __restrict g = a.g;
  float* __restrict sq = a.sq;
  float* __restrict avg_g = a.avg_g;
  float* __restrict buf = a.buf;
  const double lr = a.lr, alpha = a.alpha, eps = a.eps, wd = a.wd, momentum = a.momentum;
  for (int64_t i = b; i < e; ++i) {
    const double gi = WD ? double(g[i]) + wd * double(p[i]) : double(g[i]);
    const float si = float(double(sq[i]) * alpha + (1 - alpha) * gi * gi);
    sq[i] = si;
    double avg;
    if (Centered) {
      const float ai = float(double(avg_g[i]) * alpha + (1 - alpha) * gi);
      avg_g[i] = ai;
      avg = std::sqrt(double(si) - double(ai) * double(ai)) + eps;
    } else {
      avg = std::sqrt(double(si)) + eps;
    }
    if (Mom) {
      const float bi = float(double(buf[i]) * momentum + gi / avg);
      buf[i] = bi;
      p[i] = float(double(p[i]) - lr * double(bi));
    } else {
      p[i] = float(double(p[i]) + -lr * (gi / avg));
    }
  }
}

struct AdagradArgs {
  float* p;
  const float* g;
  float* sum;
  double clr, wd, eps;
};

template <bool WD>
static void adagrad_range(const AdagradArgs& a, int64_t b, int64_t e) {
  float* __restrict p = a.p;
  const float* __restrict g = a.g;
  float* __restrict sum = a.sum;
  const double clr = a.clr, wd = a.wd, eps = a.eps;
  for (int64_t i = b; i < e; ++i) {
    const double gi = WD ? double(g[i]) + wd * double(p[i]) : double(g[i]);
    const float si = float(double(sum[i]) + gi * gi);
    sum[i] = si;
    p[i] = float(double(p[i]) + -clr * (gi / (std::sqrt(double(si)) + eps)));
  }
}

template <class Args, class Range>
static void run(int64_t n, const Args& a, Range range) {
  parallel_for(n, kOptimGrain, [&](int64_t b, int64_t e) { range(a, b, e); });
}

static bool f32(const Array* a) { return !a || a->type == F32; }
static float* fptr(const Array* a) { return a ? static_cast<float*>(a->data) : nullptr; }

}  // namespace

bool sgd_update(const Array& p, const Array& g, const Array* buf, double lr, double momentum, double dampening,
                double wd, bool nesterov, bool first_step) {
  if (p.type != F32 || g.type != F32 || !f32(buf)) return false;
  const SgdArgs a{static_cast<float*>(p.data), static_cast<const float*>(g.data), fptr(buf), lr, momentum, wd,
                  first_step ? 0.0 : momentum, first_step ? 1.0 : 1 - dampening};
  const int64_t n = int64_t(p.length);
  lift(wd != 0, [&](auto w) {
    if (!buf) return run(n, a, sgd_range<decltype(w)::value, false, false>);
    lift(nesterov, [&](auto nest) { run(n, a, sgd_range<decltype(w)::value, true, decltype(nest)::value>); });
  });
  return true;
}

bool adam_update(const Array& p, const Array& g, const Array& m, const Array& v, const Array* vmax, double lr,
                 double beta1, double beta2, double eps, double wd, bool decoupled, double bias_correction1,
                 double bias_correction2) {
  if (p.type != F32 || g.type != F32 || m.type != F32 || v.type != F32 || !f32(vmax)) return false;
  const double l2 = decoupled ? 0 : wd;
  const double decay = decoupled ? 1 - lr * wd : 1;
  const AdamArgs a{static_cast<float*>(p.data),
                   static_cast<const float*>(g.data),
                   static_cast<float*>(m.data),
                   static_cast<float*>(v.data),
                   fptr(vmax),
                   beta1,
                   beta2,
                   eps,
                   lr / bias_correction1,
                   std::sqrt(bias_correction2),
                   l2,
                   decay};
  const int64_t n = int64_t(p.length);
  lift(l2 != 0, [&](auto l) {
    lift(decay != 1, [&](auto d) {
      lift(vmax != nullptr,
           [&](auto ams) { run(n, a, adam_range<decltype(l)::value, decltype(d)::value, decltype(ams)::value>); });
    });
  });
  return true;
}

bool rmsprop_update(const Array& p, const Array& g, const Array& sq, const Array* avg_g, const Array* buf, double lr,
                    double alpha, double eps, double wd, double momentum) {
  if (p.type != F32 || g.type != F32 || sq.type != F32 || !f32(avg_g) || !f32(buf)) return false;
  const RmspropArgs a{static_cast<float*>(p.data), static_cast<const float*>(g.data), static_cast<float*>(sq.data),
                      fptr(avg_g), fptr(buf), lr, alpha, eps, wd, momentum};
  const int64_t n = int64_t(p.length);
  lift(wd != 0, [&](auto w) {
    lift(avg_g != nullptr, [&](auto c) {
      lift(buf != nullptr,
           [&](auto mom) { run(n, a, rmsprop_range<decltype(w)::value, decltype(c)::value, decltype(mom)::value>); });
    });
  });
  return true;
}

bool adagrad_update(const Array& p, const Array& g, const Array& sum, double lr, double lr_decay, double wd, double eps,
                    double step) {
  if (p.type != F32 || g.type != F32 || sum.type != F32) return false;
  const AdagradArgs a{static_cast<float*>(p.data), static_cast<const float*>(g.data), static_cast<float*>(sum.data),
                      lr / (1 + (step - 1) * lr_decay), wd, eps};
  const int64_t n = int64_t(p.length);
  lift(wd != 0, [&](auto w) { run(n, a, adagrad_range<decltype(w)::value>); });
  return true;
}

}  // namespace engram
