// Wall-clock instants and their RFC 3339 text, as Kubernetes objects write them.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace tracing::controllers {

using WallTime = std::chrono::system_clock::time_point;

// RFC 3339 ("2026-11-26T12:00:00Z", "…+01:00", fractional seconds) → time; nullopt if malformed.
std::optional<WallTime> parse_rfc3339(const std::string& text);
std::string format_rfc3339(WallTime t);  // UTC, seconds precision: 2026-11-26T12:00:00Z

}  // namespace tracing::controllers
