#include "operator/kube/json_filter.h"

#include <algorithm>
#include <exception>

namespace tracing::kube {
namespace {

using json = nlohmann::json;

// nlohmann's SAX interface, building the DOM json::parse would build, without the members the
// filter drops: a dropped member's value, however large, is counted through and never stored.
class FilteringBuilder {
 public:
  FilteringBuilder(json& root, const FilteredParse& options) : root_(root), options_(options) {}

  bool null() { return value(nullptr); }
  bool boolean(bool v) { return value(v); }
  bool number_integer(json::number_integer_t v) { return value(v); }
  bool number_unsigned(json::number_unsigned_t v) { return value(v); }
  bool number_float(json::number_float_t v, const std::string&) { return value(v); }
  bool string(std::string& v) { return value(std::move(v)); }
  bool binary(json::binary_t& v) { return value(std::move(v)); }
  bool start_object(std::size_t) { return open(json::value_t::object); }
  bool start_array(std::size_t) { return open(json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(std::string& k) {
    if (skipping_ > 0) return true;
    keys_.push_back(k);
    if (!kept()) {
      keys_.pop_back();
      drop_next_ = true;
    }
    return true;
  }

  template <class Exception>
  bool parse_error(std::size_t, const std::string&, const Exception&) {
    return false;
  }

 private:
  struct Frame {
    json* container;
    bool member;  // an object member: its key is on keys_ until it closes
    bool at;      // the array at options_.at
  };

  bool kept() const {
    const auto& at = options_.at;
    if (!options_.keep || keys_.size() <= at.size() ||
        !std::equal(at.begin(), at.end(), keys_.begin())) {
      return true;
    }
    return options_.keep(FieldPath(keys_).subspan(at.size()));
  }

  // Stores `v` where the parse is: the root, the next element, or the member of the last key.
  json* place(json&& v) {
    if (frames_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json& c = *frames_.back().container;
    if (c.is_array()) {
      c.push_back(std::move(v));
      return &c.back();
    }
    json& slot = c[keys_.back()];
    slot = std::move(v);
    return &slot;
  }

  template <typename V>
  bool value(V&& v) {
    if (skipping_ > 0) return true;
    if (drop_next_) {
      drop_next_ = false;
      return true;
    }
    if (!frames_.empty() && frames_.back().at && options_.each) {
      options_.each(json(std::forward<V>(v)));
      return true;
    }
    const bool member = !frames_.empty() && frames_.back().container->is_object();
    place(json(std::forward<V>(v)));
    if (member) keys_.pop_back();
    return true;
  }

  bool open(json::value_t type) {
    if (skipping_ > 0 || drop_next_) {
      drop_next_ = false;
      ++skipping_;
      return true;
    }
    const bool member = !frames_.empty() && frames_.back().container->is_object();
    json* c = place(json(type));
    const bool at = member && type == json::value_t::array && keys_ == options_.at;
    frames_.push_back({c, member, at});
    return true;
  }

  bool close() {
    if (skipping_ > 0) {
      --skipping_;
      return true;
    }
    const Frame f = frames_.back();
    frames_.pop_back();
    if (f.member) keys_.pop_back();
    if (!frames_.empty() && frames_.back().at && options_.each) {
      auto& elements = frames_.back().container->get_ref<json::array_t&>();
      json element = std::move(elements.back());
      elements.pop_back();
      options_.each(std::move(element));
    }
    return true;
  }

  json& root_;
  const FilteredParse& options_;
  std::vector<Frame> frames_;
  std::vector<std::string> keys_;  // of the open members, and the member being read
  bool drop_next_ = false;         // the value after the last key is dropped
  int skipping_ = 0;               // depth inside a dropped value
};

}  // namespace

json parse_filtered(std::string_view text, const FilteredParse& options) {
  json result;
  FilteringBuilder builder(result, options);
  try {
    if (!json::sax_parse(text, &builder, json::input_format_t::json, /*strict=*/true)) {
      return json(json::value_t::discarded);
    }
  } catch (const std::exception&) {
    return json(json::value_t::discarded);
  }
  return result;
}

}  // namespace tracing::kube
