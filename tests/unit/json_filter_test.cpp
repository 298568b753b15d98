#include "operator/kube/json_filter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tracing::kube {
namespace {

using json = nlohmann::json;

const char* kList = R"({
  "kind": "DeploymentList",
  "metadata": {"resourceVersion": "77", "continue": "c1"},
  "items": [
    {"metadata": {"name": "a", "annotations": {"big": "xxxxxxxx", "keep/me": "1"}},
     "spec": {"containers": [{"name": "app", "image": "i", "env": [{"name": "X"}]},
                             {"name": "side", "image": "j"}]},
     "status": {"replicas": 2}},
    {"metadata": {"name": "b"}, "spec": {"containers": []}}
  ]
})";

// Keeps metadata.name, metadata.annotations.keep/*, spec.containers[].name.
bool keep_some(FieldPath p) {
  if (p[0] == "metadata") {
    return p.size() == 1 || p[1] == "name" ||
           (p[1] == "annotations" && (p.size() == 2 || p[2].rfind("keep/", 0) == 0));
  }
  if (p[0] != "spec") return false;
  if (p.size() == 1) return true;
  return p[1] == "containers" && (p.size() == 2 || p[2] == "name");
}

TEST(ParseFiltered, KeepsOnlyWhatTheFilterKeepsOfEachItem) {
  json got = parse_filtered(kList, {{"items"}, keep_some, nullptr});
  EXPECT_EQ(got, json::parse(R"({
    "kind": "DeploymentList",
    "metadata": {"resourceVersion": "77", "continue": "c1"},
    "items": [
      {"metadata": {"name": "a", "annotations": {"keep/me": "1"}},
       "spec": {"containers": [{"name": "app"}, {"name": "side"}]}},
      {"metadata": {"name": "b"}, "spec": {"containers": []}}
    ]})"));
}

TEST(ParseFiltered, WithoutAFilterIsJsonParse) {
  const std::string text =
      R"({"a":[1,-2,3.5,18446744073709551615,true,null,"s",{"b":{}}],"c":{"d":[[]]},"a2":"\u00e9"})";
  json got = parse_filtered(text, {{"items"}, nullptr, nullptr});
  EXPECT_EQ(got, json::parse(text));
  EXPECT_TRUE(got["a"][3].is_number_unsigned());
  EXPECT_TRUE(got["a"][1].is_number_integer());
  EXPECT_EQ(got["a2"], "\xc3\xa9");
}

TEST(ParseFiltered, AsksOnlyAboutMembersOfKeptObjects) {
  std::vector<std::string> asked;
  parse_filtered(kList, {{"items"},
                         [&](FieldPath p) {
                           std::string s;
                           for (const auto& k : p) s += (s.empty() ? "" : ".") + k;
                           asked.push_back(s);
                           return p[0] == "metadata" && p.size() <= 2 && p.back() != "annotations";
                         },
                         nullptr});
  EXPECT_EQ(asked,
            (std::vector<std::string>{"metadata", "metadata.name", "metadata.annotations", "spec",
                                      "status", "metadata", "metadata.name", "spec"}));
}

TEST(ParseFiltered, HandsOverEachItemAsItIsParsed) {
  std::vector<json> items;
  json got = parse_filtered(
      kList, {{"items"}, keep_some, [&](json&& item) { items.push_back(std::move(item)); }});
  EXPECT_EQ(got["items"], json::array());
  EXPECT_EQ(got["metadata"]["continue"], "c1");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0], json::parse(R"({"metadata": {"name": "a", "annotations": {"keep/me": "1"}},
                                      "spec": {"containers": [{"name": "app"}, {"name": "side"}]}})"));
  EXPECT_EQ(items[1], json::parse(R"({"metadata": {"name": "b"}, "spec": {"containers": []}})"));
}

TEST(ParseFiltered, TextThatIsNotJsonIsDiscardedEvenInsideADroppedMember) {
  EXPECT_TRUE(
      parse_filtered(R"({"items":[{"status":{"x":[1,]}}]})", {{"items"}, keep_some, nullptr})
          .is_discarded());
  EXPECT_TRUE(parse_filtered("{", {{"items"}, keep_some, nullptr}).is_discarded());
  EXPECT_TRUE(parse_filtered("", {{"items"}, nullptr, nullptr}).is_discarded());
}

TEST(ParseFiltered, ARepeatedKeyKeepsItsLastValueAsJsonParseDoes) {
  json got =
      parse_filtered(R"({"items":[{"metadata":{"name":"a","x":1},"metadata":{"name":"b"}}]})",
                     {{"items"}, keep_some, nullptr});
  EXPECT_EQ(got["items"][0], json::parse(R"({"metadata":{"name":"b"}})"));
}

}  // namespace
}  // namespace tracing::kube
