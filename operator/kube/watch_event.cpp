#include "operator/kube/watch_event.h"

namespace tracing::kube {

DecodedWatchLine decode_watch_line(std::string_view line) {
  using json = nlohmann::json;
  auto ev = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!ev.is_object() || !ev.contains("type") || !ev.contains("object")) {
    return ApiError{200,
                    "InvalidResponse",
                    "malformed watch event: " + std::string(line.substr(0, 200)),
                    {},
                    std::nullopt};
  }
  const std::string type = ev["type"].get<std::string>();
  WatchEvent event{EventType::kAdded, std::move(ev["object"])};
  if (type == "ADDED") {
    event.type = EventType::kAdded;
  } else if (type == "MODIFIED") {
    event.type = EventType::kModified;
  } else if (type == "DELETED") {
    event.type = EventType::kDeleted;
  } else if (type == "BOOKMARK") {
    event.type = EventType::kBookmark;
  } else if (type == "ERROR") {
    return ApiError::from_response(event.object.value("code", 500), event.object.dump());
  } else {
    return UnknownWatchEvent{type};
  }
  return event;
}

}  // namespace tracing::kube
