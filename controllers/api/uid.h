// An object's metadata.uid held compactly: the API server writes a lowercase RFC 4122 UUID
// (36 characters: a std::string of 32 bytes plus a 48-byte heap block), kept here as its
// 16 bytes. Any other text (a hand-made object in a test, an empty uid) is kept as an Atom, so
// every uid reads back exactly as it was written.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "controllers/api/atom.h"

namespace tracing::controllers {

class Uid {
 public:
  Uid() = default;
  explicit Uid(std::string_view text);

  std::string str() const;
  bool empty() const { return !uuid_ && !other_; }
  bool operator==(const Uid& o) const {
    return uuid_ == o.uuid_ && (uuid_ ? bytes_ == o.bytes_ : other_ == o.other_);
  }
  bool operator==(std::string_view text) const { return str() == text; }

 private:
  std::array<uint8_t, 16> bytes_{};
  Atom other_;  // when not a lowercase UUID
  bool uuid_ = false;
};

}  // namespace tracing::controllers
