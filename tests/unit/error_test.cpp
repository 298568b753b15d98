#include "operator/kube/error.h"

#include <gtest/gtest.h>

namespace tracing::kube {
namespace {

TEST(ApiError, ParsesAConflictStatusWithItsCauses) {
  // As the API server returns a non-forced apply over another manager's field.
  const std::string body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
    "message":"Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas",
    "reason":"Conflict","details":{"causes":[{"reason":"FieldManagerConflict",
    "message":"conflict with \"kubectl\"","field":".spec.replicas"}]},"code":409})";
  ApiError e = ApiError::from_response(409, body);
  EXPECT_EQ(e.code, 409);
  EXPECT_EQ(e.reason, "Conflict");
  EXPECT_TRUE(e.is_conflict());
  EXPECT_TRUE(e.retryable());
  ASSERT_EQ(e.causes.size(), 1u);
  EXPECT_EQ(e.causes[0].field, ".spec.replicas");
  EXPECT_EQ(e.causes[0].reason, "FieldManagerConflict");
}

TEST(ApiError, InStreamExpiredIsExpiredEvenWithOldReasonGone) {
  auto e = ApiError::from_response(
      500,
      R"({"kind":"Status","status":"Failure","message":"too old","reason":"Gone","code":410})");
  EXPECT_EQ(e.code, 410);
  EXPECT_TRUE(e.is_expired());
}

TEST(ApiError, ClassifiesRetryableAndTerminal) {
  EXPECT_TRUE(ApiError::network("refused").retryable());
  EXPECT_TRUE(ApiError::from_response(429, "").retryable());
  EXPECT_TRUE(ApiError::from_response(503, "").retryable());
  EXPECT_FALSE(ApiError::from_response(403, "").retryable());
  EXPECT_FALSE(ApiError::from_response(404, "").retryable());
  EXPECT_FALSE(ApiError::from_response(422, "").retryable());
  EXPECT_FALSE(ApiError::from_response(400, "").retryable());
}

TEST(ApiError, AlreadyExistsIsNotAConflict) {
  auto e = ApiError::from_response(
      409, R"({"kind":"Status","reason":"AlreadyExists","message":"exists","code":409})");
  EXPECT_TRUE(e.is_already_exists());
  EXPECT_FALSE(e.is_conflict());
}

TEST(ApiError, NonStatusBodyBecomesTheMessage) {
  auto e = ApiError::from_response(502, "Bad Gateway");
  EXPECT_EQ(e.code, 502);
  EXPECT_EQ(e.message, "Bad Gateway");
  EXPECT_TRUE(e.retryable());
}

TEST(Result, HoldsAValueOrAnError) {
  Result<int> ok = 3;
  Result<int> bad = ApiError::network("x");
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 3);
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().is_network());
}

}  // namespace
}  // namespace tracing::kube

namespace tracing::kube {
namespace {
TEST(ApiError, InvalidConfigIsTerminalAndNotANetworkError) {
  ApiError e{0, "InvalidConfig", "kubeconfig /x: server is missing", {}, std::nullopt};
  EXPECT_FALSE(e.is_network());
  EXPECT_FALSE(e.retryable());
  EXPECT_EQ(e.to_string(), "InvalidConfig: kubeconfig /x: server is missing");
}
// Found by fuzzing the watch stream: a body shaped like a Status with fields of other types
// threw from nlohmann::json::value; it now reads as a Status without those fields.
TEST(ApiError, AStatusWithFieldsOfTheWrongTypeKeepsOnlyWhatItCanRead) {
  ApiError e = ApiError::from_response(
      409,
      R"({"kind":"Status","reason":7,"message":["m"],"code":"409",)"
      R"("details":{"causes":[3,{"reason":"FieldManagerConflict","message":null,"field":1}]}})");
  EXPECT_EQ(e.code, 409);
  EXPECT_EQ(e.reason, "Conflict");
  EXPECT_EQ(e.message, "");
  ASSERT_EQ(e.causes.size(), 2u);
  EXPECT_EQ(e.causes[1].reason, "FieldManagerConflict");
  EXPECT_EQ(e.causes[1].message, "");
  EXPECT_EQ(e.causes[1].field, "");
}

}  // namespace
}  // namespace tracing::kube
