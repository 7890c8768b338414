// Fused attention and additive-score entry points: float32 goes to the instruction-set table; other element types are
// not implemented here (the TypeScript routing sends them to the ts kernels).
#include <initializer_list>

#include "dtype.h"
#include "kernels.h"

namespace engram {

static bool all_f32(std::initializer_list<const Array*> arrays) {
  for (const Array* a : arrays)
    if (a->type != F32) return false;
  return true;
}

static float* fptr(const Array* a) { return a ? ptr<float>(*a) : nullptr; }

bool additive_scores(const Array& q, const Array& k, const Array& v, const Array& out, int64_t batch, int64_t steps,
                     int64_t src, int64_t hidden) {
  if (!all_f32({&q, &k, &v, &out})) return false;
  fk().additive_scores(ptr<float>(q), ptr<float>(k), ptr<float>(v), ptr<float>(out), batch, steps, src, hidden);
  return true;
}

bool additive_scores_grad(const Array& q, const Array& k, const Array& v, const Array& g, const Array* dq,
                          const Array* dk, const Array* dv, int64_t batch, int64_t steps, int64_t src, int64_t hidden) {
  if (!all_f32({&q, &k, &v, &g}) || (dq && dq->type != F32) || (dk && dk->type != F32) || (dv && dv->type != F32))
    return false;
  return fk().additive_scores_grad(ptr<float>(q), ptr<float>(k), ptr<float>(v), ptr<float>(g), fptr(dq), fptr(dk),
                                   fptr(dv), batch, steps, src, hidden);
}

bool sdpa_forward(const Array& q, const Array& k, const Array& v, const Array* mask, const Array& out, const Array& lse,
                  const int32_t* geom, double scale, double dropout, uint32_t seed0, uint32_t seed1) {
  if (!all_f32({&q, &k, &v, &out, &lse}) || (mask && mask->type != U8)) return false;
  SdpaArgs a{ptr<float>(q), ptr<float>(k), ptr<float>(v), mask ? ptr<uint8_t>(*mask) : nullptr,
             ptr<float>(out), ptr<float>(lse), nullptr, nullptr, nullptr, nullptr, geom, scale, dropout, seed0, seed1};
  return fk().sdpa_forward(a);
}

bool sdpa_backward(const Array& q, const Array& k, const Array& v, const Array* mask, const Array& out,
                   const Array& dout, const Array& lse, const Array& dq, const Array& dk, const Array& dv,
                   const int32_t* geom, double scale, double dropout, uint32_t seed0, uint32_t seed1) {
  if (!all_f32({&q, &k, &v, &out, &dout, &lse, &dq, &dk, &dv}) || (mask && mask->type != U8)) return false;
  SdpaArgs a{ptr<float>(q), ptr<float>(k), ptr<float>(v), mask ? ptr<uint8_t>(*mask) : nullptr,
             ptr<float>(out), ptr<float>(lse), ptr<float>(dout), ptr<float>(dq), ptr<float>(dk), ptr<float>(dv),
             geom, scale, dropout, seed0, seed1};
  return fk().sdpa_backward(a);
}

}  // namespace engram
