// Builds the FloatKernels table of one instruction set. Included by simd_<isa>.cc after it defines
// ENGRAM_ISA_NS, ENGRAM_ISA_NAME (string), ENGRAM_TABLE_FN and ENGRAM_GEMM_FN (function names).
#pragma once

#include "additive_impl.h"
#include "binary_impl.h"
#include "kernels.h"
#include "norm_impl.h"
#include "reduce_impl.h"
#include "rnn_impl.h"
#include "sdpa_impl.h"
#include "unary_impl.h"

namespace engram {

void ENGRAM_GEMM_FN(const GemmArgs& g);

const FloatKernels* ENGRAM_TABLE_FN() {
  static const FloatKernels table = {
      ENGRAM_ISA_NAME,
      ENGRAM_ISA_NS::unary_f32,
      ENGRAM_ISA_NS::unary_grad_f32,
      ENGRAM_ISA_NS::binary_f32,
      ENGRAM_ISA_NS::reduce_f32,
      ENGRAM_ISA_NS::softmax_f32,
      ENGRAM_ISA_NS::softmax_grad_f32,
      ENGRAM_ISA_NS::layer_norm_f32,
      ENGRAM_ISA_NS::layer_norm_grad_f32,
      ENGRAM_ISA_NS::lstm_cell_f32,
      ENGRAM_ISA_NS::lstm_cell_grad_f32,
      ENGRAM_ISA_NS::gru_cell_f32,
      ENGRAM_ISA_NS::gru_cell_grad_f32,
      ENGRAM_ISA_NS::additive_scores_f32,
      ENGRAM_ISA_NS::additive_scores_grad_f32,
      ENGRAM_ISA_NS::sdpa_forward_f32,
      ENGRAM_ISA_NS::sdpa_backward_f32,
      ENGRAM_GEMM_FN,
  };
  return &table;
}

}  // namespace engram
