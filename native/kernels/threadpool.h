// A small persistent thread pool. The calling thread always takes part (as thread 0), so a pool of
// size n owns n - 1 workers. Workers spin briefly after a job (ops arrive back to back in a training
// loop) and then sleep on a condition variable.
//
// A job is split into a fixed number of shares; each share is run by whichever thread claims it
// first, and the caller runs every share no worker has claimed. A worker that is asleep or
// descheduled therefore never delays a job, and results never depend on which thread ran a share.
// Waking a sleeping worker costs the caller a system call (tens of microseconds on a virtual
// machine) and the worker arrives later still, so small jobs do not wake sleepers: they run on
// whatever workers are awake, or entirely on the caller.
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
// Runs fn for every tid in [0, min(want, pool_size())) and returns when all have finished. `wake`:
// whether the job is large enough to wake sleeping workers (see kWakeGrains).
void pool_run(int want, PoolFn fn, void* ctx, bool wake);

// Everything defined in this header has internal linkage (static): it is included by translation
// units compiled for different instruction sets, which must not share inline symbols.

// Work below this many elements stays on one thread (elementwise kernels on cheap ops).
constexpr int64_t kParallelGrain = 32768;

// A job of at least this many grains (a grain is the least work worth a thread of its own, a few
// microseconds) wakes sleeping workers; smaller ones only use workers that are already awake.
constexpr int64_t kWakeGrains = 64;

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
      &ctx, n / grain >= kWakeGrains);
}

// Runs f(tid, nthreads) for every tid in [0, nthreads), nthreads <= `want`; `grains`: the job's size
// in grains (see kWakeGrains).
template <class F>
static inline void parallel_run(int want, int64_t grains, const F& f) {
  if (want <= 1 || pool_size() <= 1) {
    f(0, 1);
    return;
  }
  pool_run(
      want, [](void* c, int tid, int nt) { (*static_cast<const F*>(c))(tid, nt); }, const_cast<F*>(&f),
      grains >= kWakeGrains);
}

}  // namespace engram
