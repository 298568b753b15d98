// Newline framing of a watch stream.
//
// The API server writes one compact JSON event per line, but the transport delivers chunks whose
// boundaries fall anywhere: inside an event, inside a multi-byte UTF-8 sequence, between "\r" and
// "\n". LineSplitter carries the unfinished remainder from one chunk to the next and hands out
// only complete lines (without the terminator). Bytes are never decoded here, so a split inside a
// UTF-8 sequence is reassembled byte for byte.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace tracing::kube {

class LineSplitter {
 public:
  // Feeds one chunk; calls `on_line` for every line it completes, in order. Empty lines are
  // skipped (the API server does not send them; a keep-alive newline would be one). Returns false
  // as soon as `on_line` does, leaving the rest unconsumed.
  bool feed(std::string_view chunk, const std::function<bool(std::string_view)>& on_line);
  // The bytes received after the last newline.
  const std::string& remainder() const { return carry_; }
  // Largest line accepted; a longer one is a protocol error, reported by `overflowed()`.
  static constexpr size_t kMaxLine = 64u << 20;
  bool overflowed() const { return overflowed_; }

 private:
  std::string carry_;
  bool overflowed_ = false;
};

}  // namespace tracing::kube
