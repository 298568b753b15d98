#include "operator/kube/proxy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace tracing::kube {
namespace {

ApiError invalid(std::string message) {
  return ApiError{0, "InvalidConfig", std::move(message), {}, std::nullopt};
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(" \t") - b + 1));
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

// host[:port] with IPv6 in brackets. Returns false when malformed.
bool split_host_port(std::string_view hostport, std::string& host, std::string& port) {
  port.clear();
  if (hostport.starts_with('[')) {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(hostport.substr(1, close - 1));
    const auto rest = hostport.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return false;
      port = std::string(rest.substr(1));
    }
  } else {
    const auto colon = hostport.rfind(':');
    if (colon != std::string_view::npos) {
      if (hostport.find(':') != colon) return false;  // bare IPv6 without brackets
      port = std::string(hostport.substr(colon + 1));
      hostport = hostport.substr(0, colon);
    }
    host = std::string(hostport);
  }
  if (!port.empty() &&
      (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
       std::atoi(port.c_str()) > 65535)) {
    return false;
  }
  return true;
}

struct Url {
  std::string scheme;
  std::string userinfo;
  std::string host;
  std::string port;  // "" when absent
};

std::optional<Url> parse_url(const std::string& text) {
  const auto sep = text.find("://");
  if (sep == std::string::npos || sep == 0) return std::nullopt;
  Url u;
  u.scheme = lower(text.substr(0, sep));
  std::string_view rest(text);
  rest = rest.substr(sep + 3);
  rest = rest.substr(0, std::min(rest.find_first_of("/?#"), rest.size()));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    u.userinfo = std::string(rest.substr(0, at));
    rest = rest.substr(at + 1);
  }
  if (!split_host_port(rest, u.host, u.port) || u.host.empty()) return std::nullopt;
  return u;
}

// An IPv4 or IPv6 address as bytes (4 or 16); nullopt when `s` is not one.
std::optional<std::vector<unsigned char>> parse_ip(const std::string& s) {
  std::array<unsigned char, 16> buf{};
  if (inet_pton(AF_INET, s.c_str(), buf.data()) == 1) {
    return std::vector<unsigned char>(buf.begin(), buf.begin() + 4);
  }
  if (inet_pton(AF_INET6, s.c_str(), buf.data()) == 1) {
    std::vector<unsigned char> v(buf.begin(), buf.end());
    // An IPv4-mapped address compares as IPv4, as Go's net.IP does.
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(v.data(), kMapped, 12) == 0)
      return std::vector<unsigned char>(v.begin() + 12, v.end());
    return v;
  }
  return std::nullopt;
}

bool is_loopback(const std::vector<unsigned char>& ip) {
  if (ip.size() == 4) return ip[0] == 127;
  for (int i = 0; i < 15; ++i) {
    if (ip[i] != 0) return false;
  }
  return ip[15] == 1;
}

bool in_cidr(const std::vector<unsigned char>& ip, const std::vector<unsigned char>& net,
             int bits) {
  if (ip.size() != net.size()) return false;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    const unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
    if ((ip[i] & mask) != (net[i] & mask)) return false;
  }
  return true;
}

// Whether NO_PROXY exempts host:port (Go's golang.org/x/net/http/httpproxy matchers).
bool exempt(const std::string& no_proxy, const std::string& host, const std::string& port) {
  const auto ip = parse_ip(host);
  std::size_t start = 0;
  while (start <= no_proxy.size()) {
    const std::size_t end = std::min(no_proxy.find(',', start), no_proxy.size());
    std::string p = lower(trim(std::string_view(no_proxy).substr(start, end - start)));
    start = end + 1;
    if (p.empty()) continue;
    if (p == "*") return true;
    if (const auto slash = p.find('/'); slash != std::string::npos) {  // CIDR
      const auto net = parse_ip(p.substr(0, slash));
      const std::string bits = p.substr(slash + 1);
      if (net && ip && !bits.empty() && bits.find_first_not_of("0123456789") == std::string::npos &&
          std::atoi(bits.c_str()) <= static_cast<int>(net->size() * 8) &&
          in_cidr(*ip, *net, std::atoi(bits.c_str()))) {
        return true;
      }
      continue;
    }
    std::string phost, pport;
    if (!split_host_port(p, phost, pport)) phost = p, pport.clear();
    if (phost.empty()) continue;
    if (const auto pip = parse_ip(phost)) {
      if (ip && *ip == *pip && (pport.empty() || pport == port)) return true;
      continue;
    }
    if (phost.starts_with("*.")) phost = phost.substr(1);
    bool match_host = false;
    if (phost[0] != '.') {
      match_host = true;
      phost = "." + phost;
    }
    const std::string h = lower(host);
    if ((h.ends_with(phost) || (match_host && h == phost.substr(1))) &&
        (pport.empty() || pport == port)) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<ProxyUrl> parse_proxy_url(const std::string& text) {
  const std::string with_scheme = text.find("://") == std::string::npos ? "http://" + text : text;
  const auto u = parse_url(with_scheme);
  if (!u) return invalid("not a URL of the form http://[user:password@]host[:port]");
  if (u->scheme == "https" || u->scheme == "socks5" || u->scheme == "socks5h") {
    return invalid("a " + u->scheme +
                   ":// proxy is not supported by this client's HTTP transport (cpprestsdk "
                   "speaks to proxies in plain HTTP only); use an http:// proxy");
  }
  if (u->scheme != "http") {
    return invalid("unsupported scheme \"" + u->scheme + "\", must be http");
  }
  ProxyUrl out;
  out.host = u->host;
  out.port = u->port.empty() ? 80 : std::atoi(u->port.c_str());
  if (!u->userinfo.empty()) {
    const auto colon = u->userinfo.find(':');
    auto user = percent_decode(u->userinfo.substr(0, colon));
    auto password = percent_decode(colon == std::string::npos ? "" : u->userinfo.substr(colon + 1));
    if (!user || !password) return invalid("invalid percent-encoding in the user info");
    out.user = *user;
    out.password = *password;
  }
  return out;
}

std::optional<std::string> check_proxy_url(const std::string& url) {
  // A kubeconfig's proxy-url must name its scheme (client-go's parseProxyURL).
  if (url.find("://") == std::string::npos) {
    return "unsupported scheme \"\", must be http";
  }
  auto parsed = parse_proxy_url(url);
  if (!parsed) return parsed.error().message;
  return std::nullopt;
}

Result<std::string> proxy_for(const std::string& server, const std::string& proxy_url,
                              const std::function<const char*(const char*)>& getenv_fn) {
  if (!proxy_url.empty()) {
    if (auto error = check_proxy_url(proxy_url)) {
      return invalid("proxy-url \"" + proxy_url + "\": " + *error);
    }
    return proxy_url;
  }
  auto env = [&](const char* upper, const char* lower_name) -> std::pair<std::string, std::string> {
    for (const char* name : {upper, lower_name}) {
      const char* v = getenv_fn ? getenv_fn(name) : std::getenv(name);
      if (v != nullptr && *v != '\0') return {name, v};
    }
    return {"", ""};
  };
  const auto u = parse_url(server);
  if (!u) return std::string();  // the config loader has checked the server URL already
  const bool https = u->scheme == "https";
  const auto [name, value] =
      https ? env("HTTPS_PROXY", "https_proxy") : env("HTTP_PROXY", "http_proxy");
  if (value.empty()) return std::string();
  const std::string port = u->port.empty() ? (https ? "443" : "80") : u->port;
  if (lower(u->host) == "localhost") return std::string();
  if (const auto ip = parse_ip(u->host); ip && is_loopback(*ip)) return std::string();
  if (exempt(env("NO_PROXY", "no_proxy").second, u->host, port)) return std::string();
  if (auto parsed = parse_proxy_url(value); !parsed) {
    return invalid("environment variable " + name + "=\"" + value +
                   "\": " + parsed.error().message);
  }
  return value;
}

}  // namespace tracing::kube
