// One line of a watch stream, decoded: the event it delivers, the error that ends the watch, or
// an event type this client does not know. Pure; no I/O. LineSplitter frames the stream into
// lines, decode_watch_line() reads each.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

#include "operator/kube/error.h"
#include "operator/kube/json_filter.h"

namespace tracing::kube {

enum class EventType { kAdded, kModified, kDeleted, kBookmark };

struct WatchEvent {
  EventType type;
  nlohmann::json object;
};

// An event whose type is none of ADDED, MODIFIED, DELETED, BOOKMARK, ERROR: skipped (and logged).
struct UnknownWatchEvent {
  std::string type;
};

// A WatchEvent to deliver; an ApiError that ends the watch (an in-stream ERROR event, as its
// Status says, or a line that is no watch event: reason "InvalidResponse"); or an event to skip.
using DecodedWatchLine = std::variant<WatchEvent, ApiError, UnknownWatchEvent>;

// Decodes one line (without its terminator) of a watch stream. `fields` filters the event's
// object while it is parsed (json_filter.h); an ERROR event's Status is read whole.
DecodedWatchLine decode_watch_line(std::string_view line, const FieldFilter& fields = {});

}  // namespace tracing::kube
