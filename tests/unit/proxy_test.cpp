#include "operator/kube/proxy.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace tracing::kube {
namespace {

// proxy_for with the environment `env`; "<error: ...>" on failure.
std::string proxy(const std::string& server, const std::map<std::string, std::string>& env,
                  const std::string& proxy_url = "") {
  auto r = proxy_for(server, proxy_url, [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  return r.ok() ? *r : "<error: " + r.error().message + ">";
}

TEST(ProxyFor, TheClusterProxyUrlWinsForEveryHost) {
  EXPECT_EQ(proxy("https://127.0.0.1:6443", {{"HTTPS_PROXY", "http://env:1"}}, "http://p:3128"),
            "http://p:3128");
}

TEST(ProxyFor, UsesHttpsProxyForHttpsServersAndHttpProxyForHttpOnes) {
  const std::map<std::string, std::string> env{{"HTTPS_PROXY", "http://s:1"},
                                               {"HTTP_PROXY", "http://p:2"}};
  EXPECT_EQ(proxy("https://api.example.com", env), "http://s:1");
  EXPECT_EQ(proxy("http://api.example.com:8080", env), "http://p:2");
  EXPECT_EQ(proxy("https://api.example.com", {{"HTTP_PROXY", "http://p:2"}}), "");
}

TEST(ProxyFor, PrefersTheUpperCaseVariable) {
  EXPECT_EQ(proxy("https://api.example.com", {{"https_proxy", "http://lower:1"}}),
            "http://lower:1");
  EXPECT_EQ(proxy("https://api.example.com",
                  {{"https_proxy", "http://lower:1"}, {"HTTPS_PROXY", "http://upper:1"}}),
            "http://upper:1");
}

TEST(ProxyFor, NeverProxiesLocalhostOrLoopbackFromTheEnvironment) {
  const std::map<std::string, std::string> env{{"HTTPS_PROXY", "http://s:1"}};
  EXPECT_EQ(proxy("https://localhost:6443", env), "");
  EXPECT_EQ(proxy("https://127.0.0.2:6443", env), "");
  EXPECT_EQ(proxy("https://[::1]:6443", env), "");
}

TEST(ProxyFor, HonoursNoProxyEntries) {
  auto with_no_proxy = [](const std::string& no_proxy) {
    return std::map<std::string, std::string>{{"HTTPS_PROXY", "http://s:1"},
                                              {"NO_PROXY", no_proxy}};
  };
  EXPECT_EQ(proxy("https://api.example.com", with_no_proxy("*")), "");
  EXPECT_EQ(proxy("https://api.example.com", with_no_proxy("other.org, example.com")), "");
  EXPECT_EQ(proxy("https://example.com", with_no_proxy("example.com")), "");
  EXPECT_EQ(proxy("https://example.com", with_no_proxy(".example.com")), "http://s:1");
  EXPECT_EQ(proxy("https://a.example.com", with_no_proxy("*.example.com")), "");
  EXPECT_EQ(proxy("https://notexample.com", with_no_proxy("example.com")), "http://s:1");
  EXPECT_EQ(proxy("https://api.example.com:6443", with_no_proxy("example.com:443")), "http://s:1");
  EXPECT_EQ(proxy("https://api.example.com", with_no_proxy("example.com:443")), "");
  EXPECT_EQ(proxy("https://10.1.2.3:6443", with_no_proxy("10.0.0.0/8")), "");
  EXPECT_EQ(proxy("https://11.1.2.3:6443", with_no_proxy("10.0.0.0/8")), "http://s:1");
  EXPECT_EQ(proxy("https://10.1.2.3:6443", with_no_proxy("10.1.2.3")), "");
  EXPECT_EQ(proxy("https://[fd00::1]:6443", with_no_proxy("fd00::/8")), "");
  EXPECT_EQ(proxy("https://API.Example.COM", with_no_proxy("example.com")), "");
  EXPECT_EQ(proxy("https://api.example.com",
                  {{"HTTPS_PROXY", "http://s:1"}, {"no_proxy", "example.com"}}),
            "");
}

TEST(ProxyFor, RefusesAProxyTheTransportCannotSpeak) {
  EXPECT_EQ(proxy("https://api.example.com", {{"HTTPS_PROXY", "socks5://s:1080"}}),
            "<error: environment variable HTTPS_PROXY=\"socks5://s:1080\": a socks5:// proxy is "
            "not supported by this client's HTTP transport (cpprestsdk speaks to proxies in plain "
            "HTTP only); use an http:// proxy>");
  EXPECT_EQ(proxy("https://api.example.com", {}, "https://p:443"),
            "<error: proxy-url \"https://p:443\": a https:// proxy is not supported by this "
            "client's HTTP transport (cpprestsdk speaks to proxies in plain HTTP only); use an "
            "http:// proxy>");
}

TEST(ParseProxyUrl, TakesAValueWithoutSchemeAsHttpWithPort80AndDecodesCredentials) {
  auto bare = parse_proxy_url("proxy.corp");
  ASSERT_TRUE(bare.ok()) << bare.error().message;
  EXPECT_EQ(bare->host, "proxy.corp");
  EXPECT_EQ(bare->port, 80);
  EXPECT_EQ(bare->user, "");
  auto full = parse_proxy_url("http://us%40er:p%3Ass@[fd00::1]:3128/");
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(full->host, "fd00::1");
  EXPECT_EQ(full->port, 3128);
  EXPECT_EQ(full->user, "us@er");
  EXPECT_EQ(full->password, "p:ss");
}

TEST(CheckProxyUrl, WantsASchemeInAKubeconfig) {
  EXPECT_EQ(check_proxy_url("proxy:3128").value_or(""), "unsupported scheme \"\", must be http");
  EXPECT_EQ(check_proxy_url("ftp://proxy:3128").value_or(""),
            "unsupported scheme \"ftp\", must be http");
  EXPECT_FALSE(check_proxy_url("http://proxy:3128").has_value());
}

}  // namespace
}  // namespace tracing::kube
