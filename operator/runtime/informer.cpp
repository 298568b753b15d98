#include "operator/runtime/informer.h"

#include "operator/runtime/informer_impl.h"

namespace tracing::runtime {

std::string object_key(const json& object) {
  const auto& md = object.at("metadata");
  std::string ns = md.value("namespace", "");
  std::string name = md.value("name", "");
  return ns.empty() ? name : ns + "/" + name;
}

bool InformerBase::wait_for_sync(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> g(mu_);
  return cv_.wait_for(g, timeout, [this] { return synced_.load() || stopping_; }) && synced_.load();
}

std::string InformerBase::resource_version() const {
  std::lock_guard<std::mutex> g(mu_);
  return rv_;
}

void InformerBase::set_rv(const std::string& rv) {
  std::lock_guard<std::mutex> g(mu_);
  rv_ = rv;
}

std::chrono::steady_clock::duration InformerBase::since_progress() const {
  auto at =
      std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(progress_at_));
  return std::chrono::steady_clock::now() - at;
}

void InformerBase::progressed() {
  progress_at_ = std::chrono::steady_clock::now().time_since_epoch().count();
}

template class BasicStore<json>;
template class BasicInformer<json>;

}  // namespace tracing::runtime
