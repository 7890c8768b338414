// Recurrent-cell entry points: float32 goes to the instruction-set table; other element types are
// not implemented here (the TypeScript routing sends them to the ts kernels).
#include "dtype.h"
#include "kernels.h"

namespace engram {

static bool f32(const Array* a) { return !a || a->type == F32; }
static float* fptr(const Array* a) { return a ? ptr<float>(*a) : nullptr; }

bool lstm_cell(const Array& gates, const Array& c, const Array& h, const Array& c_out, const Array* saved, int64_t batch,
               int64_t hidden) {
  if (gates.type != F32 || c.type != F32 || h.type != F32 || c_out.type != F32 || !f32(saved)) return false;
  fk().lstm_cell(ptr<float>(gates), ptr<float>(c), ptr<float>(h), ptr<float>(c_out), fptr(saved), batch, hidden);
  return true;
}

bool lstm_cell_grad(const Array& saved, const Array& c, const Array* dh, const Array* dc_out, const Array& dgates,
                    const Array* dc, int64_t batch, int64_t hidden) {
  if (saved.type != F32 || c.type != F32 || dgates.type != F32 || !f32(dh) || !f32(dc_out) || !f32(dc)) return false;
  fk().lstm_cell_grad(ptr<float>(saved), ptr<float>(c), fptr(dh), fptr(dc_out), ptr<float>(dgates), fptr(dc), batch,
                      hidden);
  return true;
}

bool gru_cell(const Array& xp, const Array& hp, const Array& h, const Array& out, const Array* saved, int64_t batch,
              int64_t hidden) {
  if (xp.type != F32 || hp.type != F32 || h.type != F32 || out.type != F32 || !f32(saved)) return false;
  fk().gru_cell(ptr<float>(xp), ptr<float>(hp), ptr<float>(h), ptr<float>(out), fptr(saved), batch, hidden);
  return true;
}

bool gru_cell_grad(const Array& saved, const Array& h, const Array& dout, const Array& dxp, const Array* dhp,
                   const Array* dh, int64_t batch, int64_t hidden) {
  if (saved.type != F32 || h.type != F32 || dout.type != F32 || dxp.type != F32 || !f32(dhp) || !f32(dh)) return false;
  fk().gru_cell_grad(ptr<float>(saved), ptr<float>(h), ptr<float>(dout), ptr<float>(dxp), fptr(dhp), fptr(dh), batch,
                     hidden);
  return true;
}

}  // namespace engram
