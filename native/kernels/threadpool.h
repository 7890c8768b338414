// A small persistent thread pool. The calling thread always takes part (as thread 0), so a pool of
// size n owns n - 1 workers. Workers spin briefly after a job (ops arrive back to back in a training
// loop) and then sleep on a condition variable.
//
// Nested calls (from inside a job) and calls made while another thread holds the pool run serially
// on the caller, so every job function must be correct for any thread count, including 1.
#pragma once

#include <cstdint>

namespace engram {

// fn(ctx, tid, nthreads) runs once for every tid in [0, nthreads).
using PoolFn = void (*)(void* ctx, int tid, int nthreads);

int pool_size();
// Clamped to [1, 64]. Must not be called concurrently with a running job from another thread
// (it waits for the pool to be free).
void pool_set_size(int n);
// Runs fn on min(want, pool_size()) threads and returns when all of them have finished.
void pool_run(int want, PoolFn fn, void* ctx);

// Everything defined in this header has internal linkage (static): it is included by translation
// units compiled for different instruction sets, which must not share inline symbols.

// Work below this many elements stays on one thread (elementwise kernels on cheap ops).
constexpr int64_t kParallelGrain = 32768;

// Static contiguous split of [0, n) into at most pool_size() chunks of at least `grain` items.
template <class F>
static inline void parallel_for(int64_t n, int64_t grain, const F& f) {
  if (grain < 1) grain = 1;
  int64_t want = n / grain;
  int size = pool_size();
  if (want > size) want = size;
  if (want <= 1) {
    if (n > 0) f(int64_t(0), n);
    return;
  }
  struct Ctx {
    const F* f;
    int64_t n;
  } ctx{&f, n};
  pool_run(
      int(want),
      [](void* c, int tid, int nt) {
        const Ctx* x = static_cast<const Ctx*>(c);
        int64_t b = x->n * tid / nt;
        int64_t e = x->n * (tid + 1) / nt;
        if (b < e) (*x->f)(b, e);
      },
      &ctx);
}

// Runs f(tid, nthreads) on up to `want` threads.
template <class F>
static inline void parallel_run(int want, const F& f) {
  if (want <= 1 || pool_size() <= 1) {
    f(0, 1);
    return;
  }
  pool_run(
      want, [](void* c, int tid, int nt) { (*static_cast<const F*>(c))(tid, nt); }, const_cast<F*>(&f));
}

}  // namespace engram
