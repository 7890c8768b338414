// N-API surface of the native core: one function per method of the `Kernels` interface
// (src/backend/kernels.ts, same argument order) plus info / setGemm / setThreads / setIsa.
//
// Typed arrays are used in place (no copies). Shapes are not validated here: the TypeScript op
// layer checks every call before it reaches a kernel. What is checked is cheap and protects memory
// safety against a wrong binding: argument kinds, typed-array element types, and the structure of
// packed layouts.
#include <napi.h>

#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <string>

#include "kernels/kernels.h"
#include "kernels/layout.h"
#include "kernels/threadpool.h"

namespace {

using engram::Array;

// Bumped whenever an export's signature or semantics changes; the loader compares it.
constexpr int kAbiVersion = 8;

struct Call {
  const Napi::CallbackInfo& info;
  const char* name;
  bool failed = false;

  Call(const Napi::CallbackInfo& i, const char* n, size_t argc) : info(i), name(n) {
    if (info.Length() < argc) fail("expected " + std::to_string(argc) + " arguments");
  }

  void fail(const std::string& what) {
    if (failed) return;
    failed = true;
    Napi::TypeError::New(info.Env(), std::string("engram native ") + name + ": " + what).ThrowAsJavaScriptException();
  }

  Array array(size_t i) {
    Array a{nullptr, 0, engram::F32};
    if (failed) return a;
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    napi_value buffer;
    size_t offset;
    if (napi_get_typedarray_info(info.Env(), info[i], &type, &length, &data, &buffer, &offset) != napi_ok) {
      fail("argument " + std::to_string(i) + " must be a typed array");
      return a;
    }
    switch (type) {
      case napi_float32_array: a.type = engram::F32; break;
      case napi_float64_array: a.type = engram::F64; break;
      case napi_int32_array: a.type = engram::I32; break;
      case napi_uint8_array: a.type = engram::U8; break;
      default: fail("argument " + std::to_string(i) + " has an unsupported element type"); return a;
    }
    a.data = data;
    a.length = length;
    return a;
  }

  // A typed array or null (absent optional operand).
  bool optional(size_t i, Array* out) {
    if (failed) return false;
    if (info[i].IsNull() || info[i].IsUndefined()) return false;
    *out = array(i);
    return !failed;
  }

  const int32_t* int32s(size_t i, size_t* length) {
    Array a = array(i);
    if (failed) return nullptr;
    if (a.type != engram::I32) {
      fail("argument " + std::to_string(i) + " must be an Int32Array");
      return nullptr;
    }
    *length = a.length;
    return static_cast<const int32_t*>(a.data);
  }

  // A packed layout for `operands` operands: [ndim, shape..., strides of each operand...].
  const int32_t* layout(size_t i, int operands) {
    size_t length = 0;
    const int32_t* l = int32s(i, &length);
    if (failed) return nullptr;
    if (length < 1 || l[0] < 1 || l[0] > engram::kMaxDims || length != size_t(1 + l[0] * (1 + operands))) {
      fail("malformed layout");
      return nullptr;
    }
    for (int d = 0; d < l[0]; ++d)
      if (l[1 + d] < 0) {
        fail("malformed layout");
        return nullptr;
      }
    return l;
  }

  double number(size_t i) {
    double v = 0;
    if (!failed && napi_get_value_double(info.Env(), info[i], &v) != napi_ok) fail("argument " + std::to_string(i) + " must be a number");
    return v;
  }

  int64_t integer(size_t i) {
    int64_t v = 0;
    if (!failed && napi_get_value_int64(info.Env(), info[i], &v) != napi_ok) fail("argument " + std::to_string(i) + " must be a number");
    return v;
  }

  bool boolean(size_t i) {
    bool v = false;
    if (!failed && napi_get_value_bool(info.Env(), info[i], &v) != napi_ok) fail("argument " + std::to_string(i) + " must be a boolean");
    return v;
  }

  void done(bool ok) {
    if (!failed && !ok) fail("unsupported combination of element types");
  }
};

Napi::Value Unary(const Napi::CallbackInfo& info) {
  Call c(info, "unary", 5);
  int op = int(c.integer(0));
  Array x = c.array(1), out = c.array(2);
  double p0 = c.number(3), p1 = c.number(4);
  if (!c.failed) c.done(engram::unary(op, x, out, p0, p1));
  return info.Env().Undefined();
}

Napi::Value UnaryGrad(const Napi::CallbackInfo& info) {
  Call c(info, "unaryGrad", 7);
  int op = int(c.integer(0));
  Array x = c.array(1), y = c.array(2), dy = c.array(3), dx = c.array(4);
  double p0 = c.number(5), p1 = c.number(6);
  if (!c.failed) c.done(engram::unary_grad(op, x, y, dy, dx, p0, p1));
  return info.Env().Undefined();
}

Napi::Value Binary(const Napi::CallbackInfo& info) {
  Call c(info, "binary", 5);
  int op = int(c.integer(0));
  Array a = c.array(1), b = c.array(2), out = c.array(3);
  const int32_t* layout = c.layout(4, 2);
  if (!c.failed) c.done(engram::binary(op, a, b, out, layout));
  return info.Env().Undefined();
}

Napi::Value Where(const Napi::CallbackInfo& info) {
  Call c(info, "where", 5);
  Array cond = c.array(0), a = c.array(1), b = c.array(2), out = c.array(3);
  const int32_t* layout = c.layout(4, 3);
  if (!c.failed) c.done(engram::where(cond, a, b, out, layout));
  return info.Env().Undefined();
}

Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Call c(info, "reduce", 6);
  int op = int(c.integer(0));
  Array x = c.array(1), out = c.array(2);
  int64_t outer = c.integer(3), n = c.integer(4), inner = c.integer(5);
  if (!c.failed) c.done(engram::reduce(op, x, out, outer, n, inner));
  return info.Env().Undefined();
}

Napi::Value Matmul(const Napi::CallbackInfo& info) {
  Call c(info, "matmul", 11);
  Array a = c.array(0), b = c.array(1), out = c.array(2);
  engram::GemmArgs g;
  g.batch = c.integer(3);
  g.m = c.integer(4);
  g.n = c.integer(5);
  g.k = c.integer(6);
  g.ta = c.boolean(7);
  g.tb = c.boolean(8);
  g.sa = c.integer(9);
  g.sb = c.integer(10);
  if (c.failed) return info.Env().Undefined();
  if (a.type != engram::F32 || b.type != engram::F32 || out.type != engram::F32) {
    c.done(false);
    return info.Env().Undefined();
  }
  g.a = static_cast<const float*>(a.data);
  g.b = static_cast<const float*>(b.data);
  g.c = static_cast<float*>(out.data);
  engram::matmul_f32(g);
  return info.Env().Undefined();
}

Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Call c(info, "softmax", 5);
  Array x = c.array(0), out = c.array(1);
  int64_t outer = c.integer(2), n = c.integer(3);
  bool log = c.boolean(4);
  if (!c.failed) c.done(engram::softmax(x, out, outer, n, log));
  return info.Env().Undefined();
}

Napi::Value SoftmaxGrad(const Napi::CallbackInfo& info) {
  Call c(info, "softmaxGrad", 6);
  Array y = c.array(0), dy = c.array(1), dx = c.array(2);
  int64_t outer = c.integer(3), n = c.integer(4);
  bool log = c.boolean(5);
  if (!c.failed) c.done(engram::softmax_grad(y, dy, dx, outer, n, log));
  return info.Env().Undefined();
}

Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  Call c(info, "layerNorm", 9);
  Array x = c.array(0), gamma, beta;
  bool hasGamma = c.optional(1, &gamma), hasBeta = c.optional(2, &beta);
  Array out = c.array(3), mean = c.array(4), rstd = c.array(5);
  int64_t outer = c.integer(6), n = c.integer(7);
  double eps = c.number(8);
  if (!c.failed)
    c.done(engram::layer_norm(x, hasGamma ? &gamma : nullptr, hasBeta ? &beta : nullptr, out, mean, rstd, outer, n, eps));
  return info.Env().Undefined();
}

Napi::Value LayerNormGrad(const Napi::CallbackInfo& info) {
  Call c(info, "layerNormGrad", 10);
  Array x = c.array(0), gamma, dgamma, dbeta;
  bool hasGamma = c.optional(1, &gamma);
  Array mean = c.array(2), rstd = c.array(3), dy = c.array(4), dx = c.array(5);
  bool hasDGamma = c.optional(6, &dgamma), hasDBeta = c.optional(7, &dbeta);
  int64_t outer = c.integer(8), n = c.integer(9);
  if (!c.failed)
    c.done(engram::layer_norm_grad(x, hasGamma ? &gamma : nullptr, mean, rstd, dy, dx, hasDGamma ? &dgamma : nullptr,
                                   hasDBeta ? &dbeta : nullptr, outer, n));
  return info.Env().Undefined();
}

Napi::Value StridedCopy(const Napi::CallbackInfo& info) {
  Call c(info, "stridedCopy", 4);
  Array x = c.array(0), out = c.array(1);
  int64_t offset = c.integer(2);
  const int32_t* layout = c.layout(3, 1);
  if (!c.failed) c.done(engram::strided_copy(x, out, offset, layout));
  return info.Env().Undefined();
}

Napi::Value StridedScatter(const Napi::CallbackInfo& info) {
  Call c(info, "stridedScatter", 5);
  Array src = c.array(0), out = c.array(1);
  int64_t offset = c.integer(2);
  const int32_t* layout = c.layout(3, 1);
  bool accumulate = c.boolean(4);
  if (!c.failed) c.done(engram::strided_scatter(src, out, offset, layout, accumulate));
  return info.Env().Undefined();
}

using IndexFn = bool (*)(const Array&, const int32_t*, const Array&, int64_t, int64_t, int64_t, int64_t);

Napi::Value IndexOp(const Napi::CallbackInfo& info, const char* name, IndexFn fn) {
  Call c(info, name, 7);
  Array x = c.array(0);
  size_t nidx = 0;
  const int32_t* index = c.int32s(1, &nidx);
  Array out = c.array(2);
  int64_t outer = c.integer(3), n = c.integer(4), inner = c.integer(5), k = c.integer(6);
  if (!c.failed) c.done(fn(x, index, out, outer, n, inner, k));
  return info.Env().Undefined();
}

Napi::Value Gather(const Napi::CallbackInfo& info) { return IndexOp(info, "gather", engram::gather); }
Napi::Value ScatterAdd(const Napi::CallbackInfo& info) { return IndexOp(info, "scatterAdd", engram::scatter_add); }
Napi::Value IndexSelect(const Napi::CallbackInfo& info) { return IndexOp(info, "indexSelect", engram::index_select); }
Napi::Value IndexAdd(const Napi::CallbackInfo& info) { return IndexOp(info, "indexAdd", engram::index_add); }

Napi::Value Cast(const Napi::CallbackInfo& info) {
  Call c(info, "cast", 2);
  Array x = c.array(0), out = c.array(1);
  if (!c.failed) c.done(engram::cast(x, out));
  return info.Env().Undefined();
}

Napi::Value Tri(const Napi::CallbackInfo& info) {
  Call c(info, "tri", 7);
  Array x = c.array(0), out = c.array(1);
  int64_t batch = c.integer(2), rows = c.integer(3), cols = c.integer(4), diag = c.integer(5);
  bool upper = c.boolean(6);
  if (!c.failed) c.done(engram::tri(x, out, batch, rows, cols, diag, upper));
  return info.Env().Undefined();
}

// Checks a fused-attention geometry (header, then q/k/v/mask offsets, nb each) against the
// operands: every matrix must lie inside its buffer. Returns the geometry or null after fail().
const int32_t* sdpa_geometry(Call& c, size_t i, const Array& q, const Array& k, const Array& v, const Array* mask) {
  size_t length = 0;
  const int32_t* g = c.int32s(i, &length);
  if (c.failed) return nullptr;
  constexpr size_t kHeader = 9;
  bool ok = length >= kHeader;
  for (size_t d = 0; ok && d < kHeader; ++d) ok = g[d] >= 0 || d == 6;  // g[6]: causal shift, may be negative
  ok = ok && (g[5] == 0 || g[5] == 1) && length == kHeader + 4 * size_t(g[0]);
  if (ok) {
    const int64_t nb = g[0], lq = g[1], lk = g[2], e = g[3], ev = g[4];
    const int64_t reach[4] = {lq * e, lk * e, lk * ev,
                              mask && lq > 0 && lk > 0 ? (lq - 1) * int64_t(g[7]) + (lk - 1) * int64_t(g[8]) + 1 : 0};
    const Array* arrays[4] = {&q, &k, &v, mask};
    for (int t = 0; ok && t < 4; ++t) {
      if (reach[t] == 0) continue;
      for (int64_t b = 0; ok && b < nb; ++b) {
        const int64_t o = g[kHeader + t * nb + b];
        ok = o >= 0 && o + reach[t] <= int64_t(arrays[t]->length);
      }
    }
  }
  if (!ok) {
    c.fail("malformed attention geometry");
    return nullptr;
  }
  return g;
}

bool has_length(const Array& a, int64_t n) { return int64_t(a.length) >= n; }

Napi::Value SdpaForward(const Napi::CallbackInfo& info) {
  Call c(info, "sdpaForward", 11);
  Array q = c.array(0), k = c.array(1), v = c.array(2), mask;
  bool hasMask = c.optional(3, &mask);
  Array out = c.array(4), lse = c.array(5);
  const int32_t* g = c.failed ? nullptr : sdpa_geometry(c, 6, q, k, v, hasMask ? &mask : nullptr);
  double scale = c.number(7), dropout = c.number(8);
  int64_t s0 = c.integer(9), s1 = c.integer(10);
  if (c.failed) return info.Env().Undefined();
  if (!has_length(out, int64_t(g[0]) * g[1] * g[4]) || !has_length(lse, int64_t(g[0]) * g[1]) || !(dropout >= 0 && dropout < 1))
    c.fail("output buffers are too small or dropout is outside [0, 1)");
  if (!c.failed)
    c.done(engram::sdpa_forward(q, k, v, hasMask ? &mask : nullptr, out, lse, g, scale, dropout, uint32_t(s0), uint32_t(s1)));
  return info.Env().Undefined();
}

Napi::Value SdpaBackward(const Napi::CallbackInfo& info) {
  Call c(info, "sdpaBackward", 15);
  Array q = c.array(0), k = c.array(1), v = c.array(2), mask;
  bool hasMask = c.optional(3, &mask);
  Array out = c.array(4), dout = c.array(5), lse = c.array(6), dq = c.array(7), dk = c.array(8), dv = c.array(9);
  const int32_t* g = c.failed ? nullptr : sdpa_geometry(c, 10, q, k, v, hasMask ? &mask : nullptr);
  double scale = c.number(11), dropout = c.number(12);
  int64_t s0 = c.integer(13), s1 = c.integer(14);
  if (c.failed) return info.Env().Undefined();
  const int64_t nb = g[0], lq = g[1], lk = g[2], e = g[3], ev = g[4];
  if (!has_length(out, nb * lq * ev) || !has_length(dout, nb * lq * ev) || !has_length(lse, nb * lq) ||
      !has_length(dq, nb * lq * e) || !has_length(dk, nb * lk * e) || !has_length(dv, nb * lk * ev) ||
      !(dropout >= 0 && dropout < 1))
    c.fail("buffers are too small or dropout is outside [0, 1)");
  if (!c.failed)
    c.done(engram::sdpa_backward(q, k, v, hasMask ? &mask : nullptr, out, dout, lse, dq, dk, dv, g, scale, dropout,
                                 uint32_t(s0), uint32_t(s1)));
  return info.Env().Undefined();
}

Napi::Value LstmCell(const Napi::CallbackInfo& info) {
  Call c(info, "lstmCell", 7);
  Array gates = c.array(0), cPrev = c.array(1), h = c.array(2), cOut = c.array(3), saved;
  bool hasSaved = c.optional(4, &saved);
  int64_t batch = c.integer(5), hidden = c.integer(6);
  if (!c.failed) c.done(engram::lstm_cell(gates, cPrev, h, cOut, hasSaved ? &saved : nullptr, batch, hidden));
  return info.Env().Undefined();
}

Napi::Value LstmCellGrad(const Napi::CallbackInfo& info) {
  Call c(info, "lstmCellGrad", 8);
  Array saved = c.array(0), cPrev = c.array(1), dh, dcOut, dc;
  bool hasDh = c.optional(2, &dh), hasDcOut = c.optional(3, &dcOut);
  Array dgates = c.array(4);
  bool hasDc = c.optional(5, &dc);
  int64_t batch = c.integer(6), hidden = c.integer(7);
  if (!c.failed)
    c.done(engram::lstm_cell_grad(saved, cPrev, hasDh ? &dh : nullptr, hasDcOut ? &dcOut : nullptr, dgates,
                                  hasDc ? &dc : nullptr, batch, hidden));
  return info.Env().Undefined();
}

// ---------------------------------------------------------------- memory networks

// Sizes are non-negative and every buffer holds what they imply (the kernels index by them).
bool memory_sizes_ok(std::initializer_list<int64_t> sizes) {
  for (int64_t v : sizes)
    if (v < 0) return false;
  return true;
}

Napi::Value NtmAddressing(const Napi::CallbackInfo& info) {
  Call c(info, "ntmAddressing", 16);
  Array k = c.array(0), m = c.array(1), beta = c.array(2), gate = c.array(3), s = c.array(4), gamma = c.array(5),
        prev = c.array(6), out = c.array(7), saved;
  bool hasSaved = c.optional(8, &saved);
  int64_t b = c.integer(9), h = c.integer(10), n = c.integer(11), w = c.integer(12), sh = c.integer(13);
  double cosEps = c.number(14), sharpEps = c.number(15);
  if (c.failed) return info.Env().Undefined();
  if (!memory_sizes_ok({b, h, n, w, sh}) || n < 1 || !has_length(k, b * h * w) || !has_length(m, b * n * w) ||
      !has_length(beta, b * h) || !has_length(gate, b * h) || !has_length(s, b * h * sh) || !has_length(gamma, b * h) ||
      !has_length(prev, b * h * n) || !has_length(out, b * h * n) ||
      (hasSaved && !has_length(saved, b * h * (3 * n + 1) + b * n)))
    c.fail("buffers are too small for the sizes");
  if (!c.failed)
    c.done(engram::ntm_addressing(k, m, beta, gate, s, gamma, prev, out, hasSaved ? &saved : nullptr, b, h, n, w, sh, cosEps,
                                  sharpEps));
  return info.Env().Undefined();
}

Napi::Value NtmAddressingGrad(const Napi::CallbackInfo& info) {
  Call c(info, "ntmAddressingGrad", 23);
  Array k = c.array(0), m = c.array(1), beta = c.array(2), gate = c.array(3), s = c.array(4), gamma = c.array(5),
        prev = c.array(6), out = c.array(7), saved = c.array(8), dout = c.array(9), dk = c.array(10), dm = c.array(11),
        dbeta = c.array(12), dgate = c.array(13), ds = c.array(14), dgamma = c.array(15), dprev = c.array(16);
  int64_t b = c.integer(17), h = c.integer(18), n = c.integer(19), w = c.integer(20), sh = c.integer(21);
  double sharpEps = c.number(22);
  if (c.failed) return info.Env().Undefined();
  if (!memory_sizes_ok({b, h, n, w, sh}) || n < 1 || !has_length(k, b * h * w) || !has_length(dk, b * h * w) ||
      !has_length(m, b * n * w) || !has_length(dm, b * n * w) || !has_length(beta, b * h) || !has_length(dbeta, b * h) ||
      !has_length(gate, b * h) || !has_length(dgate, b * h) || !has_length(gamma, b * h) || !has_length(dgamma, b * h) ||
      !has_length(s, b * h * sh) || !has_length(ds, b * h * sh) || !has_length(prev, b * h * n) ||
      !has_length(dprev, b * h * n) || !has_length(out, b * h * n) || !has_length(dout, b * h * n) ||
      !has_length(saved, b * h * (3 * n + 1) + b * n))
    c.fail("buffers are too small for the sizes");
  if (!c.failed)
    c.done(engram::ntm_addressing_grad(k, m, beta, gate, s, gamma, prev, out, saved, dout, dk, dm, dbeta, dgate, ds, dgamma,
                                       dprev, b, h, n, w, sh, sharpEps));
  return info.Env().Undefined();
}

Napi::Value MemoryWrite(const Napi::CallbackInfo& info) {
  Call c(info, "memoryWrite", 9);
  Array m = c.array(0), w = c.array(1), e = c.array(2), a = c.array(3), out = c.array(4);
  int64_t b = c.integer(5), h = c.integer(6), n = c.integer(7), width = c.integer(8);
  if (c.failed) return info.Env().Undefined();
  if (!memory_sizes_ok({b, h, n, width}) || !has_length(m, b * n * width) || !has_length(out, b * n * width) ||
      !has_length(w, b * h * n) || !has_length(e, b * h * width) || !has_length(a, b * h * width))
    c.fail("buffers are too small for the sizes");
  if (!c.failed) c.done(engram::memory_write(m, w, e, a, out, b, h, n, width));
  return info.Env().Undefined();
}

Napi::Value MemoryWriteGrad(const Napi::CallbackInfo& info) {
  Call c(info, "memoryWriteGrad", 13);
  Array m = c.array(0), w = c.array(1), e = c.array(2), a = c.array(3), g = c.array(4), dm = c.array(5), dw = c.array(6),
        de = c.array(7), da = c.array(8);
  int64_t b = c.integer(9), h = c.integer(10), n = c.integer(11), width = c.integer(12);
  if (c.failed) return info.Env().Undefined();
  if (!memory_sizes_ok({b, h, n, width}) || !has_length(m, b * n * width) || !has_length(g, b * n * width) ||
      !has_length(dm, b * n * width) || !has_length(w, b * h * n) || !has_length(dw, b * h * n) ||
      !has_length(e, b * h * width) || !has_length(de, b * h * width) || !has_length(a, b * h * width) ||
      !has_length(da, b * h * width))
    c.fail("buffers are too small for the sizes");
  if (!c.failed) c.done(engram::memory_write_grad(m, w, e, a, g, dm, dw, de, da, b, h, n, width));
  return info.Env().Undefined();
}

// ---------------------------------------------------------------- additive attention scores

Napi::Value AdditiveScores(const Napi::CallbackInfo& info) {
  Call c(info, "additiveScores", 8);
  Array q = c.array(0), k = c.array(1), v = c.array(2), out = c.array(3);
  int64_t b = c.integer(4), t = c.integer(5), s = c.integer(6), h = c.integer(7);
  if (c.failed) return info.Env().Undefined();
  if (!memory_sizes_ok({b, t, s, h}) || !has_length(q, b * t * h) || !has_length(k, b * s * h) || !has_length(v, h) ||
      !has_length(out, b * t * s))
    c.fail("buffers are too small for the sizes");
  if (!c.failed) c.done(engram::additive_scores(q, k, v, out, b, t, s, h));
  return info.Env().Undefined();
}

Napi::Value AdditiveScoresGrad(const Napi::CallbackInfo& info) {
  Call c(info, "additiveScoresGrad", 11);
  Array q = c.array(0), k = c.array(1), v = c.array(2), g = c.array(3), dq, dk, dv;
  const bool hasDq = c.optional(4, &dq), hasDk = c.optional(5, &dk), hasDv = c.optional(6, &dv);
  int64_t b = c.integer(7), t = c.integer(8), s = c.integer(9), h = c.integer(10);
  if (c.failed) return info.Env().Undefined();
  if (!memory_sizes_ok({b, t, s, h}) || !has_length(q, b * t * h) || !has_length(k, b * s * h) || !has_length(v, h) ||
      !has_length(g, b * t * s) || (hasDq && !has_length(dq, b * t * h)) || (hasDk && !has_length(dk, b * s * h)) ||
      (hasDv && !has_length(dv, h)))
    c.fail("buffers are too small for the sizes");
  if (!c.failed)
    c.done(engram::additive_scores_grad(q, k, v, g, hasDq ? &dq : nullptr, hasDk ? &dk : nullptr, hasDv ? &dv : nullptr, b,
                                        t, s, h));
  return info.Env().Undefined();
}

// ---------------------------------------------------------------- recurrent cells

Napi::Value GruCell(const Napi::CallbackInfo& info) {
  Call c(info, "gruCell", 7);
  Array xp = c.array(0), hp = c.array(1), h = c.array(2), out = c.array(3), saved;
  bool hasSaved = c.optional(4, &saved);
  int64_t batch = c.integer(5), hidden = c.integer(6);
  if (!c.failed) c.done(engram::gru_cell(xp, hp, h, out, hasSaved ? &saved : nullptr, batch, hidden));
  return info.Env().Undefined();
}

Napi::Value GruCellGrad(const Napi::CallbackInfo& info) {
  Call c(info, "gruCellGrad", 8);
  Array saved = c.array(0), h = c.array(1), dout = c.array(2), dxp = c.array(3), dhp, dh;
  bool hasDhp = c.optional(4, &dhp), hasDh = c.optional(5, &dh);
  int64_t batch = c.integer(6), hidden = c.integer(7);
  if (!c.failed)
    c.done(engram::gru_cell_grad(saved, h, dout, dxp, hasDhp ? &dhp : nullptr, hasDh ? &dh : nullptr, batch, hidden));
  return info.Env().Undefined();
}

// Every id of `ids` (int32) in [0, bound).
bool ids_below(const Array& ids, int64_t n, int64_t bound) {
  const int32_t* x = static_cast<const int32_t*>(ids.data);
  for (int64_t i = 0; i < n; ++i)
    if (x[i] < 0 || x[i] >= bound) return false;
  return true;
}

Napi::Value SentenceEncode(const Napi::CallbackInfo& info) {
  Call c(info, "sentenceEncode", 9);
  Array ids = c.array(0), table = c.array(1), temporal{}, ages{}, out = c.array(4);
  const bool hasT = c.optional(2, &temporal), hasA = c.optional(3, &ages);
  int64_t rows = c.integer(5), words = c.integer(6), dim = c.integer(7);
  const int64_t encoding = c.integer(8);
  if (c.failed) return info.Env().Undefined();
  if (hasT != hasA || ids.type != engram::I32 || (hasA && ages.type != engram::I32) || !memory_sizes_ok({rows, words, dim}) ||
      dim == 0 || encoding < 0 || encoding > 2 || !has_length(ids, rows * words) || !has_length(out, rows * dim) ||
      (hasA && !has_length(ages, rows)))
    c.fail("operands do not match the sizes");
  else if (!ids_below(ids, rows * words, int64_t(table.length) / dim) ||
           (hasA && !ids_below(ages, rows, int64_t(temporal.length) / dim)))
    c.fail("an id or age is outside its table");
  if (!c.failed) c.done(engram::sentence_encode(ids, table, hasT ? &temporal : nullptr, hasA ? &ages : nullptr, out, rows, words, dim, encoding));
  return info.Env().Undefined();
}

Napi::Value SentenceEncodeGrad(const Napi::CallbackInfo& info) {
  Call c(info, "sentenceEncodeGrad", 9);
  Array ids = c.array(0), ages{}, g = c.array(2), dtable = c.array(3), dtemporal{};
  const bool hasA = c.optional(1, &ages), hasT = c.optional(4, &dtemporal);
  int64_t rows = c.integer(5), words = c.integer(6), dim = c.integer(7);
  const int64_t encoding = c.integer(8);
  if (c.failed) return info.Env().Undefined();
  if (hasT != hasA || ids.type != engram::I32 || (hasA && ages.type != engram::I32) || !memory_sizes_ok({rows, words, dim}) ||
      dim == 0 || encoding < 0 || encoding > 2 || !has_length(ids, rows * words) || !has_length(g, rows * dim) ||
      (hasA && !has_length(ages, rows)))
    c.fail("operands do not match the sizes");
  else if (!ids_below(ids, rows * words, int64_t(dtable.length) / dim) ||
           (hasA && !ids_below(ages, rows, int64_t(dtemporal.length) / dim)))
    c.fail("an id or age is outside its table");
  if (!c.failed)
    c.done(engram::sentence_encode_grad(ids, hasA ? &ages : nullptr, g, dtable, hasT ? &dtemporal : nullptr, rows, words, dim, encoding));
  return info.Env().Undefined();
}

int64_t fast_weights_saved(int64_t b, int64_t t, int64_t h) { return t * b * (2 * h + 1 + t); }

Napi::Value FastWeightsSequence(const Napi::CallbackInfo& info) {
  Call c(info, "fastWeightsSequence", 13);
  Array xp = c.array(0), w = c.array(1), gain{}, bias{}, out = c.array(4), saved{};
  const bool hasG = c.optional(2, &gain), hasB = c.optional(3, &bias), hasS = c.optional(5, &saved);
  int64_t b = c.integer(6), t = c.integer(7), h = c.integer(8);
  const double decay = c.number(9), eta = c.number(10);
  const bool relu = c.boolean(11);
  const double eps = c.number(12);
  if (c.failed) return info.Env().Undefined();
  if (hasG != hasB || !memory_sizes_ok({b, t, h}) || b * t * h > (int64_t(1) << 40) || !has_length(xp, b * t * h) ||
      !has_length(out, b * t * h) || !has_length(w, h * h) || (hasG && (!has_length(gain, h) || !has_length(bias, h))) ||
      (hasS && !has_length(saved, fast_weights_saved(b, t, h))))
    c.fail("buffers are too small for the sizes");
  if (!c.failed)
    c.done(engram::fast_weights_sequence(xp, w, hasG ? &gain : nullptr, hasB ? &bias : nullptr, out, hasS ? &saved : nullptr, b, t,
                                         h, decay, eta, relu, eps));
  return info.Env().Undefined();
}

Napi::Value FastWeightsSequenceGrad(const Napi::CallbackInfo& info) {
  Call c(info, "fastWeightsSequenceGrad", 15);
  Array w = c.array(0), gain{}, out = c.array(2), saved = c.array(3), g = c.array(4), dxp = c.array(5), dw = c.array(6), dgain{},
        dbias{};
  const bool hasG = c.optional(1, &gain), hasDG = c.optional(7, &dgain), hasDB = c.optional(8, &dbias);
  int64_t b = c.integer(9), t = c.integer(10), h = c.integer(11);
  const double decay = c.number(12), eta = c.number(13);
  const bool relu = c.boolean(14);
  if (c.failed) return info.Env().Undefined();
  if (!memory_sizes_ok({b, t, h}) || b * t * h > (int64_t(1) << 40) || !has_length(out, b * t * h) || !has_length(g, b * t * h) ||
      !has_length(dxp, b * t * h) || !has_length(w, h * h) || !has_length(dw, h * h) || (hasG && !has_length(gain, h)) ||
      (hasDG && !has_length(dgain, h)) || (hasDB && !has_length(dbias, h)) || !has_length(saved, fast_weights_saved(b, t, h)))
    c.fail("buffers are too small for the sizes");
  if (!c.failed)
    c.done(engram::fast_weights_sequence_grad(w, hasG ? &gain : nullptr, out, saved, g, dxp, dw, hasDG ? &dgain : nullptr,
                                              hasDB ? &dbias : nullptr, b, t, h, decay, eta, relu));
  return info.Env().Undefined();
}

// ---------------------------------------------------------------- optimizer updates

// The TypeScript routing checks buffer lengths too; checking here as well keeps a wrong binding
// from writing past a state buffer (the kernels run over p.length elements).
bool covers(Call& c, const Array& p, std::initializer_list<const Array*> others) {
  for (const Array* a : others)
    if (a && a->length < p.length) {
      c.fail("a buffer is shorter than the parameter");
      return false;
    }
  return !c.failed;
}

Napi::Value SgdUpdate(const Napi::CallbackInfo& info) {
  Call c(info, "sgdUpdate", 9);
  Array p = c.array(0), g = c.array(1), buf;
  bool hasBuf = c.optional(2, &buf);
  double lr = c.number(3), momentum = c.number(4), dampening = c.number(5), wd = c.number(6);
  bool nesterov = c.boolean(7), first = c.boolean(8);
  const Array* b = hasBuf ? &buf : nullptr;
  if (covers(c, p, {&g, b})) c.done(engram::sgd_update(p, g, b, lr, momentum, dampening, wd, nesterov, first));
  return info.Env().Undefined();
}

Napi::Value AdamUpdate(const Napi::CallbackInfo& info) {
  Call c(info, "adamUpdate", 13);
  Array p = c.array(0), g = c.array(1), m = c.array(2), v = c.array(3), vmax;
  bool hasMax = c.optional(4, &vmax);
  double lr = c.number(5), beta1 = c.number(6), beta2 = c.number(7), eps = c.number(8), wd = c.number(9);
  bool decoupled = c.boolean(10);
  double bc1 = c.number(11), bc2 = c.number(12);
  const Array* vm = hasMax ? &vmax : nullptr;
  if (covers(c, p, {&g, &m, &v, vm}))
    c.done(engram::adam_update(p, g, m, v, vm, lr, beta1, beta2, eps, wd, decoupled, bc1, bc2));
  return info.Env().Undefined();
}

Napi::Value RmspropUpdate(const Napi::CallbackInfo& info) {
  Call c(info, "rmspropUpdate", 10);
  Array p = c.array(0), g = c.array(1), sq = c.array(2), avg, buf;
  bool hasAvg = c.optional(3, &avg), hasBuf = c.optional(4, &buf);
  double lr = c.number(5), alpha = c.number(6), eps = c.number(7), wd = c.number(8), momentum = c.number(9);
  const Array* a = hasAvg ? &avg : nullptr;
  const Array* b = hasBuf ? &buf : nullptr;
  if (covers(c, p, {&g, &sq, a, b})) c.done(engram::rmsprop_update(p, g, sq, a, b, lr, alpha, eps, wd, momentum));
  return info.Env().Undefined();
}

Napi::Value AdagradUpdate(const Napi::CallbackInfo& info) {
  Call c(info, "adagradUpdate", 8);
  Array p = c.array(0), g = c.array(1), sum = c.array(2);
  double lr = c.number(3), lrDecay = c.number(4), wd = c.number(5), eps = c.number(6), step = c.number(7);
  if (covers(c, p, {&g, &sum})) c.done(engram::adagrad_update(p, g, sum, lr, lrDecay, wd, eps, step));
  return info.Env().Undefined();
}

// ---------------------------------------------------------------- configuration

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("blas", engram::gemm_use_blas() ? "openblas" : "builtin");
  o.Set("openblas", engram::blas_available());
  if (engram::blas_available() && engram::blas_version()[0]) o.Set("openblasVersion", engram::blas_version());
  o.Set("gemmKernel", engram::isa_name(engram::current_isa()));
  o.Set("threads", engram::pool_size());
  const engram::CpuFeatures f = engram::cpu_features();
  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("avx2", f.avx2);
  cpu.Set("fma", f.fma);
  cpu.Set("avx512f", f.avx512f);
  o.Set("cpu", cpu);
  return o;
}

bool parse_gemm(const std::string& name, bool* use_blas) {
  if (name == "openblas") *use_blas = true;
  else if (name == "builtin") *use_blas = false;
  else return false;
  return true;
}

Napi::Value SetGemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool use_blas = false;
  if (info.Length() < 1 || !info[0].IsString() || !parse_gemm(info[0].As<Napi::String>().Utf8Value(), &use_blas)) {
    Napi::TypeError::New(env, "engram native setGemm: expected \"openblas\" or \"builtin\"").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (use_blas && !engram::blas_available()) {
    Napi::Error::New(env, "engram native setGemm: this build has no OpenBLAS (the built-in GEMM is in use)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  engram::set_gemm_use_blas(use_blas);
  return env.Undefined();
}

void apply_threads(int n) {
  engram::pool_set_size(n);
  engram::blas_set_threads(engram::pool_size());
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "engram native setThreads: expected a number").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  apply_threads(info[0].As<Napi::Number>().Int32Value());
  return Napi::Number::New(env, engram::pool_size());
}

bool parse_isa(const std::string& name, engram::Isa* isa) {
  if (name == "avx512") *isa = engram::ISA_AVX512;
  else if (name == "avx2") *isa = engram::ISA_AVX2;
  else if (name == "scalar") *isa = engram::ISA_SCALAR;
  else return false;
  return true;
}

// Selects the instruction set of the float32 kernels and built-in GEMM (clamped to what the CPU
// supports); returns the one in use. For tests and benchmarks.
Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  engram::Isa isa;
  if (info.Length() < 1 || !info[0].IsString() || !parse_isa(info[0].As<Napi::String>().Utf8Value(), &isa)) {
    Napi::TypeError::New(env, "engram native setIsa: expected \"avx512\", \"avx2\" or \"scalar\"").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::String::New(env, engram::isa_name(engram::set_isa(isa)));
}

// Environment overrides, applied once per process (worker threads share the native state).
void configure_from_env() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* threads = std::getenv("ENGRAM_NUM_THREADS");
    int n = threads ? std::atoi(threads) : 0;
    if (n > 0)
      apply_threads(n);
    else
      engram::blas_set_threads(engram::pool_size());
    bool use_blas = engram::blas_available() && engram::blas_core_fits_cpu();
    const char* gemm = std::getenv("ENGRAM_GEMM");
    if (gemm) parse_gemm(gemm, &use_blas);
    engram::set_gemm_use_blas(use_blas);
    engram::Isa isa = engram::best_isa();
    const char* isa_env = std::getenv("ENGRAM_ISA");
    if (isa_env) parse_isa(isa_env, &isa);
    engram::set_isa(isa);
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  configure_from_env();
  exports.Set("unary", Napi::Function::New(env, Unary, "unary"));
  exports.Set("unaryGrad", Napi::Function::New(env, UnaryGrad, "unaryGrad"));
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
  exports.Set("where", Napi::Function::New(env, Where, "where"));
  exports.Set("reduce", Napi::Function::New(env, Reduce, "reduce"));
  exports.Set("matmul", Napi::Function::New(env, Matmul, "matmul"));
  exports.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
  exports.Set("softmaxGrad", Napi::Function::New(env, SoftmaxGrad, "softmaxGrad"));
  exports.Set("layerNorm", Napi::Function::New(env, LayerNorm, "layerNorm"));
  exports.Set("layerNormGrad", Napi::Function::New(env, LayerNormGrad, "layerNormGrad"));
  exports.Set("stridedCopy", Napi::Function::New(env, StridedCopy, "stridedCopy"));
  exports.Set("stridedScatter", Napi::Function::New(env, StridedScatter, "stridedScatter"));
  exports.Set("gather", Napi::Function::New(env, Gather, "gather"));
  exports.Set("scatterAdd", Napi::Function::New(env, ScatterAdd, "scatterAdd"));
  exports.Set("indexSelect", Napi::Function::New(env, IndexSelect, "indexSelect"));
  exports.Set("indexAdd", Napi::Function::New(env, IndexAdd, "indexAdd"));
  exports.Set("cast", Napi::Function::New(env, Cast, "cast"));
  exports.Set("tri", Napi::Function::New(env, Tri, "tri"));
  exports.Set("lstmCell", Napi::Function::New(env, LstmCell, "lstmCell"));
  exports.Set("lstmCellGrad", Napi::Function::New(env, LstmCellGrad, "lstmCellGrad"));
  exports.Set("ntmAddressing", Napi::Function::New(env, NtmAddressing, "ntmAddressing"));
  exports.Set("ntmAddressingGrad", Napi::Function::New(env, NtmAddressingGrad, "ntmAddressingGrad"));
  exports.Set("memoryWrite", Napi::Function::New(env, MemoryWrite, "memoryWrite"));
  exports.Set("memoryWriteGrad", Napi::Function::New(env, MemoryWriteGrad, "memoryWriteGrad"));
  exports.Set("gruCell", Napi::Function::New(env, GruCell, "gruCell"));
  exports.Set("gruCellGrad", Napi::Function::New(env, GruCellGrad, "gruCellGrad"));
  exports.Set("sentenceEncode", Napi::Function::New(env, SentenceEncode, "sentenceEncode"));
  exports.Set("sentenceEncodeGrad", Napi::Function::New(env, SentenceEncodeGrad, "sentenceEncodeGrad"));
  exports.Set("fastWeightsSequence", Napi::Function::New(env, FastWeightsSequence, "fastWeightsSequence"));
  exports.Set("fastWeightsSequenceGrad", Napi::Function::New(env, FastWeightsSequenceGrad, "fastWeightsSequenceGrad"));
  exports.Set("additiveScores", Napi::Function::New(env, AdditiveScores, "additiveScores"));
  exports.Set("additiveScoresGrad", Napi::Function::New(env, AdditiveScoresGrad, "additiveScoresGrad"));
  exports.Set("sdpaForward", Napi::Function::New(env, SdpaForward, "sdpaForward"));
  exports.Set("sdpaBackward", Napi::Function::New(env, SdpaBackward, "sdpaBackward"));
  exports.Set("sgdUpdate", Napi::Function::New(env, SgdUpdate, "sgdUpdate"));
  exports.Set("adamUpdate", Napi::Function::New(env, AdamUpdate, "adamUpdate"));
  exports.Set("rmspropUpdate", Napi::Function::New(env, RmspropUpdate, "rmspropUpdate"));
  exports.Set("adagradUpdate", Napi::Function::New(env, AdagradUpdate, "adagradUpdate"));
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setGemm", Napi::Function::New(env, SetGemm, "setGemm"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
  exports.Set("abiVersion", Napi::Number::New(env, kAbiVersion));
  return exports;
}

}  // namespace

NODE_API_MODULE(engram_native, Init)
