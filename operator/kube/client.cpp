#include "operator/kube/client.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "operator/kube/line_splitter.h"

namespace tracing::kube {

namespace {

std::string join_query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string q;
  for (const auto& [k, v] : params) {
    q += q.empty() ? "?" : "&";
    q += k + "=" + url_encode(v);
  }
  return q;
}

bool is_write(const std::string& method) { return method != "GET"; }

Result<json> parse_body(const HttpResponse& resp, const FilteredParse* filter = nullptr) {
  auto j = filter ? parse_filtered(resp.body, *filter)
                  : json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return ApiError{resp.status,
                    "InvalidResponse",
                    "response is not JSON: " + resp.body.substr(0, 200),
                    {},
                    std::nullopt};
  }
  return j;
}

ApiError error_of(const HttpResponse& resp) {
  ApiError e = ApiError::from_response(resp.status, resp.body);
  if (auto it = resp.headers.find("retry-after"); it != resp.headers.end()) {
    try {
      e.retry_after = std::chrono::seconds(std::stoi(it->second));
    } catch (...) {
    }
  }
  return e;
}

}  // namespace

Client::Client(std::shared_ptr<HttpTransport> transport, ClientOptions options)
    : transport_(std::move(transport)),
      request_timeout_(options.request_timeout),
      limiter_(options.qps, options.burst),
      unlimited_under_flow_control_(options.unlimited_under_flow_control) {}

bool Client::rate_limited() const {
  return limiter_.enabled() && !(unlimited_under_flow_control_ && flow_control_.load() == 1);
}

void Client::observe_flow_control(const HttpResponse& resp) {
  if (!unlimited_under_flow_control_ || !limiter_.enabled()) return;
  const int seen = resp.headers.count("x-kubernetes-pf-flowschema-uid") ? 1 : 0;
  if (flow_control_.exchange(seen) != seen) {
    spdlog::info(seen ? "the API server applies Priority and Fairness: no client-side rate limit"
                      : "the API server's responses show no Priority and Fairness: client-side "
                        "rate limit in force");
  }
}

void RequestCounts::record(const std::string& method, const std::string& code) {
  std::lock_guard<std::mutex> g(mu_);
  ++by_method_and_code_[{method, code}];
}

std::map<std::pair<std::string, std::string>, uint64_t> RequestCounts::by_method_and_code() const {
  std::lock_guard<std::mutex> g(mu_);
  return by_method_and_code_;
}

void RequestCounts::record_verb(const std::string& verb, const Resource& r) {
  std::lock_guard<std::mutex> g(mu_);
  ++by_verb_and_resource_[{verb, r.group.empty() ? r.plural : r.plural + "." + r.group}];
}

std::map<std::pair<std::string, std::string>, uint64_t> RequestCounts::by_verb_and_resource()
    const {
  std::lock_guard<std::mutex> g(mu_);
  return by_verb_and_resource_;
}

void Client::shut_down() {
  shutdown_.cancel();
  limiter_.close();
}

Result<HttpResponse> Client::send(HttpRequest req) {
  req.cancel = &shutdown_;
  req.timeout = request_timeout_;
  auto not_sent = [&req] {
    return ApiError::shutting_down("not sent: the client is shut down (" + req.method + " " +
                                   req.path + ")");
  };
  for (int attempt = 0;; ++attempt) {
    if ((rate_limited() && !limiter_.acquire()) || shutdown_.cancelled()) return not_sent();
    (is_write(req.method) ? counts_.writes : counts_.reads)++;
    auto resp = transport_->send(req);
    counts_.record(req.method, resp ? std::to_string(resp->status) : "<error>");
    if (!resp) return resp;
    observe_flow_control(*resp);
    if (resp->status == 429 && attempt < 3) {
      ApiError e = error_of(*resp);
      auto wait = e.retry_after.value_or(std::chrono::seconds(1));
      spdlog::debug("429 from {} {}: retrying in {}s", req.method, req.path, wait.count());
      if (!limiter_.sleep_for(
              std::min<TokenBucket::clock::duration>(wait, std::chrono::seconds(10)))) {
        return not_sent();
      }
      continue;
    }
    return resp;
  }
}

Result<json> Client::send_json(HttpRequest req, const FilteredParse* filter) {
  auto resp = send(std::move(req));
  if (!resp) return resp.error();
  if (resp->status < 200 || resp->status >= 300) return error_of(*resp);
  return parse_body(*resp, filter);
}

Result<json> Client::get(const Resource& r, std::string_view ns, std::string_view name) {
  counts_.record_verb("get", r);
  return send_json({"GET", r.object_path(ns, name)});
}

Result<json> Client::create(const Resource& r, std::string_view ns, const json& object) {
  counts_.record_verb("create", r);
  return send_json({"POST", r.collection_path(ns), object.dump(), "application/json"});
}

Result<json> Client::replace(const Resource& r, std::string_view ns, std::string_view name,
                             const json& object, std::string_view subresource) {
  counts_.record_verb("update", r);
  std::string path = r.object_path(ns, name);
  if (!subresource.empty()) path += "/" + std::string(subresource);
  return send_json({"PUT", path, object.dump(), "application/json"});
}

Status Client::remove(const Resource& r, std::string_view ns, std::string_view name,
                      const DeleteOptions& options) {
  counts_.record_verb("delete", r);
  json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  if (!options.precondition_uid.empty()) body["preconditions"]["uid"] = options.precondition_uid;
  if (!options.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = options.precondition_resource_version;
  }
  auto resp = send({"DELETE", r.object_path(ns, name), body.dump(), "application/json"});
  if (!resp) return resp.error();
  if (resp->status < 200 || resp->status >= 300) return error_of(*resp);
  return Ok{};
}

Result<ObjectList> Client::list(const Resource& r, std::string_view ns,
                                const ListOptions& options) {
  ObjectList out;
  std::string cont;
  // Items are filtered and, with `each`, handed over one by one while a page is parsed: a page
  // of large objects is never held whole.
  FilteredParse filter{{"items"}, options.fields, nullptr};
  if (options.each) filter.each = [&](json&& item) { options.each(std::move(item)); };
  const bool filtered = options.fields || options.each;
  for (int restarts = 0;;) {
    std::vector<std::pair<std::string, std::string>> params;
    if (!options.label_selector.empty())
      params.emplace_back("labelSelector", options.label_selector);
    if (!options.field_selector.empty())
      params.emplace_back("fieldSelector", options.field_selector);
    if (options.limit > 0) params.emplace_back("limit", std::to_string(options.limit));
    if (!cont.empty()) {
      params.emplace_back("continue", cont);
    } else if (!options.resource_version.empty()) {
      params.emplace_back("resourceVersion", options.resource_version);
    }
    counts_.record_verb("list", r);
    auto page = send_json({"GET", r.collection_path(ns) + join_query(params)},
                          filtered ? &filter : nullptr);
    if (!page) {
      // An expired continue token: the snapshot is gone, start the list over (client-go does the
      // same, falling back to a fresh list).
      if (page.error().is_expired() && !cont.empty() && restarts++ < 3) {
        spdlog::info("list {}: continue token expired, restarting the list", r.plural);
        out = ObjectList{};
        out.restarts = restarts;
        cont.clear();
        if (options.on_restart) options.on_restart();
        continue;
      }
      return page.error();
    }
    ++out.pages;
    json& body = *page;
    if (out.resource_version.empty()) {
      out.resource_version = body["metadata"].value("resourceVersion", "");
    }
    if (auto it = body.find("items"); it != body.end() && it->is_array()) {
      for (auto& item : *it) {
        if (options.each) {
          options.each(std::move(item));
        } else {
          out.items.push_back(std::move(item));
        }
      }
    }
    cont = body["metadata"].value("continue", "");
    if (options.on_page) options.on_page(out.pages);
    if (cont.empty()) return out;
  }
}

Result<json> Client::apply(const Resource& r, std::string_view ns, std::string_view name,
                           const json& object, const ApplyOptions& options) {
  counts_.record_verb("patch", r);
  std::vector<std::pair<std::string, std::string>> params{{"fieldManager", options.field_manager}};
  if (options.force) params.emplace_back("force", "true");
  std::string path = r.object_path(ns, name);
  if (!options.subresource.empty()) path += "/" + options.subresource;
  HttpRequest req{"PATCH", path + join_query(params), object.dump(),
                  "application/apply-patch+yaml"};
  // As client-go's metadata client asks, the plain type last. An error still comes as a Status
  // (Client.AMetadataOnlyApply… checks a conflict's causes).
  if (options.metadata_only) {
    req.accept = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
  }
  return send_json(std::move(req));
}

Result<json> Client::patch(const Resource& r, std::string_view ns, std::string_view name,
                           const json& patch, PatchType type, std::string_view subresource,
                           std::string_view field_manager) {
  counts_.record_verb("patch", r);
  std::string path = r.object_path(ns, name);
  if (!subresource.empty()) path += "/" + std::string(subresource);
  if (!field_manager.empty()) path += "?fieldManager=" + url_encode(field_manager);
  const char* content_type = type == PatchType::kMerge ? "application/merge-patch+json"
                             : type == PatchType::kStrategicMerge
                                 ? "application/strategic-merge-patch+json"
                                 : "application/json-patch+json";
  return send_json({"PATCH", path, patch.dump(), content_type});
}

Status Client::watch(const Resource& r, std::string_view ns, const WatchOptions& options,
                     const std::function<bool(WatchEvent&&)>& on_event, Cancellation& cancel) {
  std::vector<std::pair<std::string, std::string>> params{{"watch", "1"}};
  if (!options.resource_version.empty()) {
    params.emplace_back("resourceVersion", options.resource_version);
  }
  if (options.allow_bookmarks) params.emplace_back("allowWatchBookmarks", "true");
  if (!options.label_selector.empty()) params.emplace_back("labelSelector", options.label_selector);
  if (!options.field_selector.empty()) params.emplace_back("fieldSelector", options.field_selector);
  params.emplace_back("timeoutSeconds", std::to_string(options.timeout_seconds));

  HttpRequest req{"GET", r.collection_path(ns) + join_query(params)};
  // The idle timeout must outlast the server's own deadline (and a bookmark's silence).
  req.timeout = std::chrono::seconds(options.timeout_seconds + 15);

  LineSplitter splitter;
  std::optional<ApiError> in_stream_error;
  auto on_line = [&](std::string_view line) {
    DecodedWatchLine decoded = decode_watch_line(line, options.fields);
    if (auto* error = std::get_if<ApiError>(&decoded)) {
      in_stream_error = std::move(*error);
      return false;
    }
    if (auto* unknown = std::get_if<UnknownWatchEvent>(&decoded)) {
      spdlog::warn("watch {}: ignoring event of unknown type {}", r.plural, unknown->type);
      return true;
    }
    return on_event(std::get<WatchEvent>(std::move(decoded)));
  };

  req.cancel = &shutdown_;
  if ((rate_limited() && !limiter_.acquire()) || shutdown_.cancelled()) {
    return ApiError::shutting_down("watch not started: the client is shut down");
  }
  counts_.reads++;
  counts_.record_verb("watch", r);
  auto resp = transport_->stream(
      req, [&](std::string_view chunk) { return splitter.feed(chunk, on_line); }, cancel);
  counts_.record("WATCH", resp ? std::to_string(resp->status) : "<error>");
  if (!resp) return resp.error();
  if (resp->status < 200 || resp->status >= 300) return error_of(*resp);
  if (in_stream_error) return *in_stream_error;
  if (splitter.overflowed()) {
    return ApiError{200, "InvalidResponse", "watch event larger than 64 MiB", {}, std::nullopt};
  }
  return Ok{};
}

Result<bool> Client::is_served(std::string_view group, std::string_view version,
                               std::string_view plural) {
  Resource r{std::string(group), std::string(version), "", true, ""};
  auto doc = send_json({"GET", r.group_version_path()});
  if (!doc) {
    if (doc.error().is_not_found()) return false;
    return doc.error();
  }
  for (const auto& res : (*doc)["resources"]) {
    if (res.value("name", "") == plural) return true;
  }
  return false;
}

}  // namespace tracing::kube
