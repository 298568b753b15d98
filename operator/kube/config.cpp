#include "operator/kube/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>

namespace tracing::kube {
namespace {

namespace fs = std::filesystem;

ApiError invalid_config(std::string message) {
  return ApiError{0, "InvalidConfig", std::move(message), {}, std::nullopt};
}

// Parsing a kubeconfig fails from deep inside nested helpers; this exception carries the finished
// message up to load_kubeconfig, which turns it into an ApiError. It never leaves this file.
struct ConfigError {
  std::string message;
};

// Reads the whole file at `path`. On failure returns false and sets `error` to the OS's words
// ("No such file or directory").
bool read_file(const std::string& path, std::string& out, std::string& error) {
  errno = 0;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    error = std::error_code(errno, std::generic_category()).message();
    return false;
  }
  out.clear();
  std::array<char, 8192> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) out.append(buf.data(), n);
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) {
    error = std::error_code(err, std::generic_category()).message();
    return false;
  }
  return true;
}

std::string trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  const auto begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return "";
  const auto end = s.find_last_not_of(kSpace);
  return std::string(s.substr(begin, end - begin + 1));
}

// Standard base64 with padding, as Go's encoding/base64.StdEncoding (which kubectl uses).
// Whitespace is skipped, so a value YAML folded across lines still decodes.
std::optional<std::string> base64_decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(in.size() / 4 * 3);
  std::uint32_t acc = 0;
  int chars = 0;    // characters in the current 4-character group, padding included
  int padding = 0;  // '=' seen; only more '=' may follow
  for (char c : in) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      // Padding may only fill the last one or two places of a group.
      if (chars < 2) return std::nullopt;
      ++padding;
      ++chars;
    } else {
      const int v = value(c);
      if (v < 0 || padding > 0) return std::nullopt;
      acc = (acc << 6) | static_cast<std::uint32_t>(v);
      ++chars;
    }
    if (chars == 4) {
      acc <<= 6 * padding;
      out.push_back(static_cast<char>((acc >> 16) & 0xff));
      if (padding < 2) out.push_back(static_cast<char>((acc >> 8) & 0xff));
      if (padding < 1) out.push_back(static_cast<char>(acc & 0xff));
      acc = 0;
      chars = 0;
      if (padding > 0) padding = 3;  // anything after a padded group is an error
    }
  }
  if (chars != 0) return std::nullopt;
  return out;
}

bool looks_like_pem(const std::string& text) {
  return text.find("-----BEGIN ") != std::string::npos;
}

std::string in_quotes(const std::string& s) { return "\"" + s + "\""; }

// One kubeconfig file being turned into a ClusterConfig. Field paths in messages follow
// kubectl's own spelling of the file: `users[name="admin"].user.client-key-data`.
class KubeconfigParser {
 public:
  explicit KubeconfigParser(std::string path)
      : path_(std::move(path)), dir_(fs::path(path_).parent_path()) {}

  ClusterConfig parse(const std::string& text, const std::string& context_arg) {
    const YAML::Node root = load_yaml(text);
    if (!root.IsDefined() || root.IsNull()) fail("the file is empty");
    if (!root.IsMap()) fail("the top level is not a mapping");

    std::string context_name = context_arg;
    if (context_name.empty()) {
      context_name = get_string(root, "current-context", "");
      if (context_name.empty()) fail("current-context is not set and no context was given");
    }
    const std::optional<YAML::Node> context = find_named(root, "contexts", "context", context_name);
    if (!context) {
      fail((context_arg.empty() ? "current-context " : "context ") + in_quotes(context_name) +
           " not found in contexts");
    }
    const std::string context_where = "contexts[name=" + in_quotes(context_name) + "].context";

    ClusterConfig config;
    config.source = "kubeconfig " + path_ + ", context " + in_quotes(context_name);

    const std::string cluster_name = get_string(*context, "cluster", context_where);
    if (cluster_name.empty()) fail(context_where + ".cluster is missing");
    const std::optional<YAML::Node> cluster = find_named(root, "clusters", "cluster", cluster_name);
    if (!cluster) {
      fail(context_where + ".cluster " + in_quotes(cluster_name) + " not found in clusters");
    }
    parse_cluster(*cluster, "clusters[name=" + in_quotes(cluster_name) + "].cluster", config);

    // A context without a user is anonymous access, as in kubectl.
    const std::string user_name = get_string(*context, "user", context_where);
    if (!user_name.empty()) {
      const std::optional<YAML::Node> user = find_named(root, "users", "user", user_name);
      if (!user) fail(context_where + ".user " + in_quotes(user_name) + " not found in users");
      parse_user(*user, "users[name=" + in_quotes(user_name) + "].user", config);
    }

    const std::string ns = get_string(*context, "namespace", context_where);
    if (!ns.empty()) config.ns = ns;
    return config;
  }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw ConfigError{"kubeconfig " + path_ + ": " + message};
  }

  YAML::Node load_yaml(const std::string& text) const {
    try {
      return YAML::Load(text);
    } catch (const YAML::ParserException& e) {
      fail("invalid YAML at line " + std::to_string(e.mark.line + 1) + ", column " +
           std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
  }

  // The `inner` mapping of the entry of `root[list]` named `name`; nullopt if no entry is.
  std::optional<YAML::Node> find_named(const YAML::Node& root, const char* list, const char* inner,
                                       const std::string& name) const {
    const YAML::Node entries = root[list];
    if (!entries.IsDefined() || entries.IsNull()) return std::nullopt;
    if (!entries.IsSequence()) fail(std::string(list) + " must be a list");
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const YAML::Node entry = entries[i];
      const std::string at = std::string(list) + "[" + std::to_string(i) + "]";
      if (!entry.IsMap()) fail(at + " must be a mapping");
      const std::string entry_name = get_string(entry, "name", at);
      if (entry_name.empty()) fail(at + ".name is missing");
      if (entry_name != name) continue;  // the first entry of a name wins
      const std::string where = std::string(list) + "[name=" + in_quotes(name) + "]." + inner;
      const YAML::Node body = entry[inner];
      if (!body.IsDefined() || body.IsNull()) fail(where + " is missing");
      if (!body.IsMap()) fail(where + " must be a mapping");
      return body;
    }
    return std::nullopt;
  }

  static bool has(const YAML::Node& map, const char* key) {
    const YAML::Node n = map[key];
    return n.IsDefined() && !n.IsNull();
  }

  // `where.key`, or `key` at the top level (empty `where`).
  static std::string field(const std::string& where, const std::string& key) {
    return where.empty() ? key : where + "." + key;
  }

  // The scalar at map[key]; "" when absent or null.
  std::string get_string(const YAML::Node& map, const char* key, const std::string& where) const {
    const YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return "";
    if (!n.IsScalar()) fail(field(where, key) + " must be a string");
    return n.Scalar();
  }

  bool get_bool(const YAML::Node& map, const char* key, const std::string& where) const {
    const YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return false;
    bool value = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, value)) {
      fail(field(where, key) + " must be true or false");
    }
    return value;
  }

  // A path from the kubeconfig, relative ones taken from the kubeconfig's directory.
  std::string resolve(const std::string& p) const {
    const fs::path path(p);
    return path.is_absolute() ? p : (dir_ / path).string();
  }

  // PEM text from `<file_key>-data` (base64) or else from the file `<file_key>` names; "" if
  // neither is set.
  std::string pem_from_data_or_file(const YAML::Node& map, const std::string& where,
                                    const std::string& file_key) const {
    const std::string data_key = file_key + "-data";
    const std::string data = get_string(map, data_key.c_str(), where);
    if (!data.empty()) {
      auto decoded = base64_decode(data);
      if (!decoded) fail(where + "." + data_key + " is not valid base64");
      if (!looks_like_pem(*decoded)) {
        fail(where + "." + data_key + " does not decode to PEM (no \"-----BEGIN\" line)");
      }
      return std::move(*decoded);
    }
    const std::string file = get_string(map, file_key.c_str(), where);
    if (file.empty()) return "";
    const std::string path = resolve(file);
    std::string text, error;
    if (!read_file(path, text, error)) {
      fail("cannot read " + where + "." + file_key + " file " + path + ": " + error);
    }
    if (!looks_like_pem(text)) {
      fail(where + "." + file_key + " file " + path + " is not PEM (no \"-----BEGIN\" line)");
    }
    return text;
  }

  void parse_cluster(const YAML::Node& cluster, const std::string& where,
                     ClusterConfig& config) const {
    std::string server = get_string(cluster, "server", where);
    if (server.empty()) fail(where + ".server is missing");
    const bool https = server.starts_with("https://");
    if (!https && !server.starts_with("http://")) {
      fail(where + ".server " + in_quotes(server) + " must start with https:// or http://");
    }
    // Request paths are appended as "/api/...": drop trailing slashes so none doubles.
    while (server.ends_with('/')) server.pop_back();
    if (server.size() <= std::string_view(https ? "https://" : "http://").size()) {
      fail(where + ".server " + in_quotes(server) + " has no host");
    }
    if (has(cluster, "proxy-url")) fail(where + ".proxy-url is not supported");
    config.server = std::move(server);
    config.ca_pem = pem_from_data_or_file(cluster, where, "certificate-authority");
    config.insecure_skip_tls_verify = get_bool(cluster, "insecure-skip-tls-verify", where);
    config.tls_server_name = get_string(cluster, "tls-server-name", where);
  }

  void parse_user(const YAML::Node& user, const std::string& where, ClusterConfig& config) const {
    // Refuse what this client cannot do, rather than connect as someone else or as nobody.
    if (has(user, "exec")) {
      fail(where +
           ".exec: exec credential plugins are not supported; use a client certificate, "
           "token or tokenFile");
    }
    if (has(user, "auth-provider")) {
      fail(where +
           ".auth-provider: auth-provider plugins are not supported; use a client "
           "certificate, token or tokenFile");
    }
    for (const char* key : {"username", "password"}) {
      if (has(user, key)) fail(where + "." + key + ": basic authentication is not supported");
    }
    for (const char* key : {"as", "as-uid", "as-groups", "as-user-extra"}) {
      if (has(user, key)) fail(where + "." + key + ": impersonation is not supported");
    }

    const bool cert_data = has(user, "client-certificate-data");
    const bool cert_file = has(user, "client-certificate");
    const bool key_data = has(user, "client-key-data");
    const bool key_file = has(user, "client-key");
    if ((cert_data || cert_file) && !(key_data || key_file)) {
      fail(where + " has " + (cert_data ? "client-certificate-data" : "client-certificate") +
           " but neither client-key nor client-key-data");
    }
    if ((key_data || key_file) && !(cert_data || cert_file)) {
      fail(where + " has " + (key_data ? "client-key-data" : "client-key") +
           " but neither client-certificate nor client-certificate-data");
    }
    config.client_cert_pem = pem_from_data_or_file(user, where, "client-certificate");
    config.client_key_pem = pem_from_data_or_file(user, where, "client-key");

    config.token = get_string(user, "token", where);
    const std::string token_file = get_string(user, "tokenFile", where);
    if (!token_file.empty()) config.token_file = resolve(token_file);
  }

  std::string path_;
  fs::path dir_;
};

const char* getenv_nonempty(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

}  // namespace

Result<ClusterConfig> load_kubeconfig(const std::string& path, const std::string& context) {
  std::string text, error;
  if (!read_file(path, text, error)) {
    return invalid_config("cannot read kubeconfig " + path + ": " + error);
  }
  try {
    return KubeconfigParser(path).parse(text, context);
  } catch (const ConfigError& e) {
    return invalid_config(e.message);
  } catch (const YAML::Exception& e) {
    // The parser checks node types before converting, so this is a yaml-cpp surprise.
    return invalid_config("kubeconfig " + path + ": " + e.what());
  }
}

Result<ClusterConfig> in_cluster_config(const std::string& sa_dir) {
  const std::string prefix = "in-cluster config: ";
  const char* host = getenv_nonempty("KUBERNETES_SERVICE_HOST");
  if (host == nullptr) {
    return invalid_config(prefix + "environment variable KUBERNETES_SERVICE_HOST is not set");
  }
  const char* port = getenv_nonempty("KUBERNETES_SERVICE_PORT");
  if (port == nullptr) {
    return invalid_config(prefix + "environment variable KUBERNETES_SERVICE_PORT is not set");
  }
  const std::string_view port_text(port);
  if (port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::atoi(port) < 1 || std::atoi(port) > 65535) {
    return invalid_config(prefix + "environment variable KUBERNETES_SERVICE_PORT=" +
                          in_quotes(port) + " is not a port number");
  }

  ClusterConfig config;
  config.source = "in-cluster";
  const std::string host_text(host);
  const bool ipv6 = host_text.find(':') != std::string::npos && !host_text.starts_with('[');
  config.server = "https://" + (ipv6 ? "[" + host_text + "]" : host_text) + ":" + port;

  const std::string dir = sa_dir.ends_with('/') ? sa_dir : sa_dir + "/";
  std::string text, error;
  // The token itself is TokenSource's to read; here only check it is there to be read.
  config.token_file = dir + "token";
  if (!read_file(config.token_file, text, error)) {
    return invalid_config(prefix + "cannot read service account token " + config.token_file + ": " +
                          error);
  }
  const std::string ca_file = dir + "ca.crt";
  if (!read_file(ca_file, config.ca_pem, error)) {
    return invalid_config(prefix + "cannot read service account CA " + ca_file + ": " + error);
  }
  if (const char* ns = getenv_nonempty("POD_NAMESPACE")) {
    config.ns = ns;
  } else if (read_file(dir + "namespace", text, error) && !trim(text).empty()) {
    config.ns = trim(text);
  }
  return config;
}

Result<ClusterConfig> load_config(const std::string& kubeconfig_flag, const std::string& sa_dir) {
  if (!kubeconfig_flag.empty()) return load_kubeconfig(kubeconfig_flag);

  std::string why_not_in_cluster = "KUBERNETES_SERVICE_HOST is not set";
  if (getenv_nonempty("KUBERNETES_SERVICE_HOST") != nullptr) {
    const fs::path token = fs::path(sa_dir) / "token";
    std::error_code ec;
    if (fs::exists(token, ec)) return in_cluster_config(sa_dir);
    why_not_in_cluster = "KUBERNETES_SERVICE_HOST is set but " + token.string() + " does not exist";
  }

  // kubectl merges every file of a colon-separated $KUBECONFIG; this client only loads the first
  // (non-empty) one, which is where kubectl writes too.
  if (const char* list = getenv_nonempty("KUBECONFIG")) {
    const std::string_view paths(list);
    std::size_t start = 0;
    while (start <= paths.size()) {
      const std::size_t end = std::min(paths.find(':', start), paths.size());
      if (end > start) return load_kubeconfig(std::string(paths.substr(start, end - start)));
      start = end + 1;
    }
  }

  const std::string nothing =
      "no cluster configuration found: no kubeconfig flag, not in a cluster (" +
      why_not_in_cluster + "), KUBECONFIG is not set, and ";
  const char* home = getenv_nonempty("HOME");
  if (home == nullptr) return invalid_config(nothing + "HOME is not set");
  const std::string path = (fs::path(home) / ".kube" / "config").string();
  std::error_code ec;
  if (!fs::exists(path, ec)) return invalid_config(nothing + path + " does not exist");
  return load_kubeconfig(path);
}

TokenSource::TokenSource(std::string static_token, std::string token_file,
                         std::function<std::chrono::steady_clock::time_point()> now)
    : static_token_(std::move(static_token)),
      token_file_(std::move(token_file)),
      now_(std::move(now)) {}

Result<std::string> TokenSource::token() {
  if (token_file_.empty()) return static_token_;
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = now_();
  if (cached_ && now - read_at_ < kRefreshPeriod) return *cached_;
  std::string text, error;
  if (!read_file(token_file_, text, error)) {
    if (cached_) return *cached_;
    return invalid_config("cannot read token file " + token_file_ + ": " + error);
  }
  std::string token = trim(text);
  if (token.empty()) {
    if (cached_) return *cached_;
    return invalid_config("token file " + token_file_ + " is empty");
  }
  cached_ = token;
  read_at_ = now;
  return token;
}

void TokenSource::invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  cached_.reset();
}

bool TokenSource::empty() const { return static_token_.empty() && token_file_.empty(); }

}  // namespace tracing::kube
