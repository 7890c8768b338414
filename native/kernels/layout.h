// Walking a packed broadcast layout ([ndim, shape..., strides of operand 0..., operand 1...]) over a
// contiguous range of output indices. The innermost axis is handed to `row` as one run, so the
// caller's loop over it can be specialised for stride 1 / stride 0 and vectorised.
#pragma once

#include <stdint.h>

namespace engram {

// addon.cc rejects layouts with more axes than this.
constexpr int kMaxDims = 64;

// row(i, offsets, len): output elements [i, i + len) read operand k at offsets[k] + t * inner_stride[k].
template <int NOps, class Row>
static inline void for_each_run(const int32_t* layout, int64_t begin, int64_t end, const Row& row) {
  const int nd = layout[0];
  const int32_t* shape = layout + 1;
  const int64_t inner = shape[nd - 1];
  if (begin >= end || inner <= 0) return;
  int64_t idx[kMaxDims];
  int64_t off[NOps];
  for (int k = 0; k < NOps; ++k) off[k] = 0;
  int64_t rem = begin;
  for (int d = nd - 1; d >= 0; --d) {
    idx[d] = rem % shape[d];
    rem /= shape[d];
    for (int k = 0; k < NOps; ++k) off[k] += idx[d] * layout[1 + nd * (k + 1) + d];
  }
  int64_t i = begin;
  while (i < end) {
    int64_t len = inner - idx[nd - 1];
    if (len > end - i) len = end - i;
    row(i, off, len);
    i += len;
    if (i >= end) break;
    // the run ended at the end of the innermost axis: move to the next row
    for (int k = 0; k < NOps; ++k) off[k] -= idx[nd - 1] * layout[1 + nd * (k + 1) + nd - 1];
    idx[nd - 1] = 0;
    for (int d = nd - 2; d >= 0; --d) {
      ++idx[d];
      for (int k = 0; k < NOps; ++k) off[k] += layout[1 + nd * (k + 1) + d];
      if (idx[d] < shape[d]) break;
      for (int k = 0; k < NOps; ++k) off[k] -= int64_t(shape[d]) * layout[1 + nd * (k + 1) + d];
      idx[d] = 0;
    }
  }
}

static inline int64_t layout_total(const int32_t* layout) {
  int64_t total = 1;
  for (int d = 0; d < layout[0]; ++d) total *= layout[1 + d];
  return total;
}

}  // namespace engram
