#include "controllers/api/uid.h"

namespace tracing::controllers {

namespace {

// Where the dashes of "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" are.
bool dash_at(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // uppercase too: it would not read back as written
}

}  // namespace

Uid::Uid(std::string_view text) {
  if (text.size() == 36) {
    std::array<uint8_t, 16> bytes{};
    size_t out = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < text.size();) {
      if (dash_at(i)) {
        ok = text[i] == '-';
        ++i;
        continue;
      }
      int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
      ok = hi >= 0 && lo >= 0 && !dash_at(i + 1);
      if (ok) bytes[out++] = static_cast<uint8_t>(hi << 4 | lo);
      i += 2;
    }
    if (ok && out == bytes.size()) {
      bytes_ = bytes;
      uuid_ = true;
      return;
    }
  }
  if (!text.empty()) other_ = Atom(text);
}

std::string Uid::str() const {
  if (!uuid_) return *other_;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < bytes_.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes_[i] >> 4]);
    out.push_back(kHex[bytes_[i] & 0xf]);
  }
  return out;
}

}  // namespace tracing::controllers
