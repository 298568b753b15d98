// An informer: lists and watches one resource into a Store, and tells handlers what changed.
//
// Guarantees:
// - the store converges to the server's state: after a cut watch it resumes from the last
//   resourceVersion it saw (events or bookmarks); when that is too old (410 Expired, as an HTTP
//   status or an in-stream ERROR) it relists and reconciles the store with the fresh list,
//   reporting the differences to the handlers as adds, updates and deletes;
// - failures back off 800 ms → 30 s with jitter; a watch that ends early without events counts
//   as a failure;
// - the store keeps only the projection of each object the caller chooses, as JSON or as a type
//   of its own (BasicInformer<T>: for Deployments a compact record of what a decision reads, not
//   the whole object); each object is projected as it arrives, list pages included, so a relist
//   never holds more than one page of objects; with a field filter (`fields`) what the
//   projection does not read is dropped while parsing, so no whole object is ever built;
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
template <typename T>
using Ptr = std::shared_ptr<const T>;
using ObjectPtr = Ptr<json>;

// "namespace/name", or "name" for cluster-scoped objects.
std::string object_key(const json& object);

// A thread-safe map from object key to the latest projected object.
template <typename T>
class BasicStore {
 public:
  Ptr<T> get(const std::string& key) const;
  std::vector<Ptr<T>> list() const;
  // The objects of one namespace (keys "ns/…"), without scanning the others.
  std::vector<Ptr<T>> list_namespace(const std::string& ns) const;
  std::vector<std::string> keys() const;
  size_t size() const;

  using Map = std::map<std::string, Ptr<T>>;
  using Node = typename Map::node_type;

  // Writers: the informer only.
  Ptr<T> upsert(const std::string& key, Ptr<T> object);  // returns the previous value
  // The same with a node taken out of another map (Map::extract): a new key takes the node itself,
  // key and all, without allocating; an existing key takes its value and the node is freed.
  Ptr<T> upsert(Node&& node);
  Ptr<T> erase(const std::string& key);  // returns the removed value
  std::map<std::string, Ptr<T>> snapshot() const;

 private:
  mutable std::shared_mutex mu_;
  Map items_;
};

template <typename T>
struct BasicHandlers {
  std::function<void(const Ptr<T>&)> on_add;
  std::function<void(const Ptr<T>& old_obj, const Ptr<T>& new_obj)> on_update;
  std::function<void(const Ptr<T>&)> on_delete;
};

template <typename T>
struct BasicInformerOptions {
  std::string ns;  // "" = all namespaces
  std::string label_selector;
  std::string field_selector;
  // Reduces an object to what the caller reads. For JSON it must keep metadata.name,
  // metadata.namespace and metadata.resourceVersion; default: keep everything. Required when T
  // is not JSON.
  std::function<T(json&&)> project;
  // What of each object `project` reads (kube::FieldFilter): the rest of list pages and watch
  // events is skipped while they are parsed. The informer adds what it reads itself
  // (metadata.name, namespace and resourceVersion). Empty: everything.
  kube::FieldFilter fields;
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
  std::atomic<uint64_t> events{0};     // objects added, changed or deleted
  std::atomic<uint64_t> bookmarks{0};  // not events: the server only moved the version on
  std::atomic<uint64_t> expired{0};    // 410s seen (each leads to a relist)
  std::atomic<uint64_t> errors{0};
};

// What /readyz, /healthz and /metrics read of any informer, whatever it stores.
class InformerBase {
 public:
  virtual ~InformerBase() = default;
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
  std::string resource_version() const;
  const InformerStats& stats() const { return stats_; }
  const kube::Resource& resource() const { return resource_; }
  virtual size_t size() const = 0;

 protected:
  explicit InformerBase(kube::Resource resource) : resource_(std::move(resource)) {}
  void progressed();
  void set_rv(const std::string& rv);

  kube::Resource resource_;
  InformerStats stats_;
  std::atomic<bool> synced_{false};
  std::atomic<bool> connected_{false};
  std::atomic<std::chrono::steady_clock::rep> progress_at_{0};  // steady_clock ticks
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::string rv_;
  bool stopping_ = false;
};

template <typename T>
class BasicInformer : public InformerBase {
 public:
  using Store = BasicStore<T>;
  using Handlers = BasicHandlers<T>;
  using Options = BasicInformerOptions<T>;

  BasicInformer(kube::Client& client, kube::Resource resource, Options options = {});
  ~BasicInformer() override;
  BasicInformer(const BasicInformer&) = delete;
  BasicInformer& operator=(const BasicInformer&) = delete;

  void add_handlers(Handlers h);  // before start()
  void start();
  void stop();  // cancels the watch and joins; idempotent

  const Store& store() const { return store_; }
  size_t size() const override { return store_.size(); }

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
  void apply_list(typename Store::Map&& fresh);
  // Tells the handlers that `obj` was stored: an add when there was no `old`, else an update.
  void notify_stored(const Ptr<T>& old, const Ptr<T>& obj);
  Ptr<T> project(json&& object) const;
  // options_.fields and what the informer reads itself; empty when options_.fields is.
  kube::FieldFilter fields() const;
  void sleep_backoff();

  kube::Client& client_;
  Options options_;
  std::vector<Handlers> handlers_;
  Store store_;
  kube::Backoff backoff_;
  std::unique_ptr<kube::Cancellation> cancel_;
  std::thread thread_;
};

using Store = BasicStore<json>;
using Handlers = BasicHandlers<json>;
using InformerOptions = BasicInformerOptions<json>;
using Informer = BasicInformer<json>;

extern template class BasicStore<json>;
extern template class BasicInformer<json>;

}  // namespace tracing::runtime
