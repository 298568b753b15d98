#include "operator/kube/error.h"

#include <sstream>

namespace tracing::kube {
namespace {

// The string at obj[key]; "" when `obj` is no object or the field is absent or not a string (a
// body that only looks like a Status must not throw).
std::string string_field(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

ApiError ApiError::from_response(int http_code, const std::string& body) {
  ApiError e;
  e.code = http_code;
  auto status = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (string_field(status, "kind") == "Status") {
    e.reason = string_field(status, "reason");
    e.message = string_field(status, "message");
    if (auto it = status.find("code"); it != status.end() && it->is_number_integer()) {
      e.code = it->get<int>();
    }
    if (auto d = status.find("details"); d != status.end() && d->is_object()) {
      if (auto c = d->find("causes"); c != d->end() && c->is_array()) {
        for (const auto& cause : *c) {
          e.causes.push_back(StatusCause{string_field(cause, "reason"),
                                         string_field(cause, "message"),
                                         string_field(cause, "field")});
        }
      }
      if (auto r = d->find("retryAfterSeconds"); r != d->end() && r->is_number_integer()) {
        e.retry_after = std::chrono::seconds(r->get<int>());
      }
    }
  } else {
    e.message = body.size() > 512 ? body.substr(0, 512) + "..." : body;
  }
  if (e.reason.empty()) {
    switch (e.code) {
      case 400:
        e.reason = "BadRequest";
        break;
      case 401:
        e.reason = "Unauthorized";
        break;
      case 403:
        e.reason = "Forbidden";
        break;
      case 404:
        e.reason = "NotFound";
        break;
      case 405:
        e.reason = "MethodNotAllowed";
        break;
      case 409:
        e.reason = "Conflict";
        break;
      case 410:
        e.reason = "Expired";
        break;
      case 415:
        e.reason = "UnsupportedMediaType";
        break;
      case 422:
        e.reason = "Invalid";
        break;
      case 429:
        e.reason = "TooManyRequests";
        break;
      case 500:
        e.reason = "InternalError";
        break;
      case 503:
        e.reason = "ServiceUnavailable";
        break;
      case 504:
        e.reason = "Timeout";
        break;
      default:
        e.reason = "Unknown";
        break;
    }
  }
  return e;
}

std::string ApiError::to_string() const {
  std::ostringstream out;
  if (is_network()) {
    out << "network error: " << message;
  } else if (code == 0) {
    out << reason << ": " << message;
  } else {
    out << code << " " << reason << ": " << message;
  }
  for (const auto& c : causes) {
    out << "\n  " << (c.field.empty() ? "" : c.field + ": ") << c.message;
  }
  return out.str();
}

}  // namespace tracing::kube
