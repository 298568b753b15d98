// HttpTransport implemented with cpprestsdk (Debian's 2.10.18, Asio/OpenSSL backend).
//
// Facts this file relies on (checked on this machine, see shared/notes/kube-api-semantics.md):
// - the client timeout is an idle timeout, reset by every chunk; a watch's client is built with a
//   timeout above the watch's timeoutSeconds;
// - set_ssl_context_callback runs after cpprestsdk installed the default verify paths, so trusting
//   only the cluster CA means replacing the X509_STORE;
// - the hostname check is always against the URI host: tls-server-name cannot be honoured;
// - a response body buffer's getn() waits for the full count unless data was synced, so the
//   stream reader waits for one byte and then drains what is already available.
#include <cpprest/http_client.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "operator/kube/http.h"

namespace tracing::kube {

namespace {

namespace http = web::http;
namespace client = web::http::client;

// Cancels `cts` when `cancel` fires, for as long as it lives (none: no-op).
class LinkedCancellation {
 public:
  LinkedCancellation(Cancellation* cancel, pplx::cancellation_token_source& cts)
      : cancel_(cancel), id_(cancel ? cancel->subscribe([&cts] { cts.cancel(); }) : -1) {}
  ~LinkedCancellation() {
    if (cancel_) cancel_->unsubscribe(id_);
  }
  LinkedCancellation(const LinkedCancellation&) = delete;
  LinkedCancellation& operator=(const LinkedCancellation&) = delete;

 private:
  Cancellation* cancel_;
  int id_;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Installs a trust store holding exactly the certificates of `ca_pem`.
void trust_only(SSL_CTX* ctx, const std::string& ca_pem) {
  X509_STORE* store = X509_STORE_new();
  BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) ++added;
    X509_free(cert);
  }
  BIO_free(bio);
  ERR_clear_error();
  SSL_CTX_set_cert_store(ctx, store);  // takes ownership
  if (added == 0) spdlog::error("the cluster CA bundle holds no PEM certificate");
}

// Whether a PEM text parses as at least one certificate / a private key.
bool pem_has_cert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert) X509_free(cert);
  ERR_clear_error();
  return cert != nullptr;
}

bool pem_has_key(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key) EVP_PKEY_free(key);
  ERR_clear_error();
  return key != nullptr;
}

class CpprestTransport final : public HttpTransport {
 public:
  CpprestTransport(ClusterConfig config, std::string user_agent)
      : config_(std::move(config)),
        user_agent_(std::move(user_agent)),
        tokens_(config_.token, config_.token_file) {}

  const std::string& server() const override { return config_.server; }

  Result<HttpResponse> send(const HttpRequest& req) override {
    for (int attempt = 0;; ++attempt) {
      auto res = send_once(req);
      if (res && res->status == 401 && attempt == 0 && !config_.token_file.empty()) {
        tokens_.invalidate();  // a rotated bound token: re-read it and try once more
        continue;
      }
      return res;
    }
  }

  Result<HttpResponse> stream(const HttpRequest& req,
                              const std::function<bool(std::string_view)>& on_chunk,
                              Cancellation& cancel) override {
    pplx::cancellation_token_source cts;
    LinkedCancellation stream_cancel(&cancel, cts);
    LinkedCancellation request_cancel(req.cancel, cts);
    try {
      auto prepared = prepare(req);
      if (!prepared) return prepared.error();
      client::http_client http_client(config_.server, client_config(req.timeout));
      http::http_response resp = http_client.request(*prepared, cts.get_token()).get();
      HttpResponse out;
      out.status = resp.status_code();
      for (const auto& [k, v] : resp.headers()) out.headers[lower(k)] = v;
      if (out.status < 200 || out.status >= 300) {
        out.body = resp.extract_utf8string(true).get();
        if (out.status == 401) tokens_.invalidate();
        return out;
      }
      auto buf = resp.body().streambuf();
      std::string chunk(64 * 1024, '\0');
      for (;;) {
        if (cancel.cancelled()) return out;
        // Wait for one byte, then take whatever else has already arrived.
        size_t n = buf.getn(reinterpret_cast<uint8_t*>(chunk.data()), 1).get();
        if (n == 0) return out;  // end of body
        size_t avail = std::min(buf.in_avail(), chunk.size() - 1);
        if (avail > 0) {
          n += buf.getn(reinterpret_cast<uint8_t*>(chunk.data()) + 1, avail).get();
        }
        if (!on_chunk(std::string_view(chunk.data(), n))) {
          cts.cancel();
          return out;
        }
      }
    } catch (const std::exception& e) {
      if (req.cancel && req.cancel->cancelled()) return shutting_down(req);
      if (cancel.cancelled()) return HttpResponse{200, "", {}};
      return ApiError::network(std::string(e.what()) + " (" + req.method + " " + req.path + ")");
    }
  }

  Status init() {
    if (!config_.client_cert_pem.empty() && !pem_has_cert(config_.client_cert_pem)) {
      return ApiError{0,
                      "InvalidConfig",
                      "client certificate of " + config_.source + " is not a PEM certificate",
                      {},
                      std::nullopt};
    }
    if (!config_.client_key_pem.empty() && !pem_has_key(config_.client_key_pem)) {
      return ApiError{0,
                      "InvalidConfig",
                      "client key of " + config_.source + " is not a PEM private key",
                      {},
                      std::nullopt};
    }
    if (!config_.ca_pem.empty() && !pem_has_cert(config_.ca_pem)) {
      return ApiError{0,
                      "InvalidConfig",
                      "certificate authority of " + config_.source + " is not a PEM certificate",
                      {},
                      std::nullopt};
    }
    if (!config_.tls_server_name.empty()) {
      spdlog::warn(
          "tls-server-name {} is not supported by this transport; the certificate is "
          "checked against the server URL's host",
          config_.tls_server_name);
    }
    try {
      default_client_ = std::make_unique<client::http_client>(
          config_.server, client_config(std::chrono::seconds(60)));
    } catch (const std::exception& e) {
      return ApiError{
          0, "InvalidConfig", "server URL " + config_.server + ": " + e.what(), {}, std::nullopt};
    }
    return Ok{};
  }

 private:
  client::http_client_config client_config(std::chrono::seconds timeout) const {
    client::http_client_config cfg;
    cfg.set_timeout(timeout);
    if (config_.insecure_skip_tls_verify) cfg.set_validate_certificates(false);
    ClusterConfig c = config_;
    cfg.set_ssl_context_callback([ca = c.ca_pem, cert = c.client_cert_pem,
                                  key = c.client_key_pem](boost::asio::ssl::context& ctx) {
      if (!ca.empty()) trust_only(ctx.native_handle(), ca);
      if (!cert.empty() && !key.empty()) {
        boost::system::error_code ec;
        ctx.use_certificate_chain(boost::asio::buffer(cert.data(), cert.size()), ec);
        if (ec) spdlog::error("loading the client certificate: {}", ec.message());
        ctx.use_private_key(boost::asio::buffer(key.data(), key.size()),
                            boost::asio::ssl::context::pem, ec);
        if (ec) spdlog::error("loading the client key: {}", ec.message());
      }
    });
    return cfg;
  }

  Result<http::http_request> prepare(const HttpRequest& req) {
    http::http_request r(req.method);
    r.set_request_uri(req.path);
    r.headers().add("Accept", "application/json");
    r.headers().add("User-Agent", user_agent_);
    if (!tokens_.empty()) {
      auto token = tokens_.token();
      if (!token) return token.error();
      r.headers().add("Authorization", "Bearer " + *token);
    }
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
      r.set_body(req.body, req.content_type.empty() ? "application/json" : req.content_type);
    }
    return r;
  }

  static ApiError shutting_down(const HttpRequest& req) {
    return ApiError::shutting_down("abandoned: the client is shutting down (" + req.method + " " +
                                   req.path + ")");
  }

  Result<HttpResponse> send_once(const HttpRequest& req) {
    pplx::cancellation_token_source cts;
    LinkedCancellation request_cancel(req.cancel, cts);
    try {
      auto prepared = prepare(req);
      if (!prepared) return prepared.error();
      std::unique_ptr<client::http_client> own;
      client::http_client* c = default_client_.get();
      if (req.timeout != std::chrono::seconds(60)) {
        own = std::make_unique<client::http_client>(config_.server, client_config(req.timeout));
        c = own.get();
      }
      http::http_response resp = c->request(*prepared, cts.get_token()).get();
      HttpResponse out;
      out.status = resp.status_code();
      for (const auto& [k, v] : resp.headers()) out.headers[lower(k)] = v;
      out.body = resp.extract_utf8string(true).get();
      return out;
    } catch (const std::exception& e) {
      if (req.cancel && req.cancel->cancelled()) return shutting_down(req);
      return ApiError::network(std::string(e.what()) + " (" + req.method + " " + req.path + ")");
    }
  }

  ClusterConfig config_;
  std::string user_agent_;
  TokenSource tokens_;
  std::unique_ptr<client::http_client> default_client_;
};

}  // namespace

Result<std::shared_ptr<HttpTransport>> make_http_transport(const ClusterConfig& config,
                                                           const std::string& user_agent) {
  auto t = std::make_shared<CpprestTransport>(config, user_agent);
  if (auto s = t->init(); !s) return s.error();
  return std::shared_ptr<HttpTransport>(t);
}

}  // namespace tracing::kube
