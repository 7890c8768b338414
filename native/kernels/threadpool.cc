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

// A job's shares are handed out through one atomic ticket: generation (bits 16 and up), share
// count (bits 8..15) and the next unclaimed share (bits 0..7). Whoever claims a share runs it, and
// the calling thread claims whatever the workers have not taken by the time its own share is done.
// So a worker that is asleep or descheduled (2 cores shared with V8's own threads and other
// processes) never holds up a job: the caller only waits for shares that a worker actually
// started. Shares are the same fixed ranges whoever runs them, so results do not depend on it.
constexpr int kGenShift = 16;
constexpr uint64_t kByte = 0xff;

inline uint64_t gen_of(uint64_t t) { return t >> kGenShift; }
inline int shares_of(uint64_t t) { return int((t >> 8) & kByte); }

struct Pool {
  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable cv;
  std::atomic<uint64_t> ticket{0};
  // Shares of the current job finished so far; the job (fn, ctx) stays valid until it reaches the share count.
  std::atomic<int> done{0};
  std::atomic<int> sleepers{0};
  std::atomic<bool> busy{false};
  std::atomic<bool> stop{false};
  // The current job; written by the owner before the ticket is published. Only read by a thread
  // that claimed a share of it, so it cannot change under a reader.
  PoolFn fn = nullptr;
  void* ctx = nullptr;
  std::atomic<int> size{1};
};

// Never destroyed: worker threads may still be parked when the process exits.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

thread_local bool t_in_job = false;

// Claims the next share of job `gen`; -1 when the job has none left (or is no longer current).
int claim(Pool& p, uint64_t gen) {
  uint64_t t = p.ticket.load(std::memory_order_acquire);
  for (;;) {
    if (gen_of(t) != gen) return -1;
    const int next = int(t & kByte);
    if (next >= shares_of(t)) return -1;
    if (p.ticket.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire)) return next;
  }
}

// Runs every share of job `gen` this thread can still claim.
void run_shares(Pool& p, uint64_t gen, int shares) {
  int tid;
  while ((tid = claim(p, gen)) >= 0) {
    p.fn(p.ctx, tid, shares);
    p.done.fetch_add(1, std::memory_order_acq_rel);
  }
}

// `seen` is the generation at creation time: a worker that starts late must still see every job
// (including the stop request) published after it was created.
void worker_main(Pool* p, uint64_t seen) {
  t_in_job = true;  // nested parallel calls from a job run serially
  for (;;) {
    uint64_t t = p->ticket.load(std::memory_order_acquire);
    if (gen_of(t) == seen) {
      auto start = std::chrono::steady_clock::now();
      unsigned spins = 0;
      while (gen_of(t = p->ticket.load(std::memory_order_acquire)) == seen) {
        ENGRAM_RELAX();
        if ((++spins & 31) != 0) continue;
        // V8's garbage-collector threads or the caller itself may be waiting for this core
        std::this_thread::yield();
        if (std::chrono::steady_clock::now() - start > kSpin) {
          std::unique_lock<std::mutex> lock(p->mutex);
          p->sleepers.fetch_add(1);
          p->cv.wait(lock, [&] { return gen_of(p->ticket.load()) != seen; });
          p->sleepers.fetch_sub(1);
          t = p->ticket.load(std::memory_order_acquire);
          break;
        }
      }
    }
    seen = gen_of(t);
    if (p->stop.load(std::memory_order_acquire)) return;
    run_shares(*p, seen, shares_of(t));
  }
}

void acquire(Pool& p) {
  bool expected = false;
  while (!p.busy.compare_exchange_weak(expected, true, std::memory_order_acquire)) {
    expected = false;
    std::this_thread::yield();
  }
}

// Starts a new generation with `shares` shares, the first `claimed` of them already taken by the
// caller; wakes sleeping workers if `wake`.
uint64_t publish(Pool& p, int shares, int claimed, bool wake) {
  const uint64_t gen = gen_of(p.ticket.load(std::memory_order_relaxed)) + 1;
  p.ticket.store((gen << kGenShift) | (uint64_t(shares) << 8) | uint64_t(claimed));
  // A worker counts itself a sleeper (under the mutex) before it checks the ticket one last time,
  // so either it sees the new ticket or we see it asleep; taking the mutex makes sure it is
  // already waiting when notified.
  if (wake && p.sleepers.load() > 0) {
    { std::lock_guard<std::mutex> lock(p.mutex); }
    p.cv.notify_all();
  }
  return gen;
}

void stop_workers(Pool& p) {
  if (p.workers.empty()) return;
  p.stop.store(true, std::memory_order_release);
  publish(p, 0, 0, true);
  for (auto& t : p.workers) t.join();
  p.workers.clear();
  p.stop.store(false, std::memory_order_release);
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
      const uint64_t gen = gen_of(p.ticket.load(std::memory_order_acquire));
      for (int tid = 1; tid < n; ++tid) p.workers.emplace_back(worker_main, &p, gen);
    } catch (...) {
      // Could not create a thread: keep the ones we have.
    }
  }
  p.size.store(int(p.workers.size()) + 1, std::memory_order_relaxed);
  p.busy.store(false, std::memory_order_release);
}

void pool_run(int want, PoolFn fn, void* ctx, bool wake) {
  Pool& p = pool();
  int size = p.size.load(std::memory_order_relaxed);
  if (want > size) want = size;
  bool expected = false;
  if (want <= 1 || t_in_job ||
      !p.busy.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
    fn(ctx, 0, 1);
    return;
  }
  t_in_job = true;
  if (!wake && p.sleepers.load() == int(p.workers.size())) {
    // nobody awake to help and not worth waking anyone: the same shares, all on this thread
    for (int tid = 0; tid < want; ++tid) fn(ctx, tid, want);
    t_in_job = false;
    p.busy.store(false, std::memory_order_release);
    return;
  }
  p.fn = fn;
  p.ctx = ctx;
  p.done.store(0, std::memory_order_relaxed);
  const uint64_t gen = publish(p, want, 1, wake);
  fn(ctx, 0, want);
  p.done.fetch_add(1, std::memory_order_acq_rel);
  run_shares(p, gen, want);
  t_in_job = false;
  // only shares that a worker has started are left
  unsigned spins = 0;
  while (p.done.load(std::memory_order_acquire) != want) {
    ENGRAM_RELAX();
    if (++spins > 4096) std::this_thread::yield();
  }
  p.busy.store(false, std::memory_order_release);
}

namespace {
Init init_pool;
}

}  // namespace engram
