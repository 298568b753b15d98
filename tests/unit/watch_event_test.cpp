#include "operator/kube/watch_event.h"

#include <gtest/gtest.h>

#include <string>

namespace tracing::kube {
namespace {

TEST(DecodeWatchLine, DeliversEachKnownTypeWithItsObject) {
  const std::pair<const char*, EventType> cases[] = {{"ADDED", EventType::kAdded},
                                                     {"MODIFIED", EventType::kModified},
                                                     {"DELETED", EventType::kDeleted},
                                                     {"BOOKMARK", EventType::kBookmark}};
  for (const auto& [name, type] : cases) {
    const std::string line = std::string("{\"type\":\"") + name +
                             "\",\"object\":{\"metadata\":{\"resourceVersion\":\"7\"}}}";
    auto decoded = decode_watch_line(line);
    ASSERT_TRUE(std::holds_alternative<WatchEvent>(decoded)) << line;
    EXPECT_EQ(std::get<WatchEvent>(decoded).type, type);
    EXPECT_EQ(std::get<WatchEvent>(decoded).object,
              nlohmann::json::parse(R"({"metadata":{"resourceVersion":"7"}})"));
  }
}

TEST(DecodeWatchLine, AnErrorEventEndsTheWatchWithItsStatus) {
  auto decoded = decode_watch_line(
      R"json({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",)json"
      R"json("message":"too old resource version: 1 (42)","reason":"Expired","code":410}})json");
  ASSERT_TRUE(std::holds_alternative<ApiError>(decoded));
  const auto& e = std::get<ApiError>(decoded);
  EXPECT_EQ(e.code, 410);
  EXPECT_EQ(e.reason, "Expired");
  EXPECT_EQ(e.message, "too old resource version: 1 (42)");
  EXPECT_TRUE(e.is_expired());
}

TEST(DecodeWatchLine, AnErrorEventWithoutACodeIsA500) {
  auto decoded = decode_watch_line(R"({"type":"ERROR","object":{"message":"boom"}})");
  ASSERT_TRUE(std::holds_alternative<ApiError>(decoded));
  EXPECT_EQ(std::get<ApiError>(decoded).code, 500);
}

// Found by fuzzing: an ERROR event whose object is no Status (or whose Status has fields of the
// wrong type) threw from nlohmann::json::value instead of ending the watch.
TEST(DecodeWatchLine, AnErrorEventWhoseObjectIsNoStatusIsA500) {
  for (const std::string line :
       {R"({"type":"ERROR","object":0})", R"({"type":"ERROR","object":{"code":"410"}})",
        R"({"type":"ERROR","object":[1]})",
        R"({"type":"ERROR","object":{"kind":"Status","reason":1,"message":{},"details":)"
        R"({"causes":[1,{"field":2}]}}})"}) {
    auto decoded = decode_watch_line(line);
    ASSERT_TRUE(std::holds_alternative<ApiError>(decoded)) << line;
    EXPECT_EQ(std::get<ApiError>(decoded).code, 500) << line;
    EXPECT_EQ(std::get<ApiError>(decoded).reason, "InternalError") << line;
  }
}

TEST(DecodeWatchLine, AnUnknownTypeIsSkippedWithItsName) {
  auto decoded = decode_watch_line(R"({"type":"SYNC","object":{}})");
  ASSERT_TRUE(std::holds_alternative<UnknownWatchEvent>(decoded));
  EXPECT_EQ(std::get<UnknownWatchEvent>(decoded).type, "SYNC");
}

TEST(DecodeWatchLine, ALineThatIsNoWatchEventIsAnInvalidResponse) {
  for (const std::string line :
       {"not json", "[1,2]", R"({"type":"ADDED"})", R"({"object":{}})", R"({"type":"ADDED",)",
        // Found by watch_stream_fuzz's harness: a type that is not a string threw type_error.
        R"({"type":1,"object":{}})", R"({"type":null,"object":{}})"}) {
    auto decoded = decode_watch_line(line);
    ASSERT_TRUE(std::holds_alternative<ApiError>(decoded)) << line;
    EXPECT_EQ(std::get<ApiError>(decoded).code, 200) << line;
    EXPECT_EQ(std::get<ApiError>(decoded).reason, "InvalidResponse") << line;
    EXPECT_EQ(std::get<ApiError>(decoded).message, "malformed watch event: " + line) << line;
  }
}

bool keep_name(FieldPath p) { return p[0] == "metadata" && (p.size() == 1 || p[1] == "name"); }

TEST(DecodeWatchLine, FiltersTheEventsObject) {
  auto decoded = decode_watch_line(
      R"({"type":"MODIFIED","object":{"metadata":{"name":"a","uid":"u"},"spec":{"x":1}}})",
      keep_name);
  ASSERT_TRUE(std::holds_alternative<WatchEvent>(decoded));
  EXPECT_EQ(std::get<WatchEvent>(decoded).type, EventType::kModified);
  EXPECT_EQ(std::get<WatchEvent>(decoded).object,
            nlohmann::json::parse(R"({"metadata":{"name":"a"}})"));
}

// The filter is the reader's of its objects; an ERROR's Status is the client's to read.
TEST(DecodeWatchLine, AFilteredErrorEventKeepsItsWholeStatus) {
  auto decoded = decode_watch_line(
      R"json({"object":{"kind":"Status","apiVersion":"v1","status":"Failure",)json"
      R"json("message":"too old resource version: 1 (42)","reason":"Expired","code":410},)json"
      R"json("type":"ERROR"})json",
      keep_name);
  ASSERT_TRUE(std::holds_alternative<ApiError>(decoded));
  const auto& e = std::get<ApiError>(decoded);
  EXPECT_EQ(e.code, 410);
  EXPECT_EQ(e.message, "too old resource version: 1 (42)");
  EXPECT_TRUE(e.is_expired());
}

}  // namespace
}  // namespace tracing::kube
