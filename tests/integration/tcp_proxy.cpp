#include "tests/integration/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace tracing::testing {

TcpProxy::TcpProxy(std::string target_host, int target_port)
    : host_(std::move(target_host)), target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    throw std::runtime_error("tcp proxy: cannot listen on loopback");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  cut();
  acceptor_.join();
  std::vector<std::thread> ts;
  {
    std::lock_guard<std::mutex> g(mu_);
    ts.swap(threads_);
  }
  for (auto& t : ts) t.join();
}

void TcpProxy::cut() {
  std::lock_guard<std::mutex> g(mu_);
  for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
}

void TcpProxy::accept_loop() {
  while (!stopping_) {
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) {
      if (stopping_) return;
      continue;
    }
    accepted_++;
    if (blocked_) {
      ::close(fd);
      continue;
    }
    std::lock_guard<std::mutex> g(mu_);
    threads_.emplace_back([this, fd] { relay(fd); });
  }
}

void TcpProxy::relay(int client_fd) {
  std::string early;  // bytes the client sent after its CONNECT request head
  if (connect_mode_) {
    std::string head;
    char c[4096];
    size_t end = std::string::npos;
    while (end == std::string::npos && head.size() < 65536) {
      ssize_t n = ::read(client_fd, c, sizeof c);
      if (n <= 0) {
        ::close(client_fd);
        return;
      }
      head.append(c, static_cast<size_t>(n));
      end = head.find("\r\n\r\n");
    }
    if (end == std::string::npos || !head.starts_with("CONNECT ")) {
      const char* bad = "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n";
      (void)!::send(client_fd, bad, std::strlen(bad), MSG_NOSIGNAL);
      ::close(client_fd);
      return;
    }
    early = head.substr(end + 4);
    {
      std::lock_guard<std::mutex> g(mu_);
      connect_requests_.push_back(head.substr(0, end));
    }
    const char* ok = "HTTP/1.1 200 Connection established\r\n\r\n";
    if (::send(client_fd, ok, std::strlen(ok), MSG_NOSIGNAL) <= 0) {
      ::close(client_fd);
      return;
    }
  }
  int server_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(target_port_));
  ::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
  if (::connect(server_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(server_fd);
    ::close(client_fd);
    return;
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    fds_.insert(client_fd);
    fds_.insert(server_fd);
  }
  if (!early.empty() && ::send(server_fd, early.data(), early.size(), MSG_NOSIGNAL) <= 0) {
    early.clear();
  }
  pollfd fds[2] = {{client_fd, POLLIN, 0}, {server_fd, POLLIN, 0}};
  char buf[16384];
  bool open = true;
  while (open && !stopping_) {
    if (::poll(fds, 2, 200) < 0) break;
    for (int i = 0; i < 2 && open; ++i) {
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n <= 0) {
          open = false;
          break;
        }
        if (i == 1 && response_delay_ms_ > 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(response_delay_ms_.load()));
        }
        ssize_t off = 0;
        while (off < n) {
          ssize_t w = ::send(fds[1 - i].fd, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
          if (w <= 0) {
            open = false;
            break;
          }
          off += w;
        }
      }
    }
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    fds_.erase(client_fd);
    fds_.erase(server_fd);
  }
  ::close(client_fd);
  ::close(server_fd);
}

kube::ClusterConfig via(const TcpProxy& proxy, kube::ClusterConfig config) {
  config.server = "https://127.0.0.1:" + std::to_string(proxy.port());
  return config;
}

}  // namespace tracing::testing
