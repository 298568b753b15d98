#include "operator/kube/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>

#include "operator/kube/proxy.h"

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

// Converts a YAML node to JSON text (scalars as strings, except true/false, null and numbers,
// which keep their JSON type), for the exec plugin's cluster `config` extension.
nlohmann::json yaml_to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : n) out[kv.first.Scalar()] = yaml_to_json(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : n) out.push_back(yaml_to_json(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      if (n.Tag() == "!") return n.Scalar();  // quoted: a string whatever it looks like
      const std::string& v = n.Scalar();
      if (v == "true" || v == "false") return v == "true";
      auto number = nlohmann::json::parse(v, nullptr, /*allow_exceptions=*/false);
      if (number.is_number()) return number;
      return v;
    }
    default:
      return nullptr;
  }
}

// A named entry of `clusters`, `users` or `contexts` and the file it came from.
struct Named {
  YAML::Node entry;  // the list element: {name, <inner>}
  std::string file;
};

// Kubeconfig files merged by client-go's rules (see load_kubeconfig_files), then one context of
// them turned into a ClusterConfig. Field paths in messages follow kubectl's own spelling of the
// file: `users[name="admin"].user.client-key-data`; each names the file its entry came from.
class KubeconfigLoader {
 public:
  // Adds one file's entries under the merge rules. `text` is the file's contents.
  void add(const std::string& path, const std::string& text) {
    files_.push_back(path);
    const YAML::Node root = load_yaml(path, text);
    if (!root.IsDefined() || root.IsNull()) return;  // an empty file sets nothing
    if (!root.IsMap()) fail(path, "the top level is not a mapping");
    non_empty_ = true;
    const std::string current = get_string(path, root, "current-context", "");
    if (current_context_.empty()) current_context_ = current;
    add_list(path, root, "clusters", clusters_);
    add_list(path, root, "users", users_);
    add_list(path, root, "contexts", contexts_);
  }

  bool empty() const { return files_.empty(); }

  ClusterConfig resolve(const std::string& context_arg) const {
    std::string context_name = context_arg;
    if (context_name.empty()) {
      if (!non_empty_) fail_top(files_.size() == 1 ? "the file is empty" : "every file is empty");
      context_name = current_context_;
      if (context_name.empty()) fail_top("current-context is not set and no context was given");
    }
    const Named* context = find(contexts_, context_name);
    if (context == nullptr) {
      fail_top((context_arg.empty() ? "current-context " : "context ") + in_quotes(context_name) +
               " not found in contexts");
    }
    const std::string context_where = "contexts[name=" + in_quotes(context_name) + "].context";
    const YAML::Node context_body = body(*context, "context", context_where);

    ClusterConfig config;
    config.source = "kubeconfig " + joined_files() + ", context " + in_quotes(context_name);

    const std::string& cfile = context->file;
    const std::string cluster_name = get_string(cfile, context_body, "cluster", context_where);
    if (cluster_name.empty()) fail(cfile, context_where + ".cluster is missing");
    const Named* cluster = find(clusters_, cluster_name);
    if (cluster == nullptr) {
      fail(cfile, context_where + ".cluster " + in_quotes(cluster_name) + " not found in clusters");
    }
    const std::string cluster_where = "clusters[name=" + in_quotes(cluster_name) + "].cluster";
    parse_cluster(cluster->file, body(*cluster, "cluster", cluster_where), cluster_where, config);
    std::string exec_cluster_config;
    if (const YAML::Node ext = exec_extension(*cluster, cluster_where); ext.IsDefined()) {
      exec_cluster_config = yaml_to_json(ext).dump();
    }

    // A context without a user is anonymous access, as in kubectl.
    const std::string user_name = get_string(cfile, context_body, "user", context_where);
    if (!user_name.empty()) {
      const Named* user = find(users_, user_name);
      if (user == nullptr) {
        fail(cfile, context_where + ".user " + in_quotes(user_name) + " not found in users");
      }
      const std::string user_where = "users[name=" + in_quotes(user_name) + "].user";
      parse_user(user->file, body(*user, "user", user_where), user_where, config);
      if (config.exec) {
        config.exec->user = user_name;
        config.exec->cluster_config_json = exec_cluster_config;
      }
    }

    const std::string ns = get_string(cfile, context_body, "namespace", context_where);
    if (!ns.empty()) config.ns = ns;
    return config;
  }

 private:
  [[noreturn]] static void fail(const std::string& file, const std::string& message) {
    throw ConfigError{"kubeconfig " + file + ": " + message};
  }
  [[noreturn]] void fail_top(const std::string& message) const {
    throw ConfigError{"kubeconfig " + joined_files() + ": " + message};
  }

  std::string joined_files() const {
    std::string out;
    for (const auto& f : files_) out += (out.empty() ? "" : ":") + f;
    return out;
  }

  static YAML::Node load_yaml(const std::string& file, const std::string& text) {
    try {
      return YAML::Load(text);
    } catch (const YAML::ParserException& e) {
      fail(file, "invalid YAML at line " + std::to_string(e.mark.line + 1) + ", column " +
                     std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
  }

  // Records the entries of `root[list]` not already defined by an earlier file.
  static void add_list(const std::string& file, const YAML::Node& root, const char* list,
                       std::map<std::string, Named>& merged) {
    const YAML::Node entries = root[list];
    if (!entries.IsDefined() || entries.IsNull()) return;
    if (!entries.IsSequence()) fail(file, std::string(list) + " must be a list");
    std::set<std::string> seen;  // names of this file: a repeat is an error, as in client-go
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const YAML::Node entry = entries[i];
      const std::string at = std::string(list) + "[" + std::to_string(i) + "]";
      if (!entry.IsMap()) fail(file, at + " must be a mapping");
      const std::string name = get_string(file, entry, "name", at);
      if (name.empty()) fail(file, at + ".name is missing");
      if (!seen.insert(name).second) {
        fail(file, at + ": duplicate name " + in_quotes(name) + " in " + list);
      }
      merged.try_emplace(name, Named{entry, file});  // the first file to define a name wins
    }
  }

  static const Named* find(const std::map<std::string, Named>& merged, const std::string& name) {
    auto it = merged.find(name);
    return it == merged.end() ? nullptr : &it->second;
  }

  // The `inner` mapping of a named entry.
  static YAML::Node body(const Named& named, const char* inner, const std::string& where) {
    const YAML::Node b = named.entry[inner];
    if (!b.IsDefined() || b.IsNull()) fail(named.file, where + " is missing");
    if (!b.IsMap()) fail(named.file, where + " must be a mapping");
    return b;
  }

  // clusters[].cluster.extensions[name="client.authentication.k8s.io/exec"].extension, if any.
  static YAML::Node exec_extension(const Named& cluster, const std::string& where) {
    const YAML::Node exts = cluster.entry["cluster"]["extensions"];
    if (!exts.IsDefined() || exts.IsNull()) return YAML::Node(YAML::NodeType::Undefined);
    if (!exts.IsSequence()) fail(cluster.file, where + ".extensions must be a list");
    for (const auto& ext : exts) {
      if (ext.IsMap() && ext["name"].IsScalar() &&
          ext["name"].Scalar() == "client.authentication.k8s.io/exec") {
        const YAML::Node value = ext["extension"];
        if (value.IsDefined() && !value.IsNull()) return value;
      }
    }
    return YAML::Node(YAML::NodeType::Undefined);
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
  static std::string get_string(const std::string& file, const YAML::Node& map, const char* key,
                                const std::string& where) {
    const YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return "";
    if (!n.IsScalar()) fail(file, field(where, key) + " must be a string");
    return n.Scalar();
  }

  static bool get_bool(const std::string& file, const YAML::Node& map, const char* key,
                       const std::string& where) {
    const YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return false;
    bool value = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, value)) {
      fail(file, field(where, key) + " must be true or false");
    }
    return value;
  }

  // A path from the kubeconfig `file`, relative ones taken from that file's directory and
  // cleaned as Go's filepath.Join cleans them ("./bin/x" → "<dir>/bin/x").
  static std::string resolve_path(const std::string& file, const std::string& p) {
    const fs::path path(p);
    if (path.is_absolute()) return p;
    return (fs::path(file).parent_path() / path).lexically_normal().string();
  }

  // PEM text from `<file_key>-data` (base64) or else from the file `<file_key>` names; "" if
  // neither is set.
  static std::string pem_from_data_or_file(const std::string& file, const YAML::Node& map,
                                           const std::string& where, const std::string& file_key) {
    const std::string data_key = file_key + "-data";
    const std::string data = get_string(file, map, data_key.c_str(), where);
    if (!data.empty()) {
      auto decoded = base64_decode(data);
      if (!decoded) fail(file, where + "." + data_key + " is not valid base64");
      if (!looks_like_pem(*decoded)) {
        fail(file, where + "." + data_key + " does not decode to PEM (no \"-----BEGIN\" line)");
      }
      return std::move(*decoded);
    }
    const std::string named = get_string(file, map, file_key.c_str(), where);
    if (named.empty()) return "";
    const std::string path = resolve_path(file, named);
    std::string text, error;
    if (!read_file(path, text, error)) {
      fail(file, "cannot read " + where + "." + file_key + " file " + path + ": " + error);
    }
    if (!looks_like_pem(text)) {
      fail(file, where + "." + file_key + " file " + path + " is not PEM (no \"-----BEGIN\" line)");
    }
    return text;
  }

  static void parse_cluster(const std::string& file, const YAML::Node& cluster,
                            const std::string& where, ClusterConfig& config) {
    std::string server = get_string(file, cluster, "server", where);
    if (server.empty()) fail(file, where + ".server is missing");
    const bool https = server.starts_with("https://");
    if (!https && !server.starts_with("http://")) {
      fail(file, where + ".server " + in_quotes(server) + " must start with https:// or http://");
    }
    // Request paths are appended as "/api/...": drop trailing slashes so none doubles.
    while (server.ends_with('/')) server.pop_back();
    if (server.size() <= std::string_view(https ? "https://" : "http://").size()) {
      fail(file, where + ".server " + in_quotes(server) + " has no host");
    }
    const std::string proxy_url = get_string(file, cluster, "proxy-url", where);
    if (!proxy_url.empty()) {
      if (auto error = check_proxy_url(proxy_url)) {
        fail(file, where + ".proxy-url " + in_quotes(proxy_url) + ": " + *error);
      }
    }
    config.server = std::move(server);
    config.proxy_url = proxy_url;
    config.ca_pem = pem_from_data_or_file(file, cluster, where, "certificate-authority");
    config.insecure_skip_tls_verify = get_bool(file, cluster, "insecure-skip-tls-verify", where);
    config.tls_server_name = get_string(file, cluster, "tls-server-name", where);
  }

  static ExecConfig parse_exec(const std::string& file, const YAML::Node& exec,
                               const std::string& where) {
    if (!exec.IsMap()) fail(file, where + " must be a mapping");
    ExecConfig out;
    out.api_version = get_string(file, exec, "apiVersion", where);
    if (out.api_version.empty()) fail(file, where + ".apiVersion is missing");
    if (out.api_version != "client.authentication.k8s.io/v1" &&
        out.api_version != "client.authentication.k8s.io/v1beta1") {
      fail(file, where + ".apiVersion " + in_quotes(out.api_version) +
                     " is not client.authentication.k8s.io/v1 or /v1beta1");
    }
    out.command = get_string(file, exec, "command", where);
    if (out.command.empty()) fail(file, where + ".command is missing");
    if (out.command.find('/') != std::string::npos) {
      out.command = resolve_path(file, out.command);
    }
    if (const YAML::Node args = exec["args"]; args.IsDefined() && !args.IsNull()) {
      if (!args.IsSequence()) fail(file, where + ".args must be a list of strings");
      for (std::size_t i = 0; i < args.size(); ++i) {
        if (!args[i].IsScalar()) {
          fail(file, where + ".args[" + std::to_string(i) + "] must be a string");
        }
        out.args.push_back(args[i].Scalar());
      }
    }
    if (const YAML::Node env = exec["env"]; env.IsDefined() && !env.IsNull()) {
      if (!env.IsSequence()) fail(file, where + ".env must be a list");
      for (std::size_t i = 0; i < env.size(); ++i) {
        const std::string at = where + ".env[" + std::to_string(i) + "]";
        if (!env[i].IsMap()) fail(file, at + " must be a mapping");
        const std::string name = get_string(file, env[i], "name", at);
        if (name.empty()) fail(file, at + ".name is missing");
        out.env.emplace_back(name, get_string(file, env[i], "value", at));
      }
    }
    out.install_hint = get_string(file, exec, "installHint", where);
    out.provide_cluster_info = get_bool(file, exec, "provideClusterInfo", where);
    out.interactive_mode = get_string(file, exec, "interactiveMode", where);
    if (out.interactive_mode.empty()) {
      // client-go's SetDefaults_ExecConfig: only the beta version defaults it.
      if (out.api_version != "client.authentication.k8s.io/v1beta1") {
        fail(file, where + ".interactiveMode is missing (required with " + out.api_version +
                       "; Never, IfAvailable or Always)");
      }
      out.interactive_mode = "IfAvailable";
    }
    if (out.interactive_mode != "Never" && out.interactive_mode != "IfAvailable" &&
        out.interactive_mode != "Always") {
      fail(file, where + ".interactiveMode " + in_quotes(out.interactive_mode) +
                     " is not Never, IfAvailable or Always");
    }
    return out;
  }

  static void parse_user(const std::string& file, const YAML::Node& user, const std::string& where,
                         ClusterConfig& config) {
    // Refuse what this client cannot do, rather than connect as someone else or as nobody.
    if (has(user, "auth-provider")) {
      fail(file, where +
                     ".auth-provider: auth-provider plugins are not supported; use an exec "
                     "plugin, a client certificate, token or tokenFile");
    }
    for (const char* key : {"username", "password"}) {
      if (has(user, key)) fail(file, where + "." + key + ": basic authentication is not supported");
    }
    for (const char* key : {"as", "as-uid", "as-groups", "as-user-extra"}) {
      if (has(user, key)) fail(file, where + "." + key + ": impersonation is not supported");
    }

    const bool cert_data = has(user, "client-certificate-data");
    const bool cert_file = has(user, "client-certificate");
    const bool key_data = has(user, "client-key-data");
    const bool key_file = has(user, "client-key");
    if ((cert_data || cert_file) && !(key_data || key_file)) {
      fail(file, where + " has " + (cert_data ? "client-certificate-data" : "client-certificate") +
                     " but neither client-key nor client-key-data");
    }
    if ((key_data || key_file) && !(cert_data || cert_file)) {
      fail(file, where + " has " + (key_data ? "client-key-data" : "client-key") +
                     " but neither client-certificate nor client-certificate-data");
    }
    config.client_cert_pem = pem_from_data_or_file(file, user, where, "client-certificate");
    config.client_key_pem = pem_from_data_or_file(file, user, where, "client-key");

    config.token = get_string(file, user, "token", where);
    const std::string token_file = get_string(file, user, "tokenFile", where);
    if (!token_file.empty()) config.token_file = resolve_path(file, token_file);

    // The plugin is validated either way (kubectl does), but used only without other
    // credentials: client-go's exec authenticator steps aside for a token or a certificate.
    if (has(user, "exec")) {
      ExecConfig exec = parse_exec(file, user["exec"], where + ".exec");
      if (config.token.empty() && config.token_file.empty() && config.client_cert_pem.empty()) {
        config.exec = std::move(exec);
      }
    }
  }

  std::vector<std::string> files_;  // loaded, in order
  bool non_empty_ = false;          // some file had content
  std::string current_context_;     // the first non-empty one
  std::map<std::string, Named> clusters_, users_, contexts_;
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
    KubeconfigLoader loader;
    loader.add(path, text);
    return loader.resolve(context);
  } catch (const ConfigError& e) {
    return invalid_config(e.message);
  } catch (const YAML::Exception& e) {
    // The parser checks node types before converting, so this is a yaml-cpp surprise.
    return invalid_config("kubeconfig " + path + ": " + e.what());
  }
}

Result<ClusterConfig> load_kubeconfig_files(const std::vector<std::string>& paths,
                                            const std::string& context) {
  try {
    KubeconfigLoader loader;
    std::vector<std::string> missing;
    std::set<std::string> seen;
    for (const auto& path : paths) {
      if (path.empty() || !seen.insert(path).second) continue;
      std::string text, error;
      errno = 0;
      if (!read_file(path, text, error)) {
        std::error_code ec;
        if (!fs::exists(path, ec) && !ec) {
          missing.push_back(path);  // client-go skips a file that does not exist
          continue;
        }
        return invalid_config("cannot read kubeconfig " + path + ": " + error);
      }
      loader.add(path, text);
    }
    if (loader.empty()) {
      std::string list;
      for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
      return invalid_config("no kubeconfig file exists" +
                            (list.empty() ? std::string(" (no path given)") : ": " + list));
    }
    return loader.resolve(context);
  } catch (const ConfigError& e) {
    return invalid_config(e.message);
  } catch (const YAML::Exception& e) {
    return invalid_config(std::string("kubeconfig: ") + e.what());
  }
}

std::vector<std::string> split_kubeconfig_paths(const std::string& value) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::size_t start = 0;
  while (start <= value.size()) {
    const std::size_t end = std::min(value.find(':', start), value.size());
    std::string path = value.substr(start, end - start);
    if (!path.empty() && seen.insert(path).second) out.push_back(std::move(path));
    start = end + 1;
  }
  return out;
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

Result<ClusterConfig> load_config(const std::string& kubeconfig_flag, const std::string& sa_dir,
                                  const std::string& context) {
  if (!kubeconfig_flag.empty()) return load_kubeconfig(kubeconfig_flag, context);

  std::string why_not_in_cluster = "KUBERNETES_SERVICE_HOST is not set";
  if (!context.empty()) {
    why_not_in_cluster = "a context was given";
  } else if (getenv_nonempty("KUBERNETES_SERVICE_HOST") != nullptr) {
    const fs::path token = fs::path(sa_dir) / "token";
    std::error_code ec;
    if (fs::exists(token, ec)) return in_cluster_config(sa_dir);
    why_not_in_cluster = "KUBERNETES_SERVICE_HOST is set but " + token.string() + " does not exist";
  }

  // Every path of $KUBECONFIG, merged as kubectl merges them.
  if (const char* list = getenv_nonempty("KUBECONFIG")) {
    return load_kubeconfig_files(split_kubeconfig_paths(list), context);
  }

  const std::string nothing =
      "no cluster configuration found: no kubeconfig flag, not in a cluster (" +
      why_not_in_cluster + "), KUBECONFIG is not set, and ";
  const char* home = getenv_nonempty("HOME");
  if (home == nullptr) return invalid_config(nothing + "HOME is not set");
  const std::string path = (fs::path(home) / ".kube" / "config").string();
  std::error_code ec;
  if (!fs::exists(path, ec)) return invalid_config(nothing + path + " does not exist");
  return load_kubeconfig(path, context);
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
