// A one-shot cancellation signal: how a stopping thread ends another thread's request or stream.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>

namespace tracing::kube {

// A one-shot cancellation signal shared between the thread that owns a stream and the one that
// stops it. Callbacks run once, on the cancelling thread (or at once, on the subscribing thread,
// if already cancelled).
//
// Guarantee: once unsubscribe(id) returns, callback `id` is not running and never will, so a
// callback may reference the subscriber's stack. (cancel() runs the callbacks under the lock that
// unsubscribe() takes; a callback must therefore not call subscribe() or unsubscribe().)
class Cancellation {
 public:
  void cancel();
  bool cancelled() const { return cancelled_.load(); }
  int subscribe(std::function<void()> fn);
  void unsubscribe(int id);

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  int next_id_ = 0;
  std::map<int, std::function<void()>> callbacks_;
};

}  // namespace tracing::kube
