#include "operator/runtime/heap_trim.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tracing::runtime {

MallocSettings malloc_settings(const std::function<const char*(const char*)>& getenv) {
  MallocSettings s;
  if (getenv("GLIBC_TUNABLES")) return s;
  if (!getenv("MALLOC_ARENA_MAX")) s.arena_max = 2;
  if (!getenv("MALLOC_MMAP_THRESHOLD_")) s.mmap_threshold = 128 * 1024;
  return s;
}

void apply_malloc_settings(const MallocSettings& settings) {
#if defined(__GLIBC__)
  if (settings.arena_max) mallopt(M_ARENA_MAX, *settings.arena_max);
  if (settings.mmap_threshold) mallopt(M_MMAP_THRESHOLD, *settings.mmap_threshold);
#else
  (void)settings;
#endif
}

void release_free_heap() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace tracing::runtime
