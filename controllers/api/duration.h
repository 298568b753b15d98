// Go durations, as TracingPolicy's spec.debug.duration and the operator's flags write them.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace tracing::controllers {

// Go-style duration ("15m", "1h30m", "90s", "1.5h") → seconds; nullopt when malformed.
std::optional<std::chrono::seconds> parse_duration(const std::string& text);

}  // namespace tracing::controllers
