#include "operator/kube/cancellation.h"

namespace tracing::kube {

void Cancellation::cancel() {
  // Under the lock: a subscriber that returns from unsubscribe() (and frees what its callback
  // references) must not race a callback still running here.
  std::lock_guard<std::mutex> g(mu_);
  if (cancelled_.exchange(true)) return;
  for (auto& [id, fn] : callbacks_) fn();
  callbacks_.clear();
}

int Cancellation::subscribe(std::function<void()> fn) {
  std::unique_lock<std::mutex> g(mu_);
  if (cancelled_.load()) {
    g.unlock();
    fn();
    return -1;
  }
  int id = next_id_++;
  callbacks_[id] = std::move(fn);
  return id;
}

void Cancellation::unsubscribe(int id) {
  std::lock_guard<std::mutex> g(mu_);
  callbacks_.erase(id);
}

}  // namespace tracing::kube
