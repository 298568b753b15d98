// HttpTransport implemented with cpprestsdk (Debian's 2.10.18, Asio/OpenSSL backend).
//
// Facts this file relies on (checked on this machine, see shared/notes/kube-api-semantics.md):
// - the client timeout is an idle timeout, reset by every chunk; a watch's client is built with a
//   timeout above the watch's timeoutSeconds;
// - set_ssl_context_callback runs after cpprestsdk installed the default verify paths, so trusting
//   only the cluster CA means replacing the X509_STORE (and loading nothing into the one it
//   replaces takes SSL_CERT_FILE: system_trust.h);
// - the hostname check is always against the URI host: tls-server-name cannot be honoured;
// - a response body buffer's getn() waits for the full count unless data was synced, so the
//   stream reader waits for one byte and then drains what is already available;
// - a proxy (http_client_config::set_proxy) is spoken to in plain HTTP: an https:// server is
//   reached through it with CONNECT (Basic proxy credentials when set), an http:// one with
//   absolute-form requests; there is no TLS or SOCKS to the proxy;
// - the client certificate is fixed when an http_client is built (in the SSL context
//   callback), so a certificate from an exec plugin that changes means a new http_client.
#include <cpprest/http_client.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pplx/threadpool.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>

#include "operator/kube/exec_credential.h"
#include "operator/kube/http.h"
#include "operator/kube/proxy.h"

namespace tracing::kube {

namespace {

namespace http = web::http;
namespace client = web::http::client;

constexpr size_t kIoThreads = 4;  // cpprestsdk's I/O pool, for the whole process

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
      auto creds = credentials();
      if (!creds) return creds.error();
      auto res = send_once(req, *creds);
      if (res && res->status == 401 && attempt == 0 && refreshable()) {
        // A rotated bound token or an exec credential the server no longer takes: fetch it
        // again and try once more.
        invalidate(*creds);
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
      auto creds = credentials();
      if (!creds) return creds.error();
      auto prepared = prepare(req, *creds);
      // A client of its own: a watch holds its connection for minutes, and its timeout
      // (timeoutSeconds + a margin) differs from one watch to the next.
      auto http_client = std::make_shared<client::http_client>(
          config_.server, client_config(req.timeout, creds->cert_pem, creds->key_pem));
      http::http_response resp = http_client->request(prepared, cts.get_token()).get();
      HttpResponse out;
      out.status = resp.status_code();
      for (const auto& [k, v] : resp.headers()) out.headers[lower(k)] = v;
      if (out.status < 200 || out.status >= 300) {
        out.body = resp.extract_utf8string(true).get();
        if (out.status == 401) invalidate(*creds);
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
    auto invalid = [](std::string message) {
      return ApiError{0, "InvalidConfig", std::move(message), {}, std::nullopt};
    };
    if (!config_.client_cert_pem.empty() && !pem_has_cert(config_.client_cert_pem)) {
      return invalid("client certificate of " + config_.source + " is not a PEM certificate");
    }
    if (!config_.client_key_pem.empty() && !pem_has_key(config_.client_key_pem)) {
      return invalid("client key of " + config_.source + " is not a PEM private key");
    }
    if (!config_.ca_pem.empty() && !pem_has_cert(config_.ca_pem)) {
      return invalid("certificate authority of " + config_.source + " is not a PEM certificate");
    }
    if (!config_.tls_server_name.empty()) {
      spdlog::warn(
          "tls-server-name {} is not supported by this transport; the certificate is "
          "checked against the server URL's host",
          config_.tls_server_name);
    }
    auto proxy = proxy_for(config_.server, config_.proxy_url);
    if (!proxy) return invalid(config_.source + ": " + proxy.error().message);
    if (!proxy->empty()) {
      auto parsed = parse_proxy_url(*proxy);
      if (!parsed)
        return invalid(config_.source + ": proxy " + *proxy + ": " + parsed.error().message);
      proxy_ = *parsed;
      spdlog::info("connecting to {} through the proxy {}:{}", config_.server, proxy_->host,
                   proxy_->port);
    }
    if (config_.exec) exec_ = std::make_unique<ExecCredentialSource>(*config_.exec, config_);
    try {
      clients_[std::chrono::seconds(60)] = std::make_shared<client::http_client>(
          config_.server,
          client_config(std::chrono::seconds(60), config_.client_cert_pem, config_.client_key_pem));
      clients_cert_ = config_.client_cert_pem;
    } catch (const std::exception& e) {
      return invalid("server URL " + config_.server + ": " + e.what());
    }
    return Ok{};
  }

 private:
  // What authenticates one request: a bearer token and/or a client certificate, and the exec
  // credential they came from (to invalidate after a 401).
  struct Credentials {
    std::string bearer;
    std::string cert_pem;
    std::string key_pem;
    std::shared_ptr<const ExecCredential> exec;
  };

  bool refreshable() const { return !config_.token_file.empty() || exec_ != nullptr; }

  void invalidate(const Credentials& used) {
    if (exec_) {
      spdlog::info("the API server refused the exec plugin's credential (401): running {} again",
                   config_.exec->command);
      exec_->invalidate(used.exec);
    } else {
      tokens_.invalidate();
    }
  }

  Result<Credentials> credentials() {
    Credentials c;
    if (exec_) {
      auto cred = exec_->get();
      if (!cred) return cred.error();
      const ExecCredential& e = **cred;
      if (!e.client_cert_pem.empty() &&
          (!pem_has_cert(e.client_cert_pem) || !pem_has_key(e.client_key_pem))) {
        return ApiError{
            0,
            "ExecPluginFailed",
            "exec plugin " + config_.exec->command + ": failed parsing client key/certificate",
            {},
            std::nullopt};
      }
      c.bearer = e.token;
      c.cert_pem = e.client_cert_pem;
      c.key_pem = e.client_key_pem;
      c.exec = *cred;
      return c;
    }
    if (!tokens_.empty()) {
      auto token = tokens_.token();
      if (!token) return token.error();
      c.bearer = *token;
    }
    c.cert_pem = config_.client_cert_pem;
    c.key_pem = config_.client_key_pem;
    return c;
  }

  client::http_client_config client_config(std::chrono::seconds timeout, const std::string& cert,
                                           const std::string& key) const {
    client::http_client_config cfg;
    cfg.set_timeout(timeout);
    if (config_.insecure_skip_tls_verify) cfg.set_validate_certificates(false);
    if (proxy_) {
      web::web_proxy proxy(web::uri(
          "http://" +
          (proxy_->host.find(':') != std::string::npos ? "[" + proxy_->host + "]" : proxy_->host) +
          ":" + std::to_string(proxy_->port)));
      if (!proxy_->user.empty()) {
        proxy.set_credentials(web::credentials(proxy_->user, proxy_->password));
      }
      cfg.set_proxy(std::move(proxy));
    }
    cfg.set_ssl_context_callback([ca = config_.ca_pem, cert, key](boost::asio::ssl::context& ctx) {
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

  // The shared client for a request timeout, which keeps its connections open between
  // requests: a TLS handshake (and cpprestsdk's loading of the system's CA bundle into a new
  // context) per request cost the API server and the operator more than the request itself —
  // 38 % of the operator's CPU during a cluster-wide change went to the Events' connections
  // (their client has a timeout of its own). All are rebuilt when an exec plugin's certificate
  // changes, which also drops the connections made with the old one.
  std::shared_ptr<client::http_client> make_client(std::chrono::seconds timeout,
                                                   const Credentials& creds) {
    std::lock_guard<std::mutex> lock(client_mu_);
    if (creds.cert_pem != clients_cert_) {
      clients_.clear();
      clients_cert_ = creds.cert_pem;
    }
    auto& c = clients_[timeout];
    if (!c) {
      c = std::make_shared<client::http_client>(
          config_.server, client_config(timeout, creds.cert_pem, creds.key_pem));
    }
    return c;
  }

  http::http_request prepare(const HttpRequest& req, const Credentials& creds) {
    http::http_request r(req.method);
    r.set_request_uri(req.path);
    r.headers().add("Accept", req.accept.empty() ? "application/json" : req.accept);
    r.headers().add("User-Agent", user_agent_);
    if (!creds.bearer.empty()) r.headers().add("Authorization", "Bearer " + creds.bearer);
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
      r.set_body(req.body, req.content_type.empty() ? "application/json" : req.content_type);
    }
    return r;
  }

  static ApiError shutting_down(const HttpRequest& req) {
    return ApiError::shutting_down("abandoned: the client is shutting down (" + req.method + " " +
                                   req.path + ")");
  }

  Result<HttpResponse> send_once(const HttpRequest& req, const Credentials& creds) {
    pplx::cancellation_token_source cts;
    LinkedCancellation request_cancel(req.cancel, cts);
    try {
      auto prepared = prepare(req, creds);
      auto c = make_client(req.timeout, creds);
      http::http_response resp = c->request(prepared, cts.get_token()).get();
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
  std::unique_ptr<ExecCredentialSource> exec_;  // set when the user runs an exec plugin
  std::optional<ProxyUrl> proxy_;

  std::mutex client_mu_;
  // One per request timeout in use (a handful: the operator's, the Events'); guarded by
  // client_mu_.
  std::map<std::chrono::seconds, std::shared_ptr<client::http_client>> clients_;
  std::string clients_cert_;  // guarded by client_mu_
};

}  // namespace

Result<std::shared_ptr<HttpTransport>> make_http_transport(const ClusterConfig& config,
                                                           const std::string& user_agent) {
  // cpprestsdk runs its Asio I/O on a process-wide pool of 40 threads unless told otherwise;
  // every request here is waited for by the thread that made it, so the pool only completes
  // I/O. Four threads: 36 fewer stacks (~2 MiB resident at 10,000 Deployments) and no slower
  // (README, "Memory").
  static std::once_flag pool_once;
  std::call_once(pool_once, [] {
    try {
      crossplat::threadpool::initialize_with_threads(kIoThreads);
    } catch (const std::exception& e) {  // something used cpprestsdk first: its pool stays
      spdlog::debug("cpprestsdk's thread pool was already started: {}", e.what());
    }
  });
  auto t = std::make_shared<CpprestTransport>(config, user_agent);
  if (auto s = t->init(); !s) return s.error();
  return std::shared_ptr<HttpTransport>(t);
}

}  // namespace tracing::kube
