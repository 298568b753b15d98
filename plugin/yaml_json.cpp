#include "plugin/yaml_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string_view>

namespace tracing::yaml {

namespace {

using json = nlohmann::json;

constexpr std::string_view kCoreTag = "tag:yaml.org,2002:";

std::string where(const YAML::Node& node) {
  const auto mark = node.Mark();
  return mark.is_null() ? std::string("?") : std::to_string(mark.line + 1);
}

bool is_null_word(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<bool> bool_word(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

// YAML 1.2 core schema integers: decimal with an optional sign, 0o octal, 0x hexadecimal.
std::optional<json> integer(const std::string& s) {
  static const std::regex decimal("[-+]?[0-9]+");
  static const std::regex octal("0o[0-7]+");
  static const std::regex hex("0x[0-9a-fA-F]+");
  int base = 10;
  std::string_view digits = s;
  if (std::regex_match(s, decimal)) {
    if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  } else if (std::regex_match(s, octal)) {
    base = 8;
    digits.remove_prefix(2);
  } else if (std::regex_match(s, hex)) {
    base = 16;
    digits.remove_prefix(2);
  } else {
    return std::nullopt;
  }
  const char* end = digits.data() + digits.size();
  int64_t i = 0;
  if (auto r = std::from_chars(digits.data(), end, i, base); r.ec == std::errc() && r.ptr == end) {
    return json(i);
  }
  uint64_t u = 0;
  if (auto r = std::from_chars(digits.data(), end, u, base); r.ec == std::errc() && r.ptr == end) {
    return json(u);
  }
  // Too large for 64 bits: a decimal becomes a float, as a JSON decoder would read it.
  if (base != 10) throw std::runtime_error(s + " does not fit in 64 bits");
  return json(std::stod(s));
}

// YAML 1.2 core schema floats (.inf and .nan have no JSON form and are refused by the caller).
std::optional<json> floating(const std::string& s) {
  static const std::regex number(R"([-+]?([.][0-9]+|[0-9]+([.][0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (!std::regex_match(s, number)) return std::nullopt;
  return json(std::stod(s));
}

bool is_special_float(const std::string& s) {
  static const std::regex special(R"([-+]?[.](inf|Inf|INF)|[.](nan|NaN|NAN))");
  return std::regex_match(s, special);
}

json plain_scalar(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (is_null_word(s)) return nullptr;
  if (auto b = bool_word(s)) return *b;
  if (auto i = integer(s)) return *i;
  if (auto f = floating(s)) return *f;
  if (is_special_float(s)) {
    throw std::runtime_error("line " + where(node) + ": " + s + " has no JSON representation");
  }
  return s;
}

json tagged_scalar(const YAML::Node& node, std::string_view type) {
  const std::string& s = node.Scalar();
  auto fail = [&]() -> json {
    throw std::runtime_error("line " + where(node) + ": \"" + s + "\" is not a valid !!" +
                             std::string(type));
  };
  if (type == "str") return s;
  if (type == "null") return is_null_word(s) ? json(nullptr) : fail();
  if (type == "bool") {
    auto b = bool_word(s);
    return b ? json(*b) : fail();
  }
  if (type == "int") {
    auto i = integer(s);
    return i ? *i : fail();
  }
  if (type == "float") {
    if (auto i = integer(s)) return json(i->get<double>());
    auto f = floating(s);
    return f ? *f : fail();
  }
  return s;  // another tag (!!timestamp, a local tag): its text
}

json scalar(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  // "?": a plain scalar without a tag; "!": a quoted one (non-specific tag).
  if (tag == "?") return plain_scalar(node);
  if (std::string_view(tag).starts_with(kCoreTag)) {
    return tagged_scalar(node, std::string_view(tag).substr(kCoreTag.size()));
  }
  return node.Scalar();
}

}  // namespace

nlohmann::json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalar(node);
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(yaml_to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
          throw std::runtime_error("line " + where(kv.first) +
                                   ": a mapping key must be a scalar to become JSON");
        }
        out[kv.first.Scalar()] = yaml_to_json(kv.second);
      }
      return out;
    }
  }
  return nullptr;
}

nlohmann::json load_yaml_file(const std::string& path) {
  YAML::Node doc;
  try {
    doc = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  try {
    return yaml_to_json(doc);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace tracing::yaml
