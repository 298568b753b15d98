#include "controllers/apply_intent.h"

#include <gtest/gtest.h>

#include "controllers/naming.h"

namespace tracing::controllers {
namespace {

EnvVar var(const std::string& n, const std::string& v) { return {n, {{"name", n}, {"value", v}}}; }

// A workload whose "app" container holds LOG_LEVEL (someone else's) and two entries of ours.
Workload converged() {
  Workload w;
  w.ns = "shop";
  w.name = "web";
  w.containers = {{"app",
                   {var("LOG_LEVEL", "info"), var("OTEL_TRACES_SAMPLER_ARG", "0.1"),
                    var("OTEL_TRACES_EXPORTER", "otlp")}},
                  {"sidecar", {}}};
  w.env_owners["app"]["LOG_LEVEL"] = {"kubectl-edit"};
  w.env_owners["app"]["OTEL_TRACES_SAMPLER_ARG"] = {naming::kFieldManager};
  w.env_owners["app"]["OTEL_TRACES_EXPORTER"] = {naming::kFieldManager};
  w.annotations[naming::kPoliciesAnnotation] = "shop/p";
  return w;
}

DesiredEnv desired(const std::string& ratio) {
  DesiredEnv d;
  d.env["app"] = {var("OTEL_TRACES_SAMPLER_ARG", ratio), var("OTEL_TRACES_EXPORTER", "otlp")};
  return d;
}

TEST(UpToDate, HoldsWhenTheOperatorOwnsExactlyTheDesiredEntries) {
  EXPECT_TRUE(up_to_date(converged(), desired("0.1"), {"shop/p"}));
}

TEST(UpToDate, FailsWhenAValueDiffers) {
  EXPECT_FALSE(up_to_date(converged(), desired("0.2"), {"shop/p"}));
}

TEST(UpToDate, FailsWhenTheOperatorOwnsAnEntryNoLongerDesired) {
  DesiredEnv d;
  d.env["app"] = {var("OTEL_TRACES_SAMPLER_ARG", "0.1")};
  EXPECT_FALSE(up_to_date(converged(), d, {"shop/p"}));
}

TEST(UpToDate, FailsWhenADesiredEntryIsOwnedBySomeoneElseOnly) {
  Workload w = converged();
  w.env_owners["app"]["OTEL_TRACES_EXPORTER"] = {"gitops"};
  EXPECT_FALSE(up_to_date(w, desired("0.1"), {"shop/p"}));
}

TEST(UpToDate, FailsWhenTheCandidatePoliciesChanged) {
  EXPECT_FALSE(up_to_date(converged(), desired("0.1"), {"shop/p", "tracing-system/default"}));
}

TEST(UpToDate, FailsWhenTheOverriddenRecordChanged) {
  DesiredEnv d = desired("0.1");
  d.overridden = {{"app", {{"X", {{"entry", {{"name", "X"}, {"value", "1"}}}, {"manager", "m"}}}}}};
  EXPECT_FALSE(up_to_date(converged(), d, {"shop/p"}));
}

TEST(ApplyIntent, CarriesOnlyTheOperatorsEntriesAndAnnotations) {
  Workload w = converged();
  json intent = apply_intent(w, desired("0.3"), {"shop/p"});
  EXPECT_EQ(intent["metadata"]["name"], "web");
  EXPECT_EQ(intent["metadata"]["annotations"][naming::kPoliciesAnnotation], "shop/p");
  ASSERT_EQ(intent["spec"]["template"]["spec"]["containers"].size(), 1u) << intent.dump();
  const json& c = intent["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["name"], "app");
  EXPECT_EQ(c["env"], json::array({{{"name", "OTEL_TRACES_SAMPLER_ARG"}, {"value", "0.3"}},
                                   {{"name", "OTEL_TRACES_EXPORTER"}, {"value", "otlp"}}}));
  EXPECT_FALSE(c.contains("image")) << "fields the operator does not own stay out of the intent";
}

// A workload the operator pointed at its Dapr Configuration, whose name is then taken by a
// user's: the pointer and the hash leave the desired state, so the workload is not up to date
// and the next apply, which no longer carries them, releases (removes) them.
TEST(UpToDate, FailsWhileTheOperatorOwnsTemplateAnnotationsNoLongerDesired) {
  Workload w = converged();
  w.template_annotations = {{"dapr.io/enabled", "true"},
                            {naming::kDaprConfigAnnotation, "tracing"},
                            {naming::kDaprHashAnnotation, "0123456789abcdef"}};
  w.env_owners[kTemplateAnnotationOwners] = {
      {"dapr.io/enabled", {"kubectl"}},
      {naming::kDaprConfigAnnotation, {naming::kFieldManager}},
      {naming::kDaprHashAnnotation, {naming::kFieldManager}}};
  DesiredEnv pointed = desired("0.1");
  pointed.template_annotations = {{naming::kDaprConfigAnnotation, "tracing"},
                                  {naming::kDaprHashAnnotation, "0123456789abcdef"}};
  EXPECT_TRUE(up_to_date(w, pointed, {"shop/p"}));

  EXPECT_FALSE(up_to_date(w, desired("0.1"), {"shop/p"}));
  EXPECT_FALSE(template_up_to_date(w, desired("0.1"))) << "it rolls the pods (§9 paces it)";
  json intent = apply_intent(w, desired("0.1"), {"shop/p"});
  EXPECT_FALSE(intent["spec"]["template"].contains("metadata")) << intent.dump();
  EXPECT_EQ(intent["spec"]["template"]["spec"]["containers"].size(), 1u) << "the env stays";

  // Once released, it is up to date without them.
  w.template_annotations = {{"dapr.io/enabled", "true"}};
  w.env_owners[kTemplateAnnotationOwners] = {{"dapr.io/enabled", {"kubectl"}}};
  EXPECT_TRUE(up_to_date(w, desired("0.1"), {"shop/p"}));
}

TEST(ReleaseIntent, NamesTheObjectAndNothingElse) {
  json intent = release_intent(converged());
  EXPECT_EQ(intent, json({{"apiVersion", "apps/v1"},
                          {"kind", "Deployment"},
                          {"metadata", {{"name", "web"}, {"namespace", "shop"}}}}));
}

TEST(TouchedByOperator, SeesOwnershipOrBookkeeping) {
  EXPECT_TRUE(touched_by_operator(converged()));
  Workload untouched;
  untouched.containers = {{"app", {var("LOG_LEVEL", "info")}}};
  untouched.env_owners["app"]["LOG_LEVEL"] = {"kubectl-edit"};
  EXPECT_FALSE(touched_by_operator(untouched));
  untouched.annotations[naming::kPoliciesAnnotation] = "shop/p";
  EXPECT_TRUE(touched_by_operator(untouched));
}

TEST(RestorePatches, GroupOriginalsByManagerAndClearTheOtherValueField) {
  Workload w = converged();
  json originals = {{"app",
                     {{"OTEL_TRACES_SAMPLER",
                       {{"entry", {{"name", "OTEL_TRACES_SAMPLER"}, {"value", "always_on"}}},
                        {"manager", "gitops"}}},
                      {"OTEL_SERVICE_NAME",
                       {{"entry",
                         {{"name", "OTEL_SERVICE_NAME"},
                          {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}}},
                        {"manager", "kubectl-edit"}}}}}};
  w.annotations[naming::kOverriddenAnnotation] = originals.dump();
  w.containers[0].env.push_back(var("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"));
  w.containers[0].env.push_back(var("OTEL_SERVICE_NAME", "web"));
  w.env_owners["app"]["OTEL_TRACES_SAMPLER"] = {naming::kFieldManager};
  w.env_owners["app"]["OTEL_SERVICE_NAME"] = {naming::kFieldManager};
  auto patches = restore_patches(w);
  ASSERT_EQ(patches.size(), 2u);
  std::map<std::string, json> by_manager;
  for (const auto& p : patches) by_manager[p.manager] = p.patch;
  json gitops_env = by_manager["gitops"]["spec"]["template"]["spec"]["containers"][0]["env"];
  EXPECT_EQ(
      gitops_env,
      json::array(
          {{{"name", "OTEL_TRACES_SAMPLER"}, {"value", "always_on"}, {"valueFrom", nullptr}}}));
  json edit_env = by_manager["kubectl-edit"]["spec"]["template"]["spec"]["containers"][0]["env"];
  EXPECT_EQ(edit_env[0]["value"], nullptr);
  EXPECT_EQ(edit_env[0]["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name");
}

}  // namespace
}  // namespace tracing::controllers

namespace tracing::controllers {
namespace {

json deployment_with_env(const json& env) {
  return {{"metadata", {{"resourceVersion", "42"}}},
          {"spec",
           {{"template",
             {{"spec",
               {{"containers",
                 json::array({{{"name", "sidecar"}}, {{"name", "app"}, {"env", env}}})}}}}}}}};
}

TEST(ReorderPatch, MovesEntriesBackToTheRecordedOrderGuardedByResourceVersion) {
  json env = json::array({{{"name", "A"}, {"value", "1"}},
                          {{"name", "B"}, {"value", "2"}},
                          {{"name", "OTEL_TRACES_SAMPLER"}, {"value", "always_on"}}});
  auto patch =
      reorder_patch(deployment_with_env(env), R"({"app":["A","OTEL_TRACES_SAMPLER","B"]})");
  ASSERT_TRUE(patch.has_value());
  ASSERT_EQ(patch->size(), 2u);
  EXPECT_EQ((*patch)[0],
            json({{"op", "test"}, {"path", "/metadata/resourceVersion"}, {"value", "42"}}));
  EXPECT_EQ((*patch)[1]["path"], "/spec/template/spec/containers/1/env");
  EXPECT_EQ((*patch)[1]["value"], json::array({env[0], env[2], env[1]}));
}

TEST(ReorderPatch, NothingToDoWhenTheOrderIsRight) {
  json env = json::array({{{"name", "A"}, {"value", "1"}}, {{"name", "B"}, {"value", "2"}}});
  EXPECT_FALSE(reorder_patch(deployment_with_env(env), R"({"app":["A","B"]})").has_value());
  EXPECT_FALSE(reorder_patch(deployment_with_env(env), "not json").has_value());
}

TEST(ApplyIntent, RecordsTheOriginalOrderWhenOverrideFirstTakesAVariable) {
  Workload w = converged();
  w.containers[0].env.insert(w.containers[0].env.begin() + 1, var("OTEL_PROPAGATORS", "b3"));
  w.env_owners["app"]["OTEL_PROPAGATORS"] = {"gitops"};
  DesiredEnv d = desired("0.1");
  d.env["app"].push_back(var("OTEL_PROPAGATORS", "tracecontext"));
  d.overridden = {
      {"app",
       {{"OTEL_PROPAGATORS",
         {{"entry", {{"name", "OTEL_PROPAGATORS"}, {"value", "b3"}}}, {"manager", "gitops"}}}}}};
  d.force = true;
  json intent = apply_intent(w, d, {"shop/p"});
  // The operator's own appended entries are not part of the original order.
  EXPECT_EQ(intent["metadata"]["annotations"][naming::kOriginalOrderAnnotation],
            R"({"app":["LOG_LEVEL","OTEL_PROPAGATORS"]})");
}

}  // namespace
}  // namespace tracing::controllers

namespace tracing::controllers {
namespace {

TEST(JsonSubset, IgnoresWhatTheServerAddedAndSeesEveryChangedField) {
  json desired = {{"spec", {{"ports", json::array({{{"name", "grpc"}, {"port", 4317}}})}}}};
  json live = {
      {"metadata", {{"uid", "x"}}},
      {"spec",
       {{"clusterIP", "10.0.0.5"},
        {"ports", json::array({{{"name", "grpc"}, {"port", 4317}, {"protocol", "TCP"}}})}}}};
  EXPECT_TRUE(json_subset(desired, live));
  live["spec"]["ports"][0]["port"] = 4318;
  EXPECT_FALSE(json_subset(desired, live));
  live["spec"]["ports"][0]["port"] = 4317;
  live["spec"]["ports"].push_back({{"name", "extra"}});
  EXPECT_FALSE(json_subset(desired, live)) << "a list with an extra element differs";
  EXPECT_FALSE(json_subset(desired, json::object()));
}

}  // namespace
}  // namespace tracing::controllers

namespace tracing::controllers {
namespace {

TEST(UpToDate, ComparesTheEscapedValueWithTheLiveOne) {
  // What desired_env() makes of an endpoint with a '$' in it.
  DesiredEnv d;
  d.env["app"] = {var("OTEL_EXPORTER_OTLP_ENDPOINT", escape_env_value("http://x.example/$(A)"))};
  Workload w = converged();
  w.containers[0].env = {var("OTEL_EXPORTER_OTLP_ENDPOINT", "http://x.example/$$(A)")};
  w.env_owners["app"] = {{"OTEL_EXPORTER_OTLP_ENDPOINT", {naming::kFieldManager}}};
  EXPECT_TRUE(up_to_date(w, d, {"shop/p"})) << "a converged workload takes no write";
  // Written unescaped (by an operator before this one): rewritten.
  w.containers[0].env = {var("OTEL_EXPORTER_OTLP_ENDPOINT", "http://x.example/$(A)")};
  EXPECT_FALSE(up_to_date(w, d, {"shop/p"}));
}

}  // namespace
}  // namespace tracing::controllers

namespace tracing::controllers {
namespace {

TEST(RestorePatches, LeaveAVariableSomeoneTookBackSinceAndReportWhatIsRefused) {
  Workload w = converged();
  json originals = {{"app",
                     {{"OTEL_TRACES_SAMPLER_ARG",
                       {{"entry", {{"name", "OTEL_TRACES_SAMPLER_ARG"}, {"value", "0.9"}}},
                        {"manager", "gitops"}}},
                      {"OTEL_TRACES_EXPORTER",
                       {{"entry", {{"name", "OTEL_TRACES_EXPORTER"}, {"value", "zipkin"}}},
                        {"manager", "gitops"}}}}},
                    {"gone",
                     {{"OTEL_TRACES_EXPORTER",
                       {{"entry", {{"name", "OTEL_TRACES_EXPORTER"}, {"value", "x"}}}}}}}};
  w.annotations[naming::kOverriddenAnnotation] = originals.dump();
  // The user set the ratio again since: it is theirs, their newer value stays.
  w.env_owners["app"]["OTEL_TRACES_SAMPLER_ARG"] = {"kubectl-edit"};
  std::vector<std::string> refused;
  auto patches = restore_patches(w, &refused);
  ASSERT_EQ(patches.size(), 1u);
  EXPECT_EQ(patches[0].manager, "gitops");
  EXPECT_EQ(patches[0].patch["spec"]["template"]["spec"]["containers"],
            json::parse(R"json([{"name": "app", "env": [
                {"name": "OTEL_TRACES_EXPORTER", "value": "zipkin", "valueFrom": null}]}])json"));
  EXPECT_EQ(refused, std::vector<std::string>{
                         "shop/web: tracing.rollout.dev/overridden-env names container gone, "
                         "which the workload does not have"});
}

}  // namespace
}  // namespace tracing::controllers
