// A loopback TCP relay between a client under test and the real API server, so a test can cut
// the client's connections (and refuse new ones) while the API server keeps running. It relays
// bytes only: TLS, HTTP and every Kubernetes semantic are the real server's.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "operator/kube/config.h"

namespace tracing::testing {

class TcpProxy {
 public:
  TcpProxy(std::string target_host, int target_port);
  ~TcpProxy();
  int port() const { return port_; }
  // Closes every relayed connection now.
  void cut();
  // While blocked, new connections are accepted and closed at once.
  void set_blocked(bool blocked) { blocked_ = blocked; }
  int accepted() const { return accepted_.load(); }
  // Holds every chunk the server sends for `delay` before relaying it: a slow response whose
  // request the server has already acted on.
  void set_response_delay(std::chrono::milliseconds delay) { response_delay_ms_ = delay.count(); }
  // Makes it an HTTP CONNECT proxy (set before the first connection): each connection must
  // open with a CONNECT request, answered "200 Connection established" (whatever host it names:
  // every tunnel leads to the target), then bytes are relayed. The request heads it got, in
  // order, are kept for the test to read.
  void set_connect_mode(bool on) { connect_mode_ = on; }
  std::vector<std::string> connect_requests() const {
    std::lock_guard<std::mutex> g(mu_);
    return connect_requests_;
  }

 private:
  void accept_loop();
  void relay(int client_fd);

  std::string host_;
  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> blocked_{false};
  std::atomic<int> accepted_{0};
  std::atomic<bool> connect_mode_{false};
  std::atomic<int64_t> response_delay_ms_{0};
  mutable std::mutex mu_;
  std::vector<std::string> connect_requests_;
  std::set<int> fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

// `config` with its API server reached through `proxy`.
kube::ClusterConfig via(const TcpProxy& proxy, kube::ClusterConfig config);

}  // namespace tracing::testing
