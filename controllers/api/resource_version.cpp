#include "controllers/api/resource_version.h"

#include <charconv>

namespace tracing::controllers {

ResourceVersion::ResourceVersion(std::string_view text) {
  if (text.empty()) return;
  // Canonical: digits only, no leading zero but "0" itself, at most 19 digits (below 10^19, so
  // value + 1 never wraps).
  const bool canonical = text.size() <= 19 && (text.size() == 1 || text[0] != '0') &&
                         text.find_first_not_of("0123456789") == std::string_view::npos;
  uint64_t value = 0;
  if (canonical &&
      std::from_chars(text.data(), text.data() + text.size(), value).ec == std::errc()) {
    number_ = value + 1;
    return;
  }
  text_ = Atom(text);
}

std::string ResourceVersion::str() const {
  if (number_ == 0) return *text_;
  return std::to_string(number_ - 1);
}

}  // namespace tracing::controllers
