// An informer: lists and watches one resource into a Store, and tells handlers what changed.
//
// Guarantees:
// - the store converges to the server's state: after a cut watch it resumes from the last
//   resourceVersion it saw (events or bookmarks); when that is too old (410 Expired, as an HTTP
//   status or an in-stream ERROR) it relists and reconciles the store with the fresh list,
//   reporting the differences to the handlers as adds, updates and deletes;
// - failures back off 800 ms → 30 s with jitter; a watch that ends early without events counts
//   as a failure;
// - the store keeps only the projection of each object the caller chooses (for Deployments: the
//   labels, annotations, the env of each container and managedFields it needs — not the whole
//   object), so 10,000 objects fit in tens of megabytes;
// - handlers run on the informer's own thread, after the store was updated, in event order.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "operator/kube/backoff.h"
#include "operator/kube/client.h"

namespace tracing::runtime {

using json = nlohmann::json;
using ObjectPtr = std::shared_ptr<const json>;

// "namespace/name", or "name" for cluster-scoped objects.
std::string object_key(const json& object);

// A thread-safe map from object key to the latest projected object.
class Store {
 public:
  ObjectPtr get(const std::string& key) const;
  std::vector<ObjectPtr> list() const;
  // The objects of one namespace (keys "ns/…"), without scanning the others.
  std::vector<ObjectPtr> list_namespace(const std::string& ns) const;
  std::vector<std::string> keys() const;
  size_t size() const;

  // Writers: the informer only.
  ObjectPtr upsert(const std::string& key, ObjectPtr object);  // returns the previous value
  ObjectPtr erase(const std::string& key);                     // returns the removed value
  std::map<std::string, ObjectPtr> snapshot() const;

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, ObjectPtr> items_;
};

struct Handlers {
  std::function<void(const ObjectPtr&)> on_add;
  std::function<void(const ObjectPtr& old_obj, const ObjectPtr& new_obj)> on_update;
  std::function<void(const ObjectPtr&)> on_delete;
};

struct InformerOptions {
  std::string ns;  // "" = all namespaces
  std::string label_selector;
  std::string field_selector;
  // Reduces an object to what the caller reads. Must keep metadata.name, metadata.namespace and
  // metadata.resourceVersion. Default: keep everything.
  std::function<json(json&&)> project;
  // Each watch asks the server to end it after this many seconds; 0 (the default) picks a new
  // random value in [min, 2 x min) for every watch, as client-go's reflector does (min 300 s),
  // so that the watches of many informers and replicas do not all reconnect at once.
  int watch_timeout_seconds = 0;
  int min_watch_timeout_seconds = 300;
  int list_page_size = 500;
  kube::Backoff::Options backoff;
};

// Counters a test or /metrics can read.
struct InformerStats {
  std::atomic<uint64_t> lists{0};
  std::atomic<uint64_t> watches{0};
  std::atomic<uint64_t> events{0};
  std::atomic<uint64_t> expired{0};  // 410s seen (each leads to a relist)
  std::atomic<uint64_t> errors{0};
};

class Informer {
 public:
  Informer(kube::Client& client, kube::Resource resource, InformerOptions options = {});
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void add_handlers(Handlers h);  // before start()
  void start();
  void stop();  // cancels the watch and joins; idempotent

  // True once the first list has been stored.
  bool has_synced() const { return synced_.load(); }
  // Synced, and its last list or watch succeeded (false from a failed one until the next
  // success): what /readyz reports, so a replica cut off from the API server is not Ready.
  bool live() const { return synced_.load() && connected_.load(); }
  // Time since the watch loop last made progress: a list or watch attempt ended, or an event or
  // bookmark arrived. A watch may legitimately be silent for its timeout (+15 s idle), so only
  // far more than that means the loop is wedged (/healthz).
  std::chrono::steady_clock::duration since_progress() const;
  bool wait_for_sync(std::chrono::milliseconds timeout) const;

  const Store& store() const { return store_; }
  std::string resource_version() const;
  const InformerStats& stats() const { return stats_; }
  const kube::Resource& resource() const { return resource_; }

 private:
  // The watcher's state machine (kube-rs watcher::State):
  struct NeedList {};  // nothing trustworthy: list everything, then watch from its RV
  struct Watching {    // the store matches the server as of `rv`: watch from there
    std::string rv;
  };
  using State = std::variant<NeedList, Watching>;

  void run();
  State step_list();
  State step_watch(const Watching& w);
  void apply_list(std::vector<json>&& items);
  // Stores `obj` under `key` and tells the handlers: an add, or an update of what was there.
  void upsert_and_notify(const std::string& key, const ObjectPtr& obj);
  ObjectPtr project(json&& object) const;
  void set_rv(const std::string& rv);
  void sleep_backoff();

  kube::Client& client_;
  kube::Resource resource_;
  InformerOptions options_;
  std::vector<Handlers> handlers_;
  Store store_;
  InformerStats stats_;
  kube::Backoff backoff_;

  std::atomic<bool> synced_{false};
  std::atomic<bool> connected_{false};
  std::atomic<std::chrono::steady_clock::rep> progress_at_{0};  // steady_clock ticks
  void progressed();
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::string rv_;
  bool stopping_ = false;
  std::unique_ptr<kube::Cancellation> cancel_;
  std::thread thread_;
};

}  // namespace tracing::runtime
