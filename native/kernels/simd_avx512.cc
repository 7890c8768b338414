// Float32 kernels compiled for AVX-512F (+AVX2/FMA); selected at run time by cpu.cc.
#if defined(__x86_64__) || defined(_M_X64)
#define ENGRAM_ISA_NS isa_avx512
#define ENGRAM_ISA_NAME "avx512"
#define ENGRAM_TABLE_FN float_kernels_avx512
#define ENGRAM_GEMM_FN gemm_avx512
#include "simd_table.h"
#endif
