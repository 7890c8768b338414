// Float32 kernels for the baseline instruction set (any CPU the addon runs on).
#define ENGRAM_ISA_NS isa_scalar
#define ENGRAM_ISA_NAME "scalar"
#define ENGRAM_TABLE_FN float_kernels_scalar
#define ENGRAM_GEMM_FN gemm_scalar
#include "simd_table.h"
