#include "operator/runtime/informer.h"

#include <spdlog/spdlog.h>

#include <random>

namespace tracing::runtime {

std::string object_key(const json& object) {
  const auto& md = object.at("metadata");
  std::string ns = md.value("namespace", "");
  std::string name = md.value("name", "");
  return ns.empty() ? name : ns + "/" + name;
}

// ---- Store ----------------------------------------------------------------------------------

ObjectPtr Store::get(const std::string& key) const {
  std::shared_lock g(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Store::list() const {
  std::shared_lock g(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (const auto& [k, v] : items_) out.push_back(v);
  return out;
}

std::vector<ObjectPtr> Store::list_namespace(const std::string& ns) const {
  std::shared_lock g(mu_);
  std::vector<ObjectPtr> out;
  const std::string prefix = ns + "/";
  for (auto it = items_.lower_bound(prefix);
       it != items_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::vector<std::string> Store::keys() const {
  std::shared_lock g(mu_);
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& [k, v] : items_) out.push_back(k);
  return out;
}

size_t Store::size() const {
  std::shared_lock g(mu_);
  return items_.size();
}

ObjectPtr Store::upsert(const std::string& key, ObjectPtr object) {
  std::unique_lock g(mu_);
  auto& slot = items_[key];
  ObjectPtr old = std::move(slot);
  slot = std::move(object);
  return old;
}

ObjectPtr Store::erase(const std::string& key) {
  std::unique_lock g(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  ObjectPtr old = std::move(it->second);
  items_.erase(it);
  return old;
}

std::map<std::string, ObjectPtr> Store::snapshot() const {
  std::shared_lock g(mu_);
  return items_;
}

// ---- Informer -------------------------------------------------------------------------------

Informer::Informer(kube::Client& client, kube::Resource resource, InformerOptions options)
    : client_(client),
      resource_(std::move(resource)),
      options_(std::move(options)),
      backoff_(options_.backoff) {}

Informer::~Informer() { stop(); }

void Informer::add_handlers(Handlers h) { handlers_.push_back(std::move(h)); }

void Informer::start() {
  std::lock_guard<std::mutex> g(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  cancel_ = std::make_unique<kube::Cancellation>();
  thread_ = std::thread([this] { run(); });
}

void Informer::stop() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stopping_ = true;
    if (cancel_) cancel_->cancel();
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

bool Informer::wait_for_sync(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> g(mu_);
  return cv_.wait_for(g, timeout, [this] { return synced_.load() || stopping_; }) && synced_.load();
}

std::string Informer::resource_version() const {
  std::lock_guard<std::mutex> g(mu_);
  return rv_;
}

void Informer::set_rv(const std::string& rv) {
  std::lock_guard<std::mutex> g(mu_);
  rv_ = rv;
}

ObjectPtr Informer::project(json&& object) const {
  if (options_.project) return std::make_shared<const json>(options_.project(std::move(object)));
  return std::make_shared<const json>(std::move(object));
}

std::chrono::steady_clock::duration Informer::since_progress() const {
  auto at =
      std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(progress_at_));
  return std::chrono::steady_clock::now() - at;
}

void Informer::progressed() {
  progress_at_ = std::chrono::steady_clock::now().time_since_epoch().count();
}

void Informer::run() {
  progressed();
  State state = NeedList{};
  for (;;) {
    {
      std::lock_guard<std::mutex> g(mu_);
      if (stopping_) return;
    }
    state = std::visit(
        [this](const auto& s) -> State {
          using S = std::decay_t<decltype(s)>;
          if constexpr (std::is_same_v<S, NeedList>) {
            return step_list();
          } else {
            return step_watch(s);
          }
        },
        state);
    progressed();
  }
}

Informer::State Informer::step_list() {
  stats_.lists++;
  kube::ListOptions lo;
  lo.label_selector = options_.label_selector;
  lo.field_selector = options_.field_selector;
  lo.limit = options_.list_page_size;
  // Projected page by page: a relist of 10,000 Deployments never holds them all whole.
  if (options_.project) lo.transform = options_.project;
  auto list = client_.list(resource_, options_.ns, lo);
  if (!list) {
    connected_ = false;
    stats_.errors++;
    spdlog::log(list.error().is_shutting_down() ? spdlog::level::debug : spdlog::level::warn,
                "informer {}: list failed: {}", resource_.plural, list.error().to_string());
    sleep_backoff();
    return NeedList{};
  }
  std::string rv = list->resource_version;
  apply_list(std::move(list->items));
  set_rv(rv);
  connected_ = true;
  if (!synced_.exchange(true)) {
    std::lock_guard<std::mutex> g(mu_);
    cv_.notify_all();
  }
  spdlog::debug("informer {}: listed {} objects at rv {}", resource_.plural, store_.size(), rv);
  return Watching{rv};
}

// Replaces the store's content with a fresh list, telling handlers what changed: objects missing
// from the list were deleted while we were not watching.
void Informer::apply_list(std::vector<json>&& items) {
  std::map<std::string, ObjectPtr> fresh;
  for (auto& item : items) {
    std::string key = object_key(item);
    // Already projected by the list (ListOptions::transform).
    fresh.emplace(std::move(key), std::make_shared<const json>(std::move(item)));
  }
  for (const auto& key : store_.keys()) {
    if (!fresh.count(key)) {
      if (auto old = store_.erase(key)) {
        for (auto& h : handlers_) {
          if (h.on_delete) h.on_delete(old);
        }
      }
    }
  }
  for (auto& [key, obj] : fresh) upsert_and_notify(key, obj);
}

void Informer::upsert_and_notify(const std::string& key, const ObjectPtr& obj) {
  ObjectPtr old = store_.upsert(key, obj);
  for (auto& h : handlers_) {
    if (!old) {
      if (h.on_add) h.on_add(obj);
    } else if (h.on_update) {
      h.on_update(old, obj);
    }
  }
}

Informer::State Informer::step_watch(const Watching& w) {
  stats_.watches++;
  kube::WatchOptions wo;
  wo.resource_version = w.rv;
  wo.label_selector = options_.label_selector;
  wo.field_selector = options_.field_selector;
  if (options_.watch_timeout_seconds > 0) {
    wo.timeout_seconds = options_.watch_timeout_seconds;
  } else {
    static thread_local std::mt19937 rng{std::random_device{}()};
    const int min = std::max(1, options_.min_watch_timeout_seconds);
    wo.timeout_seconds = std::uniform_int_distribution<int>(min, 2 * min - 1)(rng);
  }
  std::string rv = w.rv;
  uint64_t seen = 0;
  auto started = std::chrono::steady_clock::now();

  auto status = client_.watch(
      resource_, options_.ns, wo,
      [&](kube::WatchEvent&& ev) {
        ++seen;
        stats_.events++;
        connected_ = true;
        progressed();
        std::string ev_rv = ev.object["metadata"].value("resourceVersion", "");
        if (ev.type == kube::EventType::kBookmark) {
          if (!ev_rv.empty()) rv = ev_rv;
          set_rv(rv);
          return true;
        }
        std::string key = object_key(ev.object);
        if (ev.type == kube::EventType::kDeleted) {
          ObjectPtr old = store_.erase(key);
          if (!old) old = project(std::move(ev.object));
          for (auto& h : handlers_) {
            if (h.on_delete) h.on_delete(old);
          }
        } else {
          upsert_and_notify(key, project(std::move(ev.object)));
        }
        if (!ev_rv.empty()) rv = ev_rv;
        set_rv(rv);
        return true;
      },
      *cancel_);

  if (!status) {
    connected_ = false;
    if (status.error().is_expired()) {
      stats_.expired++;
      spdlog::info("informer {}: resourceVersion {} expired, relisting", resource_.plural, rv);
      return NeedList{};
    }
    stats_.errors++;
    spdlog::log(status.error().is_shutting_down() ? spdlog::level::debug : spdlog::level::warn,
                "informer {}: watch from rv {} failed: {}", resource_.plural, rv,
                status.error().to_string());
    sleep_backoff();
    return Watching{rv};
  }
  // The server ended the stream (its timeout) or we were cancelled. A stream that closes within
  // a second with nothing in it is treated as a failure, as client-go does, so a misbehaving
  // server is not hammered.
  if (seen == 0 && std::chrono::steady_clock::now() - started < std::chrono::seconds(1)) {
    sleep_backoff();
  } else {
    connected_ = true;
    backoff_.reset();
  }
  return Watching{rv};
}

void Informer::sleep_backoff() {
  auto delay = backoff_.next(std::chrono::steady_clock::now());
  std::unique_lock<std::mutex> g(mu_);
  cv_.wait_for(g, delay, [this] { return stopping_; });
}

}  // namespace tracing::runtime
