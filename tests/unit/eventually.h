// Waiting for another thread in unit tests: bounded in real time, reached only when a test fails.
#pragma once

#include <chrono>
#include <thread>

namespace tracing::testing {

inline constexpr auto kTimeout = std::chrono::seconds(10);

// Waits (bounded, in real time) until `pred` holds.
template <typename Pred>
bool eventually(Pred pred) {
  const auto give_up = std::chrono::steady_clock::now() + kTimeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace tracing::testing
