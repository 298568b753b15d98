// Watch framing: a byte stream cut into chunks anywhere (as the transport delivers it), framed
// into lines by LineSplitter and each line decoded by decode_watch_line(), as Client::watch does.
// Checks: nothing throws or crashes, also when a field of an event has another JSON type; the
// lines do not depend on where the chunks were cut.
//
// Input: the first bytes choose the chunk sizes (see below), the rest is the stream.
#include <string>
#include <vector>

#include "operator/kube/line_splitter.h"
#include "operator/kube/watch_event.h"
#include "tests/fuzz/fuzz_json.h"

namespace {

using tracing::kube::decode_watch_line;
using tracing::kube::LineSplitter;

std::vector<std::string> split(const std::vector<std::string_view>& chunks, std::string& rest) {
  LineSplitter splitter;
  std::vector<std::string> lines;
  for (std::string_view chunk : chunks) {
    splitter.feed(chunk, [&](std::string_view line) {
      lines.emplace_back(line);
      return true;
    });
  }
  rest = splitter.remainder();
  return lines;
}

void decode(const std::string& line) {
  auto decoded = decode_watch_line(line);
  if (auto* event = std::get_if<tracing::kube::WatchEvent>(&decoded)) {
    (void)event->object.dump();
  } else if (auto* error = std::get_if<tracing::kube::ApiError>(&decoded)) {
    (void)error->to_string();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Byte 0: how many chunk sizes follow (mod 9); each next byte: a chunk size - 1 (mod 64),
  // used in turn. No sizes: the stream in one chunk.
  std::vector<size_t> cuts;
  size_t at = 0;
  if (size > 0) {
    const size_t n = std::min<size_t>(data[0] % 9, size - 1);
    for (at = 1; at <= n; ++at) cuts.push_back(data[at] % 64);
  }
  const std::string stream(reinterpret_cast<const char*>(data) + at, size - at);

  std::vector<std::string_view> chunks;
  std::string_view left = stream;
  for (size_t i = 0; !left.empty(); ++i) {
    const size_t n = cuts.empty() ? left.size() : std::min(left.size(), cuts[i % cuts.size()] + 1);
    chunks.push_back(left.substr(0, n));
    left.remove_prefix(n);
  }

  std::string rest_whole, rest_chunked;
  const std::vector<std::string> whole = split({stream}, rest_whole);
  const std::vector<std::string> chunked = split(chunks, rest_chunked);
  FUZZ_CHECK(whole == chunked);
  FUZZ_CHECK(rest_whole == rest_chunked);

  for (const std::string& line : whole) {
    FUZZ_CHECK(!line.empty() && line.find('\n') == std::string::npos);
    decode(line);
    // The same event with one field of another type (a server or proxy that sends garbage).
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (auto variant = tracing::fuzz::type_variant(j, tracing::fuzz::input_hash(data, size))) {
      decode(variant->dump());
    }
  }
  return 0;
}
