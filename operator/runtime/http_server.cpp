#include "operator/runtime/http_server.h"

#include <cpprest/http_listener.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <fstream>
#include <vector>

namespace tracing::runtime {

namespace http = web::http;
using web::http::experimental::listener::http_listener;

struct HttpServer::Impl {
  std::string metrics_address;
  std::string health_address;
  Endpoints endpoints;
  std::vector<std::unique_ptr<http_listener>> listeners;
};

namespace {

std::optional<std::string> to_uri(const std::string& address) {
  if (address.empty() || address == "0") return std::nullopt;
  std::string a = address;
  if (a[0] == ':') a = "0.0.0.0" + a;
  return "http://" + a;
}

}  // namespace

HttpServer::HttpServer(std::string metrics_address, std::string health_address, Endpoints endpoints)
    : impl_(std::make_unique<Impl>(
          Impl{std::move(metrics_address), std::move(health_address), std::move(endpoints), {}})) {}

HttpServer::~HttpServer() { stop(); }

kube::Status HttpServer::start() {
  auto serve = [this](const std::string& address, bool metrics, bool health) -> kube::Status {
    auto uri = to_uri(address);
    if (!uri) return kube::Ok{};
    try {
      auto l = std::make_unique<http_listener>(*uri);
      l->support(http::methods::GET, [this, metrics, health](http::http_request req) {
        std::string path = req.relative_uri().path();
        if (metrics && path == "/metrics") {
          http::http_response resp(http::status_codes::OK);
          resp.set_body(impl_->endpoints.metrics ? impl_->endpoints.metrics() : "",
                        "text/plain; version=0.0.4");
          req.reply(resp);
        } else if (health && path == "/healthz") {
          std::string why = impl_->endpoints.unhealthy ? impl_->endpoints.unhealthy() : "";
          if (why.empty()) {
            req.reply(http::status_codes::OK, "ok");
          } else {
            req.reply(http::status_codes::InternalError, why);
          }
        } else if (health && path == "/readyz") {
          bool ready = impl_->endpoints.ready && impl_->endpoints.ready();
          req.reply(ready ? http::status_codes::OK : http::status_codes::ServiceUnavailable,
                    ready ? "ok" : "informers not synced, or their last list or watch failed");
        } else {
          req.reply(http::status_codes::NotFound, "not found");
        }
      });
      l->open().wait();
      impl_->listeners.push_back(std::move(l));
    } catch (const std::exception& e) {
      return kube::ApiError{
          0, "InvalidConfig", "cannot listen on " + address + ": " + e.what(), {}, std::nullopt};
    }
    return kube::Ok{};
  };
  if (impl_->metrics_address == impl_->health_address) {
    return serve(impl_->metrics_address, true, true);
  }
  if (auto s = serve(impl_->metrics_address, true, false); !s) return s;
  return serve(impl_->health_address, false, true);
}

void HttpServer::stop() {
  for (auto& l : impl_->listeners) {
    try {
      l->close().wait();
    } catch (const std::exception& e) {
      spdlog::debug("closing listener: {}", e.what());
    }
  }
  impl_->listeners.clear();
}

uint64_t resident_memory_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace tracing::runtime
