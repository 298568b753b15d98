#include "controllers/reconcilers/events.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

#include "controllers/api/time.h"
#include "controllers/naming.h"

namespace tracing::controllers {

void EventRecorder::emit(const nlohmann::json& regarding, const std::string& type,
                         const std::string& reason, const std::string& action,
                         const std::string& note) {
  const auto& md = regarding["metadata"];
  std::string ns = md.value("namespace", "default");
  auto now = std::chrono::system_clock::now();
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  char hex[32];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(nanos));
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(micros % 1000000));
  std::string event_time = format_rfc3339(now);
  event_time.insert(event_time.size() - 1, frac);  // MicroTime: 2006-01-02T15:04:05.000000Z
  nlohmann::json event = {
      {"apiVersion", "events.k8s.io/v1"},
      {"kind", "Event"},
      {"metadata", {{"name", md.value("name", "object") + "." + hex}, {"namespace", ns}}},
      {"eventTime", event_time},
      {"reportingController", "tracing.rollout.dev/tracing-operator"},
      {"reportingInstance", instance_},
      {"action", action},
      {"reason", reason},
      {"note", note.size() > 1000 ? note.substr(0, 1000) : note},
      {"type", type},
      {"regarding",
       {{"apiVersion", regarding.value("apiVersion", "")},
        {"kind", regarding.value("kind", "")},
        {"name", md.value("name", "")},
        {"namespace", ns},
        {"uid", md.value("uid", "")}}}};
  auto r = client_.create(kube::resources::events(), ns, event);
  if (!r)
    spdlog::warn("event {} on {}/{}: {}", reason, ns, md.value("name", ""), r.error().to_string());
}

}  // namespace tracing::controllers
