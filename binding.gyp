{
  # The native core. Portable code is compiled for the baseline instruction set, so the addon runs
  # on any CPU of its architecture; on x86-64 the AVX2/FMA and AVX-512 kernels are compiled in
  # their own static libraries with per-target flags and chosen at run time (native/kernels/cpu.cc).
  # OpenBLAS is used for GEMM when native/detect-blas.mjs finds it (pkg-config first).
  "variables": {
    "engram_common_cflags": ["-O3", "-fno-math-errno", "-fno-trapping-math"],
  },
  "target_defaults": {
    "include_dirs": ["native/kernels"],
    "cflags": ["<@(engram_common_cflags)"],
    "cflags_cc": ["-std=c++17", "-fexceptions"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
    "cflags!": ["-O2"],
    "xcode_settings": {
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "GCC_OPTIMIZATION_LEVEL": "3",
      "OTHER_CFLAGS": ["-fno-math-errno", "-fno-trapping-math"],
      "MACOSX_DEPLOYMENT_TARGET": "11.0",
    },
    "msvs_settings": {
      "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17", "/O2"] },
    },
  },
  "targets": [
    {
      "target_name": "engram_native",
      "sources": [
        "native/addon.cc",
        "native/kernels/attention.cc",
        "native/kernels/blas.cc",
        "native/kernels/cpu.cc",
        "native/kernels/elementwise.cc",
        "native/kernels/gemm.cc",
        "native/kernels/gemm_scalar.cc",
        "native/kernels/index.cc",
        "native/kernels/memory.cc",
        "native/kernels/reduce.cc",
        "native/kernels/rnn.cc",
        "native/kernels/scratch.cc",
        "native/kernels/simd_scalar.cc",
        "native/kernels/threadpool.cc",
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "dependencies": ["engram_optim"],
      "conditions": [
        ["target_arch=='x64'", {
          "dependencies": ["engram_simd_avx2", "engram_simd_avx512"],
        }],
        # (the command sits in the condition itself: a variable set from a command is not yet
        # expanded when target conditions are evaluated)
        ["'<!(node native/detect-blas.mjs have)'=='1'", {
          "defines": ["ENGRAM_HAVE_OPENBLAS"],
          "include_dirs": ["<!@(node native/detect-blas.mjs include_dirs)"],
          "libraries": ["<!@(node native/detect-blas.mjs libraries)"],
        }],
        ["OS!='win'", {
          "libraries": ["-pthread"],
        }],
      ],
    },
    {
      # Optimizer updates reproduce the TypeScript kernels bit for bit, so no fused multiply-add
      # (compilers contract by default where the baseline instruction set has one, e.g. arm64).
      "target_name": "engram_optim",
      "type": "static_library",
      "sources": ["native/kernels/optim.cc"],
      "cflags": ["-fPIC", "-ffp-contract=off"],
      "xcode_settings": { "OTHER_CFLAGS": ["-ffp-contract=off"] },
    },
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "engram_simd_avx2",
          "type": "static_library",
          "sources": ["native/kernels/gemm_avx2.cc", "native/kernels/simd_avx2.cc"],
          "cflags": ["-fPIC", "-mavx2", "-mfma", "-ffp-contract=fast"],
          "xcode_settings": { "OTHER_CFLAGS": ["-mavx2", "-mfma", "-ffp-contract=fast"] },
          "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/arch:AVX2"] } },
        },
        {
          "target_name": "engram_simd_avx512",
          "type": "static_library",
          "sources": ["native/kernels/gemm_avx512.cc", "native/kernels/simd_avx512.cc"],
          "cflags": ["-fPIC", "-mavx512f", "-mavx2", "-mfma", "-ffp-contract=fast"],
          "xcode_settings": { "OTHER_CFLAGS": ["-mavx512f", "-mavx2", "-mfma", "-ffp-contract=fast"] },
          "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/arch:AVX512"] } },
        },
      ],
    }],
  ],
}
