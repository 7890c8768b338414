// Op codes, mirroring UNARY_OPS / BINARY_OPS / REDUCE_OPS in src/backend/kernels.ts (same order:
// the TypeScript side passes the index into those tables).
#pragma once

namespace engram {

enum UnaryOp : int {
  U_NEG,
  U_ABS,
  U_SIGN,
  U_EXP,
  U_LOG,
  U_LOG1P,
  U_SQRT,
  U_RSQRT,
  U_SQUARE,
  U_RECIPROCAL,
  U_SIN,
  U_COS,
  U_FLOOR,
  U_CEIL,
  U_ROUND,
  U_RELU,
  U_SIGMOID,
  U_TANH,
  U_SOFTPLUS,
  U_SILU,
  U_GELU,
  U_GELU_TANH,
  U_ELU,
  U_LEAKY_RELU,
  U_ERF,
  U_CLAMP,
  U_POW_SCALAR,
  U_AFFINE,
  U_LOGICAL_NOT,
  U_IS_FINITE,
  U_COUNT
};

enum BinaryOp : int {
  B_ADD,
  B_SUB,
  B_MUL,
  B_DIV,
  B_POW,
  B_MINIMUM,
  B_MAXIMUM,
  B_EQ,
  B_NE,
  B_LT,
  B_LE,
  B_GT,
  B_GE,
  B_LOGICAL_AND,
  B_LOGICAL_OR,
  B_LOGICAL_XOR,
  B_COUNT
};

enum ReduceOp : int { R_SUM, R_MEAN, R_PROD, R_MAX, R_MIN, R_ARGMAX, R_ARGMIN, R_LOG_SUM_EXP, R_COUNT };

static inline bool binary_is_compare(int op) { return op >= B_EQ; }

}  // namespace engram
