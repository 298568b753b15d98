// Typed errors of the Kubernetes API and of the transport beneath it.
//
// Every fallible call at a module boundary returns Result<T>: either the value or an ApiError.
// Exceptions never cross a module boundary. An ApiError says what the API server said (its
// Status object: code, reason, message, causes) or, with code 0, that no answer arrived at all
// (the network failed). `retryable()` separates what a controller should retry with backoff
// (409, 429, 5xx, network) from what will fail the same way again (400, 403, 404, 422, ...).
#pragma once

#include <cassert>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace tracing::kube {

// One entry of Status.details.causes: for a 422 the invalid field, for an apply conflict the
// field another manager owns.
struct StatusCause {
  std::string reason;   // e.g. "FieldValueInvalid", "FieldManagerConflict"
  std::string message;  // e.g. "conflict with \"kubectl\" using apps/v1"
  std::string field;    // e.g. ".spec.template.spec.containers[name=\"app\"].env[name=\"X\"].value"
};

struct ApiError {
  // HTTP status code; 0 when no HTTP answer is involved: the request got none (reason
  // "NetworkError": connection refused, TLS, timeout) or was never sent (reason "InvalidConfig":
  // a broken kubeconfig, certificate or token file).
  int code = 0;
  // Status.reason ("NotFound", "Conflict", "Expired", "Forbidden", ...), "NetworkError" or
  // "InvalidConfig".
  std::string reason;
  std::string message;
  std::vector<StatusCause> causes;
  // From a 429's Retry-After header (or Status.details.retryAfterSeconds).
  std::optional<std::chrono::seconds> retry_after;

  static ApiError network(std::string message) {
    return ApiError{0, "NetworkError", std::move(message), {}, std::nullopt};
  }
  // The request was not sent (or was abandoned) because the client was shut down.
  static ApiError shutting_down(std::string message) {
    return ApiError{0, "ShuttingDown", std::move(message), {}, std::nullopt};
  }
  // Builds an error from an HTTP status and body. A Status object in the body supplies reason,
  // message and causes; any other body becomes the message.
  static ApiError from_response(int http_code, const std::string& body);

  bool is_network() const { return code == 0 && reason == "NetworkError"; }
  bool is_shutting_down() const { return code == 0 && reason == "ShuttingDown"; }
  bool is_not_found() const { return code == 404; }
  bool is_already_exists() const { return code == 409 && reason == "AlreadyExists"; }
  // An optimistic-concurrency or apply conflict (409 other than AlreadyExists).
  bool is_conflict() const { return code == 409 && reason != "AlreadyExists"; }
  // The resourceVersion or continue token is too old: relist.
  bool is_expired() const { return code == 410 || reason == "Expired" || reason == "Gone"; }
  bool is_forbidden() const { return code == 403; }
  bool is_invalid() const { return code == 422; }
  // Whether the same request may succeed later: network failures, 409, 429, 5xx.
  bool retryable() const { return is_network() || code == 409 || code == 429 || code >= 500; }
  std::string to_string() const;
};

// Either a T or an ApiError. A deliberately small subset of std::expected (C++23).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(ApiError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const ApiError& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, ApiError> v_;
};

// Result of an operation with no value.
struct Ok {};
using Status = Result<Ok>;

}  // namespace tracing::kube
