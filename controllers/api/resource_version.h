// An object's metadata.resourceVersion held compactly: the API server's are decimal numbers (etcd's
// revisions; a std::string of 32 bytes each), kept here as their value in 8 bytes. The API calls
// them opaque, so any other text (leading zeros, more digits than 64 bits hold, letters) is kept
// as an Atom: every version reads back exactly as it was written, and two are equal exactly when
// their texts are.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "controllers/api/atom.h"

namespace tracing::controllers {

class ResourceVersion {
 public:
  ResourceVersion() = default;  // ""
  explicit ResourceVersion(std::string_view text);

  std::string str() const;
  bool empty() const { return number_ == 0 && !text_; }
  // Each text has one form (a number only when it prints back as the same text), so comparing
  // the forms compares the texts.
  bool operator==(const ResourceVersion& o) const = default;
  bool operator==(std::string_view text) const { return str() == text; }

 private:
  uint64_t number_ = 0;  // the value + 1 when the text is a canonical decimal number, else 0
  Atom text_;            // any other text but ""
};

}  // namespace tracing::controllers
