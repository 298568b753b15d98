// A Kubernetes API client: typed errors, paged lists, watches, server-side apply, status writes,
// discovery, and a client-side rate limit. Objects are nlohmann::json as the API server sends
// them; typed views belong to the callers.
//
// Guarantees:
// - every call returns a Result; nothing throws across this interface;
// - list() returns every object exactly once: it follows `continue` tokens and, when one
//   expires (410), restarts from the first page;
// - watch() delivers events in order and returns when the stream ends; an in-stream ERROR event
//   comes back as its ApiError (410 Expired: the caller must relist);
// - 429 answers are retried after their Retry-After (at most 3 times).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "operator/kube/error.h"
#include "operator/kube/http.h"
#include "operator/kube/json_filter.h"
#include "operator/kube/rate_limiter.h"
#include "operator/kube/resource.h"
#include "operator/kube/watch_event.h"

namespace tracing::kube {

using json = nlohmann::json;

struct ClientOptions {
  double qps = 20;  // <= 0 disables the client-side limit
  int burst = 30;
  // Idle timeout of every request but watches (which set their own, above timeoutSeconds).
  std::chrono::seconds request_timeout{60};
  // The limit (qps, burst) holds only while the API server's responses do not show API Priority and
  // Fairness (the X-Kubernetes-PF-FlowSchema-UID header it sets on every request it classifies,
  // GA since 1.29). With APF the server queues and sheds per flow, protecting itself and other
  // clients, so a client-side limit only slows the operator (Flux decides the same way).
  bool unlimited_under_flow_control = false;
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int limit = 500;  // page size; 0 = no paging
  // "" = most recent (consistent read from etcd); "0" = any (watch cache, no paging).
  std::string resource_version;
  // Called after each page arrives with the number of pages so far (progress, and a seam for
  // tests that expire the continue token between pages).
  std::function<void(int)> on_page;
  // When set, each item is handed to it as its page arrives instead of being kept in
  // ObjectList::items, so that a list of many large objects never holds more than one page of
  // them whole (an informer's records); `on_restart` is called when an expired continue token
  // makes the list start over (what was handed over so far is then stale).
  // With `each`, items are handed over while their page is parsed, not after: when the page
  // then turns out not to be JSON the list fails, and what it handed over is to be dropped.
  std::function<void(nlohmann::json&&)> each;
  std::function<void()> on_restart;
  // What of each item to keep (json_filter.h): the rest is skipped while the page is parsed,
  // never built. Empty: everything.
  FieldFilter fields;
};

struct ObjectList {
  std::string resource_version;  // the list's, to start a watch from
  std::vector<json> items;
  int pages = 0;
  int restarts = 0;  // times an expired continue token made the list start over
};

struct WatchOptions {
  std::string resource_version;
  std::string label_selector;
  std::string field_selector;
  int timeout_seconds = 290;  // below 295, see kubernetes#6513
  bool allow_bookmarks = true;
  // What of each event's object to keep (json_filter.h); an ERROR event's Status is kept whole.
  FieldFilter fields;
};

struct ApplyOptions {
  std::string field_manager;  // required
  bool force = false;
  std::string subresource;  // "" or "status"
  // The response holds only the object's metadata (a meta.k8s.io/v1 PartialObjectMetadata):
  // the API server encodes the metadata instead of the whole object, and the client parses
  // less. Errors still come as a Status.
  bool metadata_only = false;
};

struct DeleteOptions {
  std::string propagation_policy;  // "", "Foreground", "Background", "Orphan"
  std::string precondition_uid;
  std::string precondition_resource_version;
};

enum class PatchType { kMerge, kStrategicMerge, kJson };

// Request counters, for metrics and for tests that count writes.
struct RequestCounts {
  std::atomic<uint64_t> reads{0};   // GET, list, watch
  std::atomic<uint64_t> writes{0};  // POST, PUT, PATCH, DELETE
  // Requests by HTTP method and outcome: the status code, or "<error>" when none came back.
  void record(const std::string& method, const std::string& code);
  std::map<std::pair<std::string, std::string>, uint64_t> by_method_and_code() const;
  // Requests by API verb (get, list, watch, create, update, patch, delete; a list counts each
  // page) and resource ("configurations.dapr.io", "deployments.apps", "namespaces").
  void record_verb(const std::string& verb, const Resource& r);
  std::map<std::pair<std::string, std::string>, uint64_t> by_verb_and_resource() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> by_method_and_code_;
  std::map<std::pair<std::string, std::string>, uint64_t> by_verb_and_resource_;
};

class Client {
 public:
  explicit Client(std::shared_ptr<HttpTransport> transport, ClientOptions options = {});

  Result<json> get(const Resource& r, std::string_view ns, std::string_view name);
  Result<json> create(const Resource& r, std::string_view ns, const json& object);
  // PUT: optimistic concurrency through object.metadata.resourceVersion (stale → 409).
  Result<json> replace(const Resource& r, std::string_view ns, std::string_view name,
                       const json& object, std::string_view subresource = "");
  Status remove(const Resource& r, std::string_view ns, std::string_view name,
                const DeleteOptions& options = {});
  Result<ObjectList> list(const Resource& r, std::string_view ns, const ListOptions& options = {});
  // Server-side apply (application/apply-patch+yaml). A conflict with another manager's fields
  // returns a 409 whose causes name each field.
  Result<json> apply(const Resource& r, std::string_view ns, std::string_view name,
                     const json& object, const ApplyOptions& options);
  // A non-apply patch. `field_manager` names who owns the changed fields afterwards (default:
  // the User-Agent's program name).
  Result<json> patch(const Resource& r, std::string_view ns, std::string_view name,
                     const json& patch, PatchType type, std::string_view subresource = "",
                     std::string_view field_manager = "");
  // Streams events to `on_event` until the server closes the stream, `on_event` returns false,
  // or `cancel` fires (all Ok), or an error (network, HTTP status, in-stream ERROR).
  Status watch(const Resource& r, std::string_view ns, const WatchOptions& options,
               const std::function<bool(WatchEvent&&)>& on_event, Cancellation& cancel);
  // Discovery: whether the API server serves `plural` in group/version.
  Result<bool> is_served(std::string_view group, std::string_view version, std::string_view plural);

  // Whether requests wait for the client-side limit now (see ClientOptions).
  bool rate_limited() const;
  const RequestCounts& counts() const { return counts_; }
  // Stops this client for good: requests in flight are abandoned, waits for the rate limit or a
  // 429's Retry-After end, and every call from now on fails at once with
  // ApiError::shutting_down. Used by a stopping process (so no reconcile outlives the shutdown
  // bound) and by a leader that lost its lease (so it stops writing at once). Thread-safe.
  void shut_down();
  const std::string& server() const { return transport_->server(); }
  // The transport, for another client with a budget of its own over the same connections.
  const std::shared_ptr<HttpTransport>& transport() const { return transport_; }

 private:
  Result<HttpResponse> send(HttpRequest req);
  Result<json> send_json(HttpRequest req, const FilteredParse* filter = nullptr);

  std::shared_ptr<HttpTransport> transport_;
  const std::chrono::seconds request_timeout_;
  // Reads a response's flow-control headers (ClientOptions::unlimited_under_flow_control).
  void observe_flow_control(const HttpResponse& resp);
  TokenBucket limiter_;
  bool unlimited_under_flow_control_ = false;
  std::atomic<int> flow_control_{-1};  // -1 not seen yet, 0 absent, 1 present
  RequestCounts counts_;
  Cancellation shutdown_;
};

}  // namespace tracing::kube
