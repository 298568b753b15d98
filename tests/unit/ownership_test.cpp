#include "controllers/ownership.h"

#include <gtest/gtest.h>

#include "controllers/jaeger.h"
#include "controllers/naming.h"

namespace tracing::controllers {
namespace {

const std::string kUidA = "0b6e3a8e-2f4c-4d43-9d8e-5b1f7c2a9e10";
const std::string kUidB = "f3c1d2e4-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const std::string kUidGone = "11111111-2222-4333-8444-555555555555";

json config_map(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"team", "obs"}}}}},
          {"data", {{"k", "v"}}}};
}

// ---- is_uid ---------------------------------------------------------------------------------

TEST(IsUid, AcceptsTheApiServersForm) {
  EXPECT_TRUE(is_uid(kUidA));
  EXPECT_TRUE(is_uid("00000000-0000-0000-0000-000000000000"));
}

TEST(IsUid, RefusesAnythingElse) {
  for (const char* s :
       {"", "x", "0B6E3A8E-2F4C-4D43-9D8E-5B1F7C2A9E10", "0b6e3a8e2f4c4d439d8e5b1f7c2a9e10",
        "0b6e3a8e-2f4c-4d43-9d8e-5b1f7c2a9e1", "0b6e3a8e-2f4c-4d43-9d8e-5b1f7c2a9e10a",
        "0b6e3a8e-2f4c-4d43-9d8e_5b1f7c2a9e10", "0b6e3a8e-2f4c-4d43-9d8e-5b1f7c2a9g10"}) {
    EXPECT_FALSE(is_uid(s)) << s;
  }
}

// ---- the proof as written -------------------------------------------------------------------

TEST(OwnersAnnotation, IsCompactJsonWithTheObjectFirstAndUidsSorted) {
  EXPECT_EQ(owners_annotation("ConfigMap kube-system/cilium-config", {kUidB, kUidA}),
            R"({"object":"ConfigMap kube-system/cilium-config","policies":[")" + kUidA + R"(",")" +
                kUidB + R"("]})");
}

TEST(WithProof, AddsTheLabelAndTheAnnotationAndKeepsTheRest) {
  json got = with_proof(config_map("obs", "jaeger-config"), {kUidA});
  EXPECT_EQ(got["metadata"]["labels"],
            json({{"team", "obs"}, {"app.kubernetes.io/managed-by", "tracing-operator"}}));
  EXPECT_EQ(
      got["metadata"]["annotations"],
      json({{"tracing.rollout.dev/owners",
             R"({"object":"ConfigMap obs/jaeger-config","policies":[")" + kUidA + R"("]})"}}));
  EXPECT_EQ(got["data"], json({{"k", "v"}}));
}

TEST(WithProof, EveryManagedJaegerObjectCarriesItAndIsOursAsCreated) {
  for (const json& obj : jaeger_objects({"obs", "jaeger"}, "{}")) {
    json stamped = with_proof(obj, {kUidA});
    Ownership o = ownership_of(stamped, stamped["kind"], {kUidA});
    EXPECT_TRUE(o.ours) << stamped["kind"] << " " << stamped["metadata"]["name"] << ": " << o.why;
  }
}

// ---- ownership_of ---------------------------------------------------------------------------

TEST(OwnershipOf, OursWithTheLabelTheAnnotationAndAnExistingPolicy) {
  json live = with_proof(config_map("obs", "jaeger-config"), {kUidA, kUidGone});
  live.erase("kind");  // as list items come
  Ownership o = ownership_of(live, "ConfigMap", {kUidA, kUidB});
  EXPECT_TRUE(o.ours) << o.why;
  EXPECT_EQ(o.policies, (std::set<std::string>{kUidA, kUidGone}));
  EXPECT_EQ(o.why, "");
}

TEST(OwnershipOf, AnObjectWithoutTheLabelIsSomeoneElses) {
  Ownership o = ownership_of(config_map("kube-system", "cilium-config"), "ConfigMap", {kUidA});
  EXPECT_FALSE(o.ours);
  EXPECT_EQ(o.why, "has no app.kubernetes.io/managed-by=tracing-operator label");
}

TEST(OwnershipOf, TheLabelAloneIsNoProof) {
  json live = config_map("kube-system", "cilium-config");
  live["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "tracing-operator";
  Ownership o = ownership_of(live, "ConfigMap", {kUidA});
  EXPECT_FALSE(o.ours);
  EXPECT_EQ(o.why, "has no tracing.rollout.dev/owners annotation");
}

TEST(OwnershipOf, AnAnnotationNamingNoExistingPolicyIsNoProof) {
  json live = with_proof(config_map("obs", "jaeger-config"), {kUidGone});
  Ownership o = ownership_of(live, "ConfigMap", {kUidA, kUidB});
  EXPECT_FALSE(o.ours);
  EXPECT_EQ(o.why,
            "has a tracing.rollout.dev/owners annotation naming no TracingPolicy that exists");
  EXPECT_EQ(o.policies, (std::set<std::string>{kUidGone}));
}

TEST(OwnershipOf, ACopyUnderAnotherNameOrNamespaceIsNoProof) {
  json ours = with_proof(config_map("obs", "jaeger-config"), {kUidA});
  json renamed = ours;
  renamed["metadata"]["name"] = "my-config";
  json moved = ours;
  moved["metadata"]["namespace"] = "team-b";
  for (const json& copy : {renamed, moved}) {
    Ownership o = ownership_of(copy, "ConfigMap", {kUidA});
    EXPECT_FALSE(o.ours) << copy["metadata"];
    EXPECT_EQ(
        o.why,
        "has a tracing.rollout.dev/owners annotation copied from ConfigMap obs/jaeger-config");
  }
  // Same name, other kind: a Service jaeger-config is not the ConfigMap the annotation names.
  EXPECT_FALSE(ownership_of(ours, "Service", {kUidA}).ours);
}

TEST(OwnershipOf, AMalformedAnnotationIsNoProof) {
  const std::string ref = R"("object":"ConfigMap obs/jaeger-config")";
  for (const std::string& value :
       {std::string("ours"), std::string("{}"), "{" + ref + "}", "{" + ref + R"(,"policies":[]})",
        "{" + ref + R"(,"policies":"0b6e3a8e-2f4c-4d43-9d8e-5b1f7c2a9e10"})",
        "{" + ref + R"(,"policies":["not-a-uid"]})",
        "{" + ref + R"(,"policies":[")" + kUidA + R"(",7]})",
        R"({"object":7,"policies":[")" + kUidA + R"("]})"}) {
    json live = with_proof(config_map("obs", "jaeger-config"), {kUidA});
    live["metadata"]["annotations"]["tracing.rollout.dev/owners"] = value;
    Ownership o = ownership_of(live, "ConfigMap", {kUidA});
    EXPECT_FALSE(o.ours) << value;
    EXPECT_EQ(o.why, "has a malformed tracing.rollout.dev/owners annotation") << value;
  }
  json not_a_string = with_proof(config_map("obs", "jaeger-config"), {kUidA});
  not_a_string["metadata"]["annotations"]["tracing.rollout.dev/owners"] = {{"policies", {kUidA}}};
  EXPECT_FALSE(ownership_of(not_a_string, "ConfigMap", {kUidA}).ours);
}

TEST(OwnershipOf, NothingIsOursWithoutMetadata) {
  EXPECT_FALSE(ownership_of(json::object(), "ConfigMap", {kUidA}).ours);
  EXPECT_FALSE(ownership_of(json(), "ConfigMap", {kUidA}).ours);
}

}  // namespace
}  // namespace tracing::controllers
