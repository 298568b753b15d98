#include "operator/kube/exec_credential.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

#include "operator/kube/system_trust.h"

namespace tracing::kube {
namespace {

ApiError plugin_error(const ExecConfig& exec, const std::string& message) {
  std::string who = "exec plugin " + exec.command;
  if (!exec.user.empty()) who += " (user \"" + exec.user + "\")";
  return ApiError{0, "ExecPluginFailed", who + ": " + message, {}, std::nullopt};
}

std::string base64_encode(std::string_view in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  auto byte = [&](std::size_t k) {
    return static_cast<unsigned>(static_cast<unsigned char>(in[k]));
  };
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    const unsigned v = byte(i) << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

// RFC 3339 as Go's time.RFC3339 parses it: 2026-11-30T12:00:00Z, fractional seconds and a
// numeric offset allowed.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& s) {
  auto digits = [&](std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!digits(0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(5, 2, month) || s[7] != '-' ||
      !digits(8, 2, day) || (s[10] != 'T' && s[10] != 't') || !digits(11, 2, hour) ||
      s[13] != ':' || !digits(14, 2, minute) || s[16] != ':' || !digits(17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::chrono::nanoseconds frac{0};
  if (pos < s.size() && s[pos] == '.') {
    std::size_t end = pos + 1;
    long long value = 0;
    int n = 0;
    while (end < s.size() && s[end] >= '0' && s[end] <= '9') {
      if (n < 9) value = value * 10 + (s[end] - '0'), ++n;
      ++end;
    }
    if (end == pos + 1) return std::nullopt;
    for (int k = n; k < 9; ++k) value *= 10;
    frac = std::chrono::nanoseconds(value);
    pos = end;
  }
  int offset_seconds = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
    int oh, om;
    if (!digits(pos + 1, 2, oh) || !digits(pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_seconds = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const time_t t = timegm(&tm);
  return std::chrono::system_clock::from_time_t(t) - std::chrono::seconds(offset_seconds) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(frac);
}

}  // namespace

std::string exec_info(const ExecConfig& exec, const ClusterConfig& cluster, bool interactive) {
  // Field order as client-go's encoding: kind, apiVersion, spec{cluster, interactive}.
  nlohmann::ordered_json info;
  info["kind"] = "ExecCredential";
  info["apiVersion"] = exec.api_version;
  info["spec"] = nlohmann::ordered_json::object();
  if (exec.provide_cluster_info) {
    nlohmann::ordered_json c;
    c["server"] = cluster.server;
    if (!cluster.tls_server_name.empty()) c["tls-server-name"] = cluster.tls_server_name;
    if (cluster.insecure_skip_tls_verify) c["insecure-skip-tls-verify"] = true;
    if (!cluster.ca_pem.empty()) c["certificate-authority-data"] = base64_encode(cluster.ca_pem);
    if (!cluster.proxy_url.empty()) c["proxy-url"] = cluster.proxy_url;
    if (!exec.cluster_config_json.empty()) {
      c["config"] = nlohmann::ordered_json::parse(exec.cluster_config_json);
    }
    info["spec"]["cluster"] = std::move(c);
  }
  info["spec"]["interactive"] = interactive;
  return info.dump() + "\n";  // Go's json.Encoder ends with a newline
}

Result<bool> exec_interactive(const ExecConfig& exec, bool stdin_is_terminal) {
  if (exec.interactive_mode == "Never") return false;
  if (exec.interactive_mode == "IfAvailable") return stdin_is_terminal;
  if (exec.interactive_mode == "Always") {
    if (!stdin_is_terminal) {
      return plugin_error(exec,
                          "cannot support interactive mode: standard input is not a terminal "
                          "(interactiveMode: Always)");
    }
    return true;
  }
  return plugin_error(exec, "unknown interactiveMode \"" + exec.interactive_mode + "\"");
}

Result<ExecCredential> parse_exec_credential(std::string_view stdout_text, const ExecConfig& exec) {
  const auto doc = nlohmann::json::parse(stdout_text, nullptr, /*allow_exceptions=*/false);
  auto excerpt = [&] {
    std::string s(stdout_text.substr(0, 200));
    return s.empty() ? std::string("nothing") : "\"" + s + "\"";
  };
  if (doc.is_discarded() || !doc.is_object()) {
    return plugin_error(exec, "decoding stdout: not a JSON object: printed " + excerpt());
  }
  auto str = [&](const nlohmann::json& o, const char* key) -> std::optional<std::string> {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return std::string();
    if (!it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  const auto api_version = str(doc, "apiVersion");
  const auto kind = str(doc, "kind");
  if (!api_version || api_version->empty()) {
    return plugin_error(exec, "decoding stdout: Object 'apiVersion' is missing");
  }
  if (!kind || *kind != "ExecCredential") {
    return plugin_error(
        exec, "decoding stdout: kind is \"" + kind.value_or("") + "\", not \"ExecCredential\"");
  }
  if (*api_version != exec.api_version) {
    return plugin_error(exec, "exec plugin is configured to use API version " + exec.api_version +
                                  ", plugin returned version " + *api_version);
  }
  auto status = doc.find("status");
  if (status == doc.end() || status->is_null()) {
    return plugin_error(exec, "exec plugin didn't return a status field");
  }
  if (!status->is_object()) return plugin_error(exec, "decoding stdout: status is not an object");
  ExecCredential out;
  const auto token = str(*status, "token");
  const auto cert = str(*status, "clientCertificateData");
  const auto key = str(*status, "clientKeyData");
  const auto expiry = str(*status, "expirationTimestamp");
  if (!token || !cert || !key || !expiry) {
    return plugin_error(exec,
                        "decoding stdout: status.token, clientCertificateData, "
                        "clientKeyData and expirationTimestamp must be strings");
  }
  if (token->empty() && cert->empty() && key->empty()) {
    return plugin_error(exec, "exec plugin didn't return a token or cert/key pair");
  }
  if (cert->empty() != key->empty()) {
    return plugin_error(exec, "exec plugin returned only certificate or key, not both");
  }
  if (!cert->empty() && (cert->find("-----BEGIN ") == std::string::npos ||
                         key->find("-----BEGIN ") == std::string::npos)) {
    return plugin_error(exec, "failed parsing client key/certificate: not PEM");
  }
  if (!expiry->empty()) {
    out.expires_at = parse_rfc3339(*expiry);
    if (!out.expires_at) {
      return plugin_error(exec, "decoding stdout: status.expirationTimestamp \"" + *expiry +
                                    "\" is not an RFC 3339 time");
    }
  }
  out.token = *token;
  out.client_cert_pem = *cert;
  out.client_key_pem = *key;
  return out;
}

Result<ProcessOutput> run_process(const std::string& command, const std::vector<std::string>& args,
                                  const std::vector<std::string>& env, bool interactive) {
  auto fail = [&](const std::string& what) {
    return ApiError{0, "ExecPluginFailed", what, {}, std::nullopt};
  };
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return fail("pipe: " + std::error_code(errno, std::generic_category()).message());
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  if (!interactive) {
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(command.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, command.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    // "not found" is the one failure the caller tells apart (it adds the install hint).
    return fail(rc == ENOENT ? "not found"
                             : std::error_code(rc, std::generic_category()).message());
  }
  ProcessOutput out;
  char buf[8192];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      out.stdout_text.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    out.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    out.exit_code = -1;
    out.signal = WTERMSIG(status);
  }
  return out;
}

ExecCredentialSource::ExecCredentialSource(ExecConfig exec, const ClusterConfig& cluster,
                                           Options options)
    : exec_(std::move(exec)), cluster_(cluster), options_(std::move(options)) {
  if (!options_.stdin_is_terminal) options_.stdin_is_terminal = [] { return isatty(0) == 1; };
  if (!options_.environ) options_.environ = inherited_environment;
  if (!options_.run) options_.run = run_process;
  if (!options_.now) options_.now = std::chrono::system_clock::now;
}

Result<std::shared_ptr<const ExecCredential>> ExecCredentialSource::get() {
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_ && (!cached_->expires_at || options_.now() < *cached_->expires_at)) return cached_;
  return run_locked();
}

void ExecCredentialSource::invalidate(const std::shared_ptr<const ExecCredential>& used) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_ == used) cached_.reset();
}

int ExecCredentialSource::runs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return runs_;
}

Result<std::shared_ptr<const ExecCredential>> ExecCredentialSource::run_locked() {
  auto interactive = exec_interactive(exec_, options_.stdin_is_terminal());
  if (!interactive) return interactive.error();

  // The process's environment, then the config's env, then KUBERNETES_EXEC_INFO; a later
  // value of a name replaces an earlier one (as Go's exec.Cmd does with duplicates).
  std::vector<std::string> env;
  std::map<std::string, std::size_t> index;
  auto put = [&](std::string entry) {
    const std::string name = entry.substr(0, entry.find('='));
    if (auto it = index.find(name); it != index.end()) {
      env[it->second] = std::move(entry);
    } else {
      index[name] = env.size();
      env.push_back(std::move(entry));
    }
  };
  for (auto& e : options_.environ()) put(std::move(e));
  for (const auto& [name, value] : exec_.env) put(name + "=" + value);
  put("KUBERNETES_EXEC_INFO=" + exec_info(exec_, cluster_, *interactive));

  ++runs_;
  auto out = options_.run(exec_.command, exec_.args, env, *interactive);
  if (!out) {
    if (out.error().message == "not found") {
      std::string message = "executable " + exec_.command + " not found";
      message +=
          "\n\nIt looks like you are trying to use a client-go credential plugin that is not "
          "installed.\n\nTo learn more about this feature, consult the documentation available "
          "at:\n      "
          "https://kubernetes.io/docs/reference/access-authn-authz/authentication/"
          "#client-go-credential-plugins";
      if (!exec_.install_hint.empty()) message += "\n\n" + exec_.install_hint;
      return plugin_error(exec_, message);
    }
    return plugin_error(exec_, "cannot run " + exec_.command + ": " + out.error().message);
  }
  if (out->exit_code != 0) {
    return plugin_error(exec_, out->signal != 0
                                   ? "executable " + exec_.command + " was killed by signal " +
                                         std::to_string(out->signal)
                                   : "executable " + exec_.command + " failed with exit code " +
                                         std::to_string(out->exit_code));
  }
  auto credential = parse_exec_credential(out->stdout_text, exec_);
  if (!credential) return credential.error();
  cached_ = std::make_shared<const ExecCredential>(std::move(*credential));
  return cached_;
}

}  // namespace tracing::kube
