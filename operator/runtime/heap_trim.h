// Returning the heap's free memory to the system once the operator goes quiet after work.
//
// glibc keeps what a burst of work freed (a relist's pages, the first pass's decisions and
// requests, a cluster-wide change) resident inside the heap, in holes between the allocations that
// stay, until malloc_trim(0) hands their whole pages back (measured at 10,000 Deployments, idle
// after a restart: 0.8 MiB; README, Benchmarks). A trim walks every arena's free chunks under
// that arena's lock, so it runs once per burst and on a thread of its own, after the work has
// stopped for a while: Go's runtime returns freed memory in the background the same way.
//
// Not thread-safe but for trims() and pending(): one thread calls observe() on a timer.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

namespace tracing::runtime {

// The allocator settings main() makes before any thread starts (README, Memory): two malloc
// arenas instead of glibc's default of 8 per core, and a fixed mmap threshold of 128 KiB (glibc's
// dynamic one moves list pages' response bodies into the heap, between the records that stay). A
// setting the environment makes itself (MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_) is left to it;
// with GLIBC_TUNABLES in the environment, every setting is. `getenv` is std::getenv but in tests.
struct MallocSettings {
  std::optional<int> arena_max;
  std::optional<int> mmap_threshold;
  bool operator==(const MallocSettings&) const = default;
};
MallocSettings malloc_settings(const std::function<const char*(const char*)>& getenv);
// mallopt() of each setting present, where the C library is glibc.
void apply_malloc_settings(const MallocSettings& settings);

// malloc_trim(0) where the C library is glibc; nothing elsewhere (and under a sanitizer's
// allocator, whose malloc_trim does nothing either).
void release_free_heap();

class HeapTrimmer {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  // `quiet`: how long the work counter must stand still after it last moved before a trim.
  explicit HeapTrimmer(std::chrono::steady_clock::duration quiet,
                       std::function<void()> trim = release_free_heap)
      : quiet_(quiet), trim_(std::move(trim)) {}

  // `work`: a counter of the operator's work (reconciles, watch events) read at `now`. The first
  // call counts as work: the start's list and first pass. Trims once `work` has not moved for
  // `quiet`, then not again until it moves.
  void observe(uint64_t work, time_point now) {
    if (!seen_ || work != work_) {
      seen_ = true;
      work_ = work;
      moved_at_ = now;
      pending_ = true;
      return;
    }
    if (pending_ && now - moved_at_ >= quiet_) {
      trim_();
      trims_++;
      pending_ = false;
    }
  }

  // Trims done (/metrics: tracing_operator_heap_trims_total).
  uint64_t trims() const { return trims_.load(); }
  // Work was seen since the last trim (/metrics: tracing_operator_heap_trim_pending): the
  // memory benchmark waits for 0 before it reads the resident size.
  bool pending() const { return pending_.load(); }

 private:
  std::chrono::steady_clock::duration quiet_;
  std::function<void()> trim_;
  bool seen_ = false;
  uint64_t work_ = 0;
  time_point moved_at_;
  std::atomic<bool> pending_{false};
  std::atomic<uint64_t> trims_{0};
};

}  // namespace tracing::runtime
