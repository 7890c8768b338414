// CPU feature detection and run-time selection of the float32 kernel table.
#include <atomic>

#include "kernels.h"

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <immintrin.h>
#include <intrin.h>
#endif

namespace engram {

const FloatKernels* float_kernels_scalar();
#if defined(__x86_64__) || defined(_M_X64)
const FloatKernels* float_kernels_avx2();
const FloatKernels* float_kernels_avx512();
#endif

namespace {

CpuFeatures detect() {
  CpuFeatures f{false, false, false};
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  // __builtin_cpu_supports also checks that the OS saves the AVX / AVX-512 register state.
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512f = __builtin_cpu_supports("avx512f");
#elif defined(_MSC_VER) && defined(_M_X64)
  int r[4];
  __cpuid(r, 0);
  const int max_leaf = r[0];
  __cpuid(r, 1);
  const bool osxsave = (r[2] >> 27) & 1;
  const bool fma = (r[2] >> 12) & 1;
  if (osxsave && max_leaf >= 7) {
    const unsigned long long xcr0 = _xgetbv(0);
    const bool ymm = (xcr0 & 0x6) == 0x6;
    const bool zmm = (xcr0 & 0xe6) == 0xe6;
    __cpuidex(r, 7, 0);
    f.avx2 = ymm && ((r[1] >> 5) & 1);
    f.fma = ymm && fma;
    f.avx512f = zmm && ((r[1] >> 16) & 1);
  }
#endif
  return f;
}

const FloatKernels* table_for(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
  if (isa == ISA_AVX512) return float_kernels_avx512();
  if (isa == ISA_AVX2) return float_kernels_avx2();
#endif
  (void)isa;
  return float_kernels_scalar();
}

std::atomic<const FloatKernels*> g_table{nullptr};
std::atomic<int> g_isa{ISA_SCALAR};

}  // namespace

CpuFeatures cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

Isa best_isa() {
#if defined(__x86_64__) || defined(_M_X64)
  const CpuFeatures f = cpu_features();
  if (f.avx512f && f.avx2 && f.fma) return ISA_AVX512;
  if (f.avx2 && f.fma) return ISA_AVX2;
#endif
  return ISA_SCALAR;
}

Isa set_isa(Isa isa) {
  const Isa best = best_isa();
  if (isa > best) isa = best;
  if (isa < ISA_SCALAR) isa = ISA_SCALAR;
  g_table.store(table_for(isa));
  g_isa.store(isa);
  return isa;
}

Isa current_isa() {
  fk();
  return Isa(g_isa.load());
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case ISA_AVX512: return "avx512";
    case ISA_AVX2: return "avx2";
    default: return "scalar";
  }
}

const FloatKernels& fk() {
  const FloatKernels* t = g_table.load(std::memory_order_relaxed);
  if (!t) {
    set_isa(best_isa());
    t = g_table.load();
  }
  return *t;
}

}  // namespace engram
