// tracing-operator: flags and wiring only.
#include <pthread.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "controllers/naming.h"
#include "controllers/reconcilers/manager.h"
#include "operator/kube/client.h"
#include "operator/kube/config.h"
#include "operator/kube/http.h"
#include "operator/runtime/http_server.h"

namespace {

// SIGTERM must end the process well inside a Pod's default 30 s grace period.
constexpr time_t kShutdownBoundSeconds = 20;

struct Flags {
  std::string kubeconfig;
  std::string root_namespace = "tracing-system";
  int workers = 4;
  double qps = 20;
  int burst = 30;
  std::string metrics_bind_address = ":8080";
  std::string health_probe_bind_address = ":8081";
  bool leader_elect = false;
  std::string log_format = "text";
  std::string log_level = "info";
};

const char* kUsage = R"(Usage: tracing-operator [flags]

  --kubeconfig PATH              kubeconfig file (default: in-cluster, else $KUBECONFIG, else ~/.kube/config)
  --root-namespace NS            the operator's namespace; policies there apply cluster-wide (default tracing-system)
  --workers N                    concurrent reconciles (default 4)
  --qps Q / --burst B            client-side rate limit; --qps 0 turns it off (default 20 / 30)
  --metrics-bind-address ADDR    Prometheus /metrics (default :8080)
  --health-probe-bind-address ADDR  /healthz and /readyz (default :8081)
  --leader-elect                 elect a leader through a coordination.k8s.io/v1 Lease
  --log-format json|text         (default text)
  --log-level debug|info|warn|error  (default info)
)";

// Parses "--name value", "--name=value" and boolean "--name". Returns an error message.
std::optional<std::string> parse_flags(int argc, char** argv, Flags& f) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (a.rfind("--", 0) != 0) return "unexpected argument \"" + a + "\"";
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    auto take = [&]() -> std::optional<std::string> {
      if (has_value) return value;
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    auto need = [&](std::string& out) -> std::optional<std::string> {
      auto v = take();
      if (!v) return "flag --" + name + " needs a value";
      out = *v;
      return std::nullopt;
    };
    auto need_number = [&](auto& out, double min) -> std::optional<std::string> {
      auto v = take();
      if (!v) return "flag --" + name + " needs a value";
      try {
        size_t used = 0;
        double d = std::stod(*v, &used);
        if (used != v->size() || d < min) throw std::invalid_argument("");
        out = static_cast<std::remove_reference_t<decltype(out)>>(d);
        if (static_cast<double>(out) != d) throw std::invalid_argument("");
      } catch (const std::exception&) {
        return "flag --" + name + ": \"" + *v +
               "\" is not a number >= " + std::to_string(static_cast<int>(min));
      }
      return std::nullopt;
    };
    std::optional<std::string> err;
    if (name == "kubeconfig") {
      err = need(f.kubeconfig);
    } else if (name == "root-namespace") {
      err = need(f.root_namespace);
    } else if (name == "workers") {
      err = need_number(f.workers, 1);
    } else if (name == "qps") {
      err = need_number(f.qps, 0);
    } else if (name == "burst") {
      err = need_number(f.burst, 1);
    } else if (name == "metrics-bind-address") {
      err = need(f.metrics_bind_address);
    } else if (name == "health-probe-bind-address") {
      err = need(f.health_probe_bind_address);
    } else if (name == "leader-elect") {
      f.leader_elect = !has_value || value == "true";
      if (has_value && value != "true" && value != "false") {
        err = "flag --leader-elect takes true or false, not \"" + value + "\"";
      }
    } else if (name == "log-format") {
      err = need(f.log_format);
      if (!err && f.log_format != "json" && f.log_format != "text") {
        err = "flag --log-format takes json or text, not \"" + f.log_format + "\"";
      }
    } else if (name == "log-level") {
      err = need(f.log_level);
      if (!err && spdlog::level::from_str(f.log_level) == spdlog::level::off &&
          f.log_level != "off") {
        err = "flag --log-level takes debug, info, warn or error, not \"" + f.log_level + "\"";
      }
    } else {
      err = "unknown flag --" + name;
    }
    if (err) return err;
  }
  return std::nullopt;
}

// The log message as a JSON string body: quotes, backslashes and control characters escaped, so
// every line of --log-format json parses whatever the message holds.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static const char* hex = "0123456789abcdef";
    for (char ch : std::string_view(msg.payload.data(), msg.payload.size())) {
      auto c = static_cast<unsigned char>(ch);
      if (c == '"' || c == '\\') {
        dest.push_back('\\');
        dest.push_back(ch);
      } else if (c < 0x20) {
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        dest.append(esc, esc + 6);
      } else {
        dest.push_back(ch);
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

void setup_logging(const Flags& f) {
  auto logger = spdlog::stderr_color_mt("tracing-operator");
  if (f.log_format == "json") {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n","msg":"%*"})");
    logger->set_formatter(std::move(formatter));
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
  logger->set_level(spdlog::level::from_str(f.log_level));
  spdlog::set_default_logger(logger);
}

}  // namespace

int main(int argc, char** argv) {
  // SIGTERM and SIGINT are taken by sigwait() below; every thread started later inherits the
  // mask, so no thread is interrupted by them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Flags flags;
  if (auto err = parse_flags(argc, argv, flags)) {
    std::cerr << "tracing-operator: " << *err << "\n\n" << kUsage;
    return 2;
  }
  setup_logging(flags);

  auto config = tracing::kube::load_config(flags.kubeconfig);
  if (!config) {
    spdlog::error("{}", config.error().message);
    return 1;
  }
  auto transport = tracing::kube::make_http_transport(*config);
  if (!transport) {
    spdlog::error("{}", transport.error().message);
    return 1;
  }
  tracing::kube::Client client(*transport, {flags.qps, flags.burst});
  auto served = client.is_served(tracing::naming::kGroup, tracing::naming::kVersion,
                                 tracing::naming::kPlural);
  if (!served) {
    spdlog::error("cannot reach the API server {}: {}", config->server, served.error().to_string());
    return 1;
  }
  if (!*served) {
    spdlog::error("the TracingPolicy CRD ({}/{}) is not installed: kubectl apply -f crds/",
                  tracing::naming::kGroup, tracing::naming::kVersion);
    return 1;
  }
  spdlog::info("connected to {} ({}); root namespace {}", config->server, config->source,
               flags.root_namespace);

  char host[256] = "tracing-operator";
  gethostname(host, sizeof host - 1);
  tracing::controllers::ManagerOptions options;
  options.root_namespace = flags.root_namespace;
  options.workers = flags.workers;
  options.instance = host;
  tracing::controllers::Manager manager(client, options);
  tracing::runtime::HttpServer http(
      flags.metrics_bind_address, flags.health_probe_bind_address,
      {[&manager] { return manager.metrics(); }, [&manager] { return manager.ready(); }});
  if (auto s = http.start(); !s) {
    spdlog::error("{}", s.error().message);
    manager.stop();
    return 1;
  }
  if (auto s = manager.start(); !s) {
    spdlog::error("{}", s.error().message);
    http.stop();
    manager.stop();
    return 1;
  }
  spdlog::info("running with {} workers", flags.workers);

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("{}: finishing in-flight work", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  // A second signal, or a shutdown that overruns its bound (it should not: stop() abandons
  // requests after its grace period), ends the process at once, as controller-runtime does.
  std::thread([signals] {
    struct timespec bound = {kShutdownBoundSeconds, 0};
    int second = sigtimedwait(&signals, nullptr, &bound);
    spdlog::error("{}: exiting without finishing",
                  second > 0 ? "second signal" : "shutdown took too long");
    spdlog::default_logger()->flush();
    std::_Exit(1);
  }).detach();
  http.stop();
  manager.stop();
  spdlog::info("stopped after {} reconciles and {} writes", manager.reconciles(),
               client.counts().writes.load());
  return 0;
}
