#include "threadpool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#define ENGRAM_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define ENGRAM_RELAX() __asm__ __volatile__("yield")
#else
#define ENGRAM_RELAX() ((void)0)
#endif

namespace engram {
namespace {

// How long an idle worker spins before it sleeps.
constexpr auto kSpin = std::chrono::microseconds(100);

struct Pool {
  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable cv;
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};
  std::atomic<int> sleepers{0};
  std::atomic<bool> busy{false};
  bool stop = false;
  // The current job; written by the owner before `generation` is bumped, stable until `pending` is 0.
  PoolFn fn = nullptr;
  void* ctx = nullptr;
  int nthreads = 1;
  std::atomic<int> size{1};
};

// Never destroyed: worker threads may still be parked when the process exits.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

thread_local bool t_in_job = false;

// `seen` is the generation at creation time: a worker that starts late must still see every job
// (including the stop request) published after it was created.
void worker_main(Pool* p, int tid, uint64_t seen) {
  t_in_job = true;  // nested parallel calls from a job run serially
  for (;;) {
    uint64_t g = p->generation.load(std::memory_order_acquire);
    if (g == seen) {
      auto start = std::chrono::steady_clock::now();
      unsigned spins = 0;
      while ((g = p->generation.load(std::memory_order_acquire)) == seen) {
        ENGRAM_RELAX();
        if ((++spins & 255) == 0 && std::chrono::steady_clock::now() - start > kSpin) {
          std::unique_lock<std::mutex> lock(p->mutex);
          p->sleepers.fetch_add(1);
          p->cv.wait(lock, [&] { return p->generation.load(std::memory_order_acquire) != seen; });
          p->sleepers.fetch_sub(1);
          g = p->generation.load(std::memory_order_acquire);
          break;
        }
      }
    }
    seen = g;
    if (p->stop) return;
    if (tid < p->nthreads) p->fn(p->ctx, tid, p->nthreads);
    p->pending.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void acquire(Pool& p) {
  bool expected = false;
  while (!p.busy.compare_exchange_weak(expected, true, std::memory_order_acquire)) {
    expected = false;
    std::this_thread::yield();
  }
}

void publish(Pool& p) {
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    p.generation.fetch_add(1, std::memory_order_release);
  }
  if (p.sleepers.load() > 0) p.cv.notify_all();
}

void wait_done(Pool& p) {
  unsigned spins = 0;
  while (p.pending.load(std::memory_order_acquire) != 0) {
    ENGRAM_RELAX();
    if (++spins > 4096) std::this_thread::yield();
  }
}

void stop_workers(Pool& p) {
  if (p.workers.empty()) return;
  p.stop = true;
  p.pending.store(int(p.workers.size()), std::memory_order_relaxed);
  publish(p);
  for (auto& t : p.workers) t.join();
  p.workers.clear();
  p.stop = false;
}

int initial_size() {
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : int(hw);
}

struct Init {
  Init() {
    // ENGRAM_NUM_THREADS is applied by the addon at load time; start with the hardware default.
    pool_set_size(initial_size());
  }
};

}  // namespace

int pool_size() { return pool().size.load(std::memory_order_relaxed); }

void pool_set_size(int n) {
  if (n < 1) n = 1;
  if (n > 64) n = 64;
  Pool& p = pool();
  acquire(p);
  if (n != int(p.workers.size()) + 1) {
    stop_workers(p);
    try {
      const uint64_t gen = p.generation.load(std::memory_order_acquire);
      for (int tid = 1; tid < n; ++tid) p.workers.emplace_back(worker_main, &p, tid, gen);
    } catch (...) {
      // Could not create a thread: keep the ones we have.
    }
  }
  p.size.store(int(p.workers.size()) + 1, std::memory_order_relaxed);
  p.busy.store(false, std::memory_order_release);
}

void pool_run(int want, PoolFn fn, void* ctx) {
  Pool& p = pool();
  int size = p.size.load(std::memory_order_relaxed);
  if (want > size) want = size;
  bool expected = false;
  if (want <= 1 || t_in_job ||
      !p.busy.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
    fn(ctx, 0, 1);
    return;
  }
  p.fn = fn;
  p.ctx = ctx;
  p.nthreads = want;
  p.pending.store(int(p.workers.size()), std::memory_order_relaxed);
  publish(p);
  t_in_job = true;
  fn(ctx, 0, want);
  t_in_job = false;
  wait_done(p);
  p.busy.store(false, std::memory_order_release);
}

namespace {
Init init_pool;
}

}  // namespace engram
