#include "operator/kube/watch_event.h"

namespace tracing::kube {

DecodedWatchLine decode_watch_line(std::string_view line, const FieldFilter& fields) {
  using json = nlohmann::json;
  auto ev = fields ? parse_filtered(line, {{"object"}, fields, nullptr})
                   : json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!ev.is_object() || !ev.contains("type") || !ev["type"].is_string() ||
      !ev.contains("object")) {
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
    if (fields) return decode_watch_line(line);  // the Status whole, not as the filter keeps it
    // The Status's code (from_response reads it again), or 500 when the object is no Status.
    int code = 500;
    if (event.object.is_object()) {
      auto it = event.object.find("code");
      if (it != event.object.end() && it->is_number_integer()) code = it->get<int>();
    }
    return ApiError::from_response(code, event.object.dump());
  } else {
    return UnknownWatchEvent{type};
  }
  return event;
}

}  // namespace tracing::kube
