// HeapTrimmer: when it trims (a fake clock and a counting trim), and what a trim does to a heap
// that work left full of holes (glibc's own allocator, read back from /proc/self/status).

#include "operator/runtime/heap_trim.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tracing::runtime {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;

struct Trims {
  int n = 0;
  HeapTrimmer trimmer{2s, [this] { n++; }};
  steady_clock::time_point t0{};
  void at(steady_clock::duration since_start, uint64_t work) {
    trimmer.observe(work, t0 + since_start);
  }
};

TEST(HeapTrimmer, TrimsOnceWhenTheWorkHasStoodStillForTheQuietPeriod) {
  Trims t;
  t.at(0s, 5);  // the start: the list and the first pass
  EXPECT_TRUE(t.trimmer.pending());
  t.at(1s, 5);
  EXPECT_EQ(t.n, 0) << "quiet for 1 s of 2";
  t.at(2s, 5);
  EXPECT_EQ(t.n, 1);
  EXPECT_EQ(t.trimmer.trims(), 1u);
  EXPECT_FALSE(t.trimmer.pending());
  t.at(3s, 5);
  t.at(60s, 5);
  EXPECT_EQ(t.n, 1) << "nothing freed since: no second trim";
}

TEST(HeapTrimmer, WaitsForTheWorkToStopAndTrimsAgainAfterTheNextBurst) {
  Trims t;
  t.at(0s, 0);
  t.at(2s, 0);
  ASSERT_EQ(t.n, 1);
  // A burst: the counter moves at every look from 3 s to 9 s, longer than the quiet period.
  for (int s = 3; s <= 9; s++) t.at(std::chrono::seconds(s), 100 * s);
  EXPECT_EQ(t.n, 1) << "trimmed while the work went on";
  EXPECT_TRUE(t.trimmer.pending());
  t.at(10s, 900);
  EXPECT_EQ(t.n, 1) << "the burst ended 1 s ago";
  t.at(11s, 900);
  EXPECT_EQ(t.n, 2);
  EXPECT_FALSE(t.trimmer.pending());
}

// What /proc/self/status says of this process's anonymous resident memory, in KiB.
[[maybe_unused]] long rss_anon_kib() {
  std::ifstream f("/proc/self/status");
  std::string key;
  long value = -1;
  while (f >> key) {
    if (key == "RssAnon:") {
      f >> value;
      return value;
    }
    f.ignore(1 << 10, '\n');
  }
  return -1;
}

// The heap a relist leaves: 64 MiB of 1 KiB blocks of which one in 64 stays (a record between
// the page's whole objects). glibc keeps the freed ones resident until a trim returns the whole
// pages among them.
// A sanitizer replaces malloc: GCC says so with __SANITIZE_*__, clang (14 here) only through
// __has_feature.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HEAP_TRIM_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define HEAP_TRIM_TEST_SANITIZED 1
#endif
#endif

TEST(ReleaseFreeHeap, ReturnsThePagesBetweenTheBlocksThatStay) {
#if !defined(__GLIBC__) || defined(HEAP_TRIM_TEST_SANITIZED)
  GTEST_SKIP() << "glibc's allocator only (a sanitizer's own malloc_trim does nothing)";
#else
  constexpr size_t kBlocks = 64 * 1024;
  std::vector<std::unique_ptr<char[]> > blocks(kBlocks);
  for (auto& b : blocks) {
    b.reset(new char[1000]);
    std::fill_n(b.get(), 1000, 'x');  // resident
  }
  for (size_t i = 0; i < kBlocks; i++) {
    if (i % 64 != 0) blocks[i].reset();
  }
  const long before = rss_anon_kib();
  ASSERT_GT(before, 0);
  release_free_heap();
  const long after = rss_anon_kib();
  // 63 of every 64 KiB freed: ~62 MiB, less the pages the survivors and glibc's own chunk
  // headers keep. Half of it is far above what the test's own noise could give.
  EXPECT_LT(after, before - 32 * 1024) << "before " << before << " KiB, after " << after << " KiB";
#endif
}

// An environment of the given variables (any value).
std::function<const char*(const char*)> environment(std::vector<std::string> set) {
  return [set = std::move(set)](const char* name) -> const char* {
    return std::find(set.begin(), set.end(), name) != set.end() ? "1" : nullptr;
  };
}

TEST(MallocSettings, TwoArenasAndA128KiBMmapThresholdByDefault) {
  MallocSettings want;
  want.arena_max = 2;
  want.mmap_threshold = 131072;
  EXPECT_EQ(malloc_settings(environment({})), want);
  EXPECT_EQ(malloc_settings(environment({"MALLOC_ARENA_MAX_X", "HOME"})), want);
}

TEST(MallocSettings, WhatTheEnvironmentSetsIsLeftToIt) {
  MallocSettings arenas = malloc_settings(environment({"MALLOC_ARENA_MAX"}));
  EXPECT_FALSE(arenas.arena_max);
  EXPECT_EQ(arenas.mmap_threshold, 131072);

  MallocSettings threshold = malloc_settings(environment({"MALLOC_MMAP_THRESHOLD_"}));
  EXPECT_EQ(threshold.arena_max, 2);
  EXPECT_FALSE(threshold.mmap_threshold);

  MallocSettings both =
      malloc_settings(environment({"MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_"}));
  EXPECT_EQ(both, MallocSettings{});
}

TEST(MallocSettings, GlibcTunablesLeavesEverySettingToTheEnvironment) {
  EXPECT_EQ(malloc_settings(environment({"GLIBC_TUNABLES"})), MallocSettings{});
  EXPECT_EQ(malloc_settings(environment({"GLIBC_TUNABLES", "MALLOC_ARENA_MAX"})), MallocSettings{});
}

}  // namespace
}  // namespace tracing::runtime
