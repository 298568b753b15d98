// Which HTTP proxy requests to the API server go through: the cluster's `proxy-url`, else the
// environment as Go's net/http reads it (http.ProxyFromEnvironment, which client-go uses).
//
// The transport (cpprestsdk) speaks to a proxy in plain HTTP only: HTTPS to the API server is
// tunnelled with CONNECT, with Basic proxy credentials from the URL's user info. A proxy reached
// over TLS (https://) or SOCKS (socks5://), both of which client-go supports, is refused with an
// error rather than bypassed.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "operator/kube/error.h"

namespace tracing::kube {

struct ProxyUrl {
  std::string host;  // without brackets for IPv6
  int port = 80;     // the URL's port, else http's 80 (as Go)
  std::string user;  // percent-decoded; empty = no credentials
  std::string password;
};

// Parses an http:// proxy URL (a value without a scheme is taken as http://, as Go does for
// the environment). Returns why it cannot be used when it is not one.
Result<ProxyUrl> parse_proxy_url(const std::string& url);

// Why `url` cannot be a proxy-url for this client; nullopt when it can.
std::optional<std::string> check_proxy_url(const std::string& url);

// The proxy URL for requests to `server` ("" = connect directly):
// - `proxy_url` (the cluster's proxy-url) when set, for every host;
// - else HTTPS_PROXY (or https_proxy) for an https server, HTTP_PROXY (or http_proxy) for an
//   http one (the upper-case name wins when both are set), unless NO_PROXY (or no_proxy)
//   exempts the server: "*", an IP, a CIDR, a domain (which covers its subdomains; a leading
//   "." or "*." covers only them), each optionally with ":port". localhost and loopback
//   addresses always connect directly. An environment proxy this client cannot use is an error.
// `getenv` exists for tests.
Result<std::string> proxy_for(const std::string& server, const std::string& proxy_url,
                              const std::function<const char*(const char*)>& getenv = nullptr);

}  // namespace tracing::kube
