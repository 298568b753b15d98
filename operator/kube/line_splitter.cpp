#include "operator/kube/line_splitter.h"

namespace tracing::kube {

bool LineSplitter::feed(std::string_view chunk,
                        const std::function<bool(std::string_view)>& on_line) {
  while (!chunk.empty()) {
    size_t nl = chunk.find('\n');
    if (nl == std::string_view::npos) {
      carry_.append(chunk);
      if (carry_.size() > kMaxLine) overflowed_ = true;
      return !overflowed_;
    }
    std::string_view line;
    if (carry_.empty()) {
      line = chunk.substr(0, nl);
    } else {
      carry_.append(chunk.substr(0, nl));
      line = carry_;
    }
    chunk.remove_prefix(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool keep_going = line.empty() || on_line(line);
    carry_.clear();
    if (!keep_going) {
      carry_.assign(chunk);
      return false;
    }
  }
  return true;
}

}  // namespace tracing::kube
