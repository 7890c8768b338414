// The C++ kernel API called by addon.cc. No N-API in here: kernels see raw pointers, element types
// and sizes, and trust their caller (the TypeScript op layer validates every call).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace engram {

// Element type of a JS typed array.
enum DType : int { F32, F64, I32, U8, DTYPE_COUNT };

struct Array {
  void* data;
  size_t length;
  DType type;
};

struct GemmArgs {
  const float* a;
  const float* b;
  float* c;
  int64_t batch, m, n, k;
  bool ta, tb;
  int64_t sa, sb;
};

// One fused attention call (semantics: sdpaForward / sdpaBackward in src/backend/kernels.ts). The
// forward writes out and lse; the backward reads them with dout and writes dq, dk, dv. mask is null
// when absent; geom is the packed geometry (header + per-matrix offsets).
struct SdpaArgs {
  const float* q;
  const float* k;
  const float* v;
  const uint8_t* mask;
  float* out;
  float* lse;
  const float* dout;
  float* dq;
  float* dk;
  float* dv;
  const int32_t* geom;
  double scale, dropout;
  uint32_t seed0, seed1;
};

// Float32 kernels compiled once per instruction set (isa_*.cc); threaded internally.
struct FloatKernels {
  const char* name;
  void (*unary)(int op, const float* x, float* out, int64_t n, double p0, double p1);
  void (*unary_grad)(int op, const float* x, const float* y, const float* dy, float* dx, int64_t n, double p0, double p1);
  // out is float for arithmetic ops, uint8 for comparisons and logical ops.
  void (*binary)(int op, const float* a, const float* b, void* out, const int32_t* layout);
  // out is int32 for argmax/argmin, float otherwise.
  void (*reduce)(int op, const float* x, void* out, int64_t outer, int64_t n, int64_t inner);
  void (*softmax)(const float* x, float* out, int64_t outer, int64_t n, bool log);
  void (*softmax_grad)(const float* y, const float* dy, float* dx, int64_t outer, int64_t n, bool log);
  void (*layer_norm)(const float* x, const float* gamma, const float* beta, float* out, float* mean, float* rstd,
                     int64_t outer, int64_t n, double eps);
  void (*layer_norm_grad)(const float* x, const float* gamma, const float* mean, const float* rstd, const float* dy,
                          float* dx, float* dgamma, float* dbeta, int64_t outer, int64_t n);
  // LSTM cell forward / backward (semantics: lstmCell / lstmCellGrad in src/backend/ts/kernels.ts);
  // saved, dh, dc_out and dc may be null.
  void (*lstm_cell)(const float* gates, const float* c, float* h, float* c_out, float* saved, int64_t batch,
                    int64_t hidden);
  void (*lstm_cell_grad)(const float* saved, const float* c, const float* dh, const float* dc_out, float* dgates,
                         float* dc, int64_t batch, int64_t hidden);
  // GRU cell forward / backward (semantics: gruCell / gruCellGrad in src/backend/ts/kernels.ts);
  // saved, dhp and dh may be null.
  void (*gru_cell)(const float* xp, const float* hp, const float* h, float* out, float* saved, int64_t batch,
                   int64_t hidden);
  void (*gru_cell_grad)(const float* saved, const float* h, const float* dout, float* dxp, float* dhp, float* dh,
                        int64_t batch, int64_t hidden);
  // Additive attention scores forward / backward (semantics: additiveScores / additiveScoresGrad in
  // src/backend/kernels.ts); dq, dk and dv may be null. The backward returns false if its work
  // buffer could not be allocated.
  void (*additive_scores)(const float* q, const float* k, const float* v, float* out, int64_t batch, int64_t steps,
                          int64_t src, int64_t hidden);
  bool (*additive_scores_grad)(const float* q, const float* k, const float* v, const float* g, float* dq, float* dk,
                               float* dv, int64_t batch, int64_t steps, int64_t src, int64_t hidden);
  // Fused attention; false if a per-thread workspace could not be allocated.
  bool (*sdpa_forward)(const SdpaArgs& a);
  bool (*sdpa_backward)(const SdpaArgs& a);
  // The built-in GEMM (blocked, packed, register-tiled), batch and threads included.
  void (*gemm)(const GemmArgs& g);
};

// ---- instruction-set selection (cpu.cc)
enum Isa : int { ISA_SCALAR, ISA_AVX2, ISA_AVX512 };
struct CpuFeatures {
  bool avx2, fma, avx512f;
};
CpuFeatures cpu_features();
Isa best_isa();
// Selects the kernel table (clamped to what the CPU supports); returns the one in use.
Isa set_isa(Isa isa);
Isa current_isa();
const char* isa_name(Isa isa);
const FloatKernels& fk();

// ---- GEMM selection (gemm.cc, blas.cc)
bool blas_available();
const char* blas_version();  // "" when unknown
void blas_set_threads(int n);
// False when OpenBLAS runs kernels older than the CPU (a core it fell back to): the built-in GEMM is
// then the default.
bool blas_core_fits_cpu();
void blas_sgemm(const GemmArgs& g);
bool gemm_use_blas();
void set_gemm_use_blas(bool on);
void matmul_f32(const GemmArgs& g);

// ---- dtype-dispatching entry points; false means the dtype combination is not implemented.
bool unary(int op, const Array& x, const Array& out, double p0, double p1);
bool unary_grad(int op, const Array& x, const Array& y, const Array& dy, const Array& dx, double p0, double p1);
bool binary(int op, const Array& a, const Array& b, const Array& out, const int32_t* layout);
bool where(const Array& cond, const Array& a, const Array& b, const Array& out, const int32_t* layout);
bool cast(const Array& x, const Array& out);
bool reduce(int op, const Array& x, const Array& out, int64_t outer, int64_t n, int64_t inner);
bool softmax(const Array& x, const Array& out, int64_t outer, int64_t n, bool log);
bool softmax_grad(const Array& y, const Array& dy, const Array& dx, int64_t outer, int64_t n, bool log);
bool layer_norm(const Array& x, const Array* gamma, const Array* beta, const Array& out, const Array& mean,
                const Array& rstd, int64_t outer, int64_t n, double eps);
bool layer_norm_grad(const Array& x, const Array* gamma, const Array& mean, const Array& rstd, const Array& dy,
                     const Array& dx, const Array* dgamma, const Array* dbeta, int64_t outer, int64_t n);
bool strided_copy(const Array& x, const Array& out, int64_t offset, const int32_t* layout);
bool strided_scatter(const Array& src, const Array& out, int64_t offset, const int32_t* layout, bool accumulate);
bool gather(const Array& x, const int32_t* index, const Array& out, int64_t outer, int64_t n, int64_t inner, int64_t k);
bool scatter_add(const Array& src, const int32_t* index, const Array& out, int64_t outer, int64_t n, int64_t inner,
                 int64_t k);
bool index_select(const Array& x, const int32_t* index, const Array& out, int64_t outer, int64_t n, int64_t inner,
                  int64_t k);
bool index_add(const Array& src, const int32_t* index, const Array& out, int64_t outer, int64_t n, int64_t inner,
               int64_t k);
bool tri(const Array& x, const Array& out, int64_t batch, int64_t rows, int64_t cols, int64_t diag, bool upper);
// Optional operands (saved, dh, dc_out, dc) are null when absent.
bool lstm_cell(const Array& gates, const Array& c, const Array& h, const Array& c_out, const Array* saved, int64_t batch,
               int64_t hidden);
bool lstm_cell_grad(const Array& saved, const Array& c, const Array* dh, const Array* dc_out, const Array& dgates,
                    const Array* dc, int64_t batch, int64_t hidden);
bool gru_cell(const Array& xp, const Array& hp, const Array& h, const Array& out, const Array* saved, int64_t batch,
              int64_t hidden);
bool gru_cell_grad(const Array& saved, const Array& h, const Array& dout, const Array& dxp, const Array* dhp,
                   const Array* dh, int64_t batch, int64_t hidden);
// Additive attention scores (float32 only); dq, dk, dv null when absent. Sizes checked by the caller.
bool additive_scores(const Array& q, const Array& k, const Array& v, const Array& out, int64_t batch, int64_t steps,
                     int64_t src, int64_t hidden);
bool additive_scores_grad(const Array& q, const Array& k, const Array& v, const Array& g, const Array* dq,
                          const Array* dk, const Array* dv, int64_t batch, int64_t steps, int64_t src, int64_t hidden);
// Fused attention: q, k, v, out, lse (and dout, dq, dk, dv) float32, mask uint8 or null. The
// geometry and buffer reaches are checked by the caller (addon.cc).
bool sdpa_forward(const Array& q, const Array& k, const Array& v, const Array* mask, const Array& out, const Array& lse,
                  const int32_t* geom, double scale, double dropout, uint32_t seed0, uint32_t seed1);
bool sdpa_backward(const Array& q, const Array& k, const Array& v, const Array* mask, const Array& out,
                   const Array& dout, const Array& lse, const Array& dq, const Array& dk, const Array& dv,
                   const int32_t* geom, double scale, double dropout, uint32_t seed0, uint32_t seed1);

// ---- memory networks (memory.cc), float32 only; sizes checked by the caller (addon.cc).
bool ntm_addressing(const Array& k, const Array& m, const Array& beta, const Array& gate, const Array& s, const Array& gamma,
                    const Array& prev, const Array& out, const Array* saved, int64_t batch, int64_t heads, int64_t slots,
                    int64_t width, int64_t shifts, double cos_eps, double sharp_eps);
bool ntm_addressing_grad(const Array& k, const Array& m, const Array& beta, const Array& gate, const Array& s,
                         const Array& gamma, const Array& prev, const Array& out, const Array& saved, const Array& dout,
                         const Array& dk, const Array& dm, const Array& dbeta, const Array& dgate, const Array& ds,
                         const Array& dgamma, const Array& dprev, int64_t batch, int64_t heads, int64_t slots,
                         int64_t width, int64_t shifts, double sharp_eps);
bool memory_write(const Array& m, const Array& w, const Array& e, const Array& a, const Array& out, int64_t batch,
                  int64_t heads, int64_t n, int64_t width);
bool memory_write_grad(const Array& m, const Array& w, const Array& e, const Array& a, const Array& g, const Array& dm,
                       const Array& dw, const Array& de, const Array& da, int64_t batch, int64_t heads, int64_t n,
                       int64_t width);
// MemN2N sentence encoding (ids, ages int32; the rest float32; temporal and ages null together when
// absent); ids and ages in range: the caller checks.
bool sentence_encode(const Array& ids, const Array& table, const Array* temporal, const Array* ages, const Array& out,
                     int64_t rows, int64_t words, int64_t dim, int64_t encoding);
bool sentence_encode_grad(const Array& ids, const Array* ages, const Array& g, const Array& dtable, const Array* dtemporal,
                          int64_t rows, int64_t words, int64_t dim, int64_t encoding);
// Fast-weights recurrence over a sequence (attention form, one inner step); gain and bias null without
// layer norm, saved null when no backward follows.
bool fast_weights_sequence(const Array& xp, const Array& w, const Array* gain, const Array* bias, const Array& out,
                           const Array* saved, int64_t batch, int64_t steps, int64_t hidden, double decay, double eta,
                           bool relu, double eps);
bool fast_weights_sequence_grad(const Array& w, const Array* gain, const Array& out, const Array& saved, const Array& g,
                                const Array& dxp, const Array& dw, const Array* dgain, const Array* dbias, int64_t batch,
                                int64_t steps, int64_t hidden, double decay, double eta, bool relu);

// ---- optimizer updates (optim.cc), float32 only, in place over p.length elements; every other
// buffer must hold at least that many. Optional state buffers are null when absent.
bool sgd_update(const Array& p, const Array& g, const Array* buf, double lr, double momentum, double dampening,
                double wd, bool nesterov, bool first_step);
bool adam_update(const Array& p, const Array& g, const Array& m, const Array& v, const Array* vmax, double lr,
                 double beta1, double beta2, double eps, double wd, bool decoupled, double bias_correction1,
                 double bias_correction2);
bool rmsprop_update(const Array& p, const Array& g, const Array& sq, const Array* avg_g, const Array* buf, double lr,
                    double alpha, double eps, double wd, double momentum);
bool adagrad_update(const Array& p, const Array& g, const Array& sum, double lr, double lr_decay, double wd, double eps,
                    double step);

}  // namespace engram
