// The project's own small HTTP interface. Everything above it (the client, the informers) speaks
// only this; cpprestsdk lives behind it in http_cpprest.cpp so the transport can be swapped
// (cpprestsdk is archived upstream).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "operator/kube/cancellation.h"
#include "operator/kube/config.h"
#include "operator/kube/error.h"

namespace tracing::kube {

struct HttpRequest {
  std::string method = "GET";
  std::string path;  // absolute path with query: /api/v1/namespaces?limit=500
  std::string body;
  std::string content_type;  // sent only with a body
  // The Accept header; empty: application/json.
  std::string accept;
  // Idle timeout: the request fails when no byte arrives for this long. For a watch, set it
  // above timeoutSeconds so the server's own deadline ends the stream first.
  std::chrono::seconds timeout{60};
  // When set and fired, send() abandons the request (in flight or not yet sent) and fails it
  // with ApiError::shutting_down. The Cancellation must outlive the call.
  Cancellation* cancel = nullptr;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
};

// The operator's name and version (the chart's appVersion follows it; a test checks).
inline constexpr char kUserAgent[] = "tracing-operator/0.1";
inline constexpr std::string_view kVersion = std::string_view(kUserAgent).substr(17);

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Sends a request and reads the whole response. A response of any HTTP status is a value;
  // only a request that got no answer (connect, TLS, idle timeout) is an ApiError (network).
  virtual Result<HttpResponse> send(const HttpRequest& req) = 0;
  // Sends a request and hands the body to `on_chunk` piece by piece as it arrives, until the
  // server ends it, `on_chunk` returns false, or `cancel` fires (all three return the response
  // with an empty body). A non-2xx response is not streamed: its body is collected into the
  // returned response. A connection that breaks mid-body is an ApiError (network).
  virtual Result<HttpResponse> stream(const HttpRequest& req,
                                      const std::function<bool(std::string_view)>& on_chunk,
                                      Cancellation& cancel) = 0;
  // The API server's base URL, for messages.
  virtual const std::string& server() const = 0;
};

// The cpprestsdk transport for a cluster: TLS trusting only the cluster CA when one is given,
// client certificates from PEM in memory, bearer tokens re-read from tokenFile (every minute,
// and after a 401, which is then retried once), exec credential plugins (exec_credential.h; run
// again after a 401, the request then retried once), and an HTTP proxy from the cluster's
// proxy-url or the environment (proxy.h).
// `user_agent`'s program name (before the "/") is also the field manager the API server records
// for this client's non-apply writes.
Result<std::shared_ptr<HttpTransport>> make_http_transport(
    const ClusterConfig& config, const std::string& user_agent = kUserAgent);

}  // namespace tracing::kube
