#include "controllers/api/workload.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "controllers/apply_intent.h"
#include "operator/kube/json_filter.h"

namespace tracing::controllers {
namespace {

// ---- Deployments -----------------------------------------------------------------------------

// A Deployment as the API server returns it, with managedFields of three managers:
// kubectl-client-side-apply created it, kubectl-edit then changed LOG_LEVEL (taking its value),
// tracing-operator applied two OTEL_* entries (sharing OTEL_SERVICE_NAME, same value), and the
// controller manager wrote status.
json full_deployment() {
  return json::parse(R"json({
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {
    "name": "task-api",
    "namespace": "shop",
    "uid": "5f0c2f6e-8c1a-4a39-9d7e-1b2c3d4e5f60",
    "resourceVersion": "48213",
    "generation": 4,
    "creationTimestamp": "2026-11-20T09:00:00Z",
    "labels": {"app": "task-api", "app.kubernetes.io/name": "task-api"},
    "annotations": {
      "deployment.kubernetes.io/revision": "3",
      "kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"apps/v1\"}"
    },
    "managedFields": [
      {
        "manager": "kubectl-client-side-apply",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": "2026-11-20T09:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {
          "f:metadata": {
            "f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}},
            "f:labels": {".": {}, "f:app": {}, "f:app.kubernetes.io/name": {}}
          },
          "f:spec": {
            "f:progressDeadlineSeconds": {},
            "f:replicas": {},
            "f:revisionHistoryLimit": {},
            "f:selector": {},
            "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}}, "f:type": {}},
            "f:template": {
              "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
              "f:spec": {
                "f:containers": {
                  "k:{\"name\":\"api\"}": {
                    ".": {},
                    "f:env": {
                      ".": {},
                      "k:{\"name\":\"LOG_LEVEL\"}": {".": {}, "f:name": {}},
                      "k:{\"name\":\"OTEL_SERVICE_NAME\"}": {".": {}, "f:name": {}, "f:value": {}},
                      "k:{\"name\":\"DB_PASSWORD\"}": {".": {}, "f:name": {}, "f:valueFrom": {".": {}, "f:secretKeyRef": {}}}
                    },
                    "f:image": {},
                    "f:imagePullPolicy": {},
                    "f:name": {},
                    "f:ports": {".": {}, "k:{\"containerPort\":8000,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:protocol": {}}}
                  },
                  "k:{\"name\":\"daprd\"}": {
                    ".": {},
                    "f:env": {".": {}, "k:{\"name\":\"DAPR_HTTP_PORT\"}": {".": {}, "f:name": {}, "f:value": {}}},
                    "f:image": {},
                    "f:name": {}
                  }
                },
                "f:dnsPolicy": {},
                "f:restartPolicy": {}
              }
            }
          }
        }
      },
      {
        "manager": "kubectl-edit",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": "2026-11-22T14:30:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {
          "f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"api\"}": {"f:env": {"k:{\"name\":\"LOG_LEVEL\"}": {"f:value": {}}}}
          }}}}
        }
      },
      {
        "manager": "tracing-operator",
        "operation": "Apply",
        "apiVersion": "apps/v1",
        "time": "2026-11-25T08:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {
          "f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"api\"}": {
              ".": {},
              "f:env": {
                "k:{\"name\":\"OTEL_EXPORTER_OTLP_ENDPOINT\"}": {".": {}, "f:name": {}, "f:value": {}},
                "k:{\"name\":\"OTEL_SERVICE_NAME\"}": {".": {}, "f:name": {}, "f:value": {}}
              },
              "f:name": {}
            }
          }}}}
        }
      },
      {
        "manager": "kube-controller-manager",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": "2026-11-25T08:01:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {
          "f:metadata": {"f:annotations": {"f:deployment.kubernetes.io/revision": {}}},
          "f:status": {"f:availableReplicas": {}, "f:conditions": {}, "f:observedGeneration": {}}
        },
        "subresource": "status"
      }
    ]
  },
  "spec": {
    "replicas": 2,
    "selector": {"matchLabels": {"app": "task-api"}},
    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
    "revisionHistoryLimit": 10,
    "progressDeadlineSeconds": 600,
    "template": {
      "metadata": {
        "labels": {"app": "task-api"},
        "annotations": {"dapr.io/enabled": "true", "dapr.io/app-id": "task-api"}
      },
      "spec": {
        "containers": [
          {
            "name": "api",
            "image": "ghcr.io/example/task-api:1.4.2",
            "imagePullPolicy": "IfNotPresent",
            "ports": [{"containerPort": 8000, "protocol": "TCP"}],
            "env": [
              {"name": "LOG_LEVEL", "value": "debug"},
              {"name": "OTEL_SERVICE_NAME", "value": "task-api"},
              {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
              {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://jaeger-collector.observability.svc:4317"}
            ],
            "resources": {},
            "terminationMessagePath": "/dev/termination-log"
          },
          {
            "name": "daprd",
            "image": "daprio/daprd:1.14.4",
            "env": [{"name": "DAPR_HTTP_PORT", "value": "3500"}]
          }
        ],
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always"
      }
    }
  },
  "status": {
    "observedGeneration": 4,
    "replicas": 2,
    "updatedReplicas": 2,
    "readyReplicas": 2,
    "availableReplicas": 2,
    "conditions": [
      {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
      {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}
    ]
  }
})json");
}

json with_bookkeeping(const std::map<std::string, std::string>& owner_of);

// Every field of the typed view, compared (Workload has no operator==: it is not a value type
// anything else compares).
void expect_same_view(const Workload& got, const Workload& want) {
  EXPECT_EQ(got.ns, want.ns);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.uid, want.uid);
  EXPECT_EQ(got.labels, want.labels);
  EXPECT_EQ(got.annotations, want.annotations);
  EXPECT_EQ(got.template_labels, want.template_labels);
  EXPECT_EQ(got.template_annotations, want.template_annotations);
  ASSERT_EQ(got.containers.size(), want.containers.size());
  for (size_t i = 0; i < want.containers.size(); ++i) {
    EXPECT_EQ(got.containers[i].name, want.containers[i].name);
    EXPECT_EQ(got.containers[i].env, want.containers[i].env);
  }
  EXPECT_EQ(got.env_owners, want.env_owners);
  EXPECT_EQ(got.untrusted, want.untrusted);
}

TEST(WorkloadRecord, KeepsWhatPacingReads) {
  WorkloadRecord r = record_workload(full_deployment());
  EXPECT_EQ(r.key(), "shop/task-api");
  EXPECT_EQ(r.uid, "5f0c2f6e-8c1a-4a39-9d7e-1b2c3d4e5f60");
  EXPECT_EQ(r.resource_version.str(), "48213");
  EXPECT_EQ(r.generation, 4);
  EXPECT_EQ(r.replicas, 2);
  EXPECT_FALSE(r.deleting);
  EXPECT_EQ(r.status, (RolloutStatus{.observed_generation = 4,
                                     .replicas = 2,
                                     .updated_replicas = 2,
                                     .available_replicas = 2,
                                     .ready_replicas = 2}));
  EXPECT_EQ(rollout_state(r), RolloutState::kComplete);
  EXPECT_EQ(r.reference(), (json{{"apiVersion", "apps/v1"},
                                 {"kind", "Deployment"},
                                 {"metadata",
                                  {{"namespace", "shop"},
                                   {"name", "task-api"},
                                   {"uid", "5f0c2f6e-8c1a-4a39-9d7e-1b2c3d4e5f60"}}}}));
}

TEST(WorkloadRecord, GivesTheViewWorkloadFromDeploymentReads) {
  expect_same_view(record_workload(full_deployment()).workload(), read_workload(full_deployment()));
  // With bookkeeping, some of it untrusted, and env entries of every shape.
  json d = with_bookkeeping({{"tracing.rollout.dev/policies", "tracing-operator"},
                             {"tracing.rollout.dev/overridden-env", "kubectl-edit"}});
  d["spec"]["template"]["spec"]["containers"][0]["name"] = "app";
  d["spec"]["template"]["spec"]["containers"][0]["env"] = json::parse(R"([
    {"name": "OTEL_SERVICE_NAME", "value": "a"},
    {"name": "OTEL_EXPORTER_OTLP_ENDPOINT"},
    {"name": "OTEL_PROPAGATORS", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}},
    {"name": "PLAIN", "value": "x"},
    {"name": "OTEL_SERVICE_NAME", "value": "twice"}])");
  Workload want = read_workload(d);
  ASSERT_EQ(want.untrusted.size(), 2u);
  expect_same_view(record_workload(d).workload(), want);
  ASSERT_EQ(want.containers.size(), 1u);
  ASSERT_EQ(want.containers[0].env.size(), 5u);
  EXPECT_EQ(record_workload(d).workload().containers[0].env[2].entry,
            d["spec"]["template"]["spec"]["containers"][0]["env"][2]);
}

// The record keeps a field's set of managers, and a container's env names, as one shared string
// each (names prefixed with their length): names that look like that encoding, an empty one,
// several managers of one field, must read back as they were.
TEST(WorkloadRecord, ManagerNamesAndEnvNamesOfAnyShapeReadBack) {
  json d = full_deployment();
  json& fields = d["metadata"]["managedFields"];
  for (const char* manager : {"3:abc", "", "12", "kubectl:edit", "tracing-operator"}) {
    fields.push_back(json::parse(R"({"operation": "Update", "apiVersion": "apps/v1",
      "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
        "k:{\"name\":\"api\"}": {"f:env": {"k:{\"name\":\"OTEL_SERVICE_NAME\"}": {
          "f:value": {}}}}}}}}}})"));
    fields.back()["manager"] = manager;
  }
  d["spec"]["template"]["spec"]["containers"][1]["env"] =
      json::parse(R"([{"name": "2:ab"}, {"name": ""}, {"name": "OTEL_TRACES_SAMPLER", "value": ""},
                      {"name": "10:"}])");
  Workload want = read_workload(d);
  ASSERT_EQ(want.env_owners["api"]["OTEL_SERVICE_NAME"],
            (std::set<std::string>{"", "12", "3:abc", "kubectl-client-side-apply", "kubectl:edit",
                                   "tracing-operator"}));
  expect_same_view(record_workload(d).workload(), want);
  // Two records of one template share the strings, and still compare by content.
  EXPECT_TRUE(record_workload(d).same_but_status(record_workload(d)));
  json other = d;
  other["spec"]["template"]["spec"]["containers"][1]["env"][0]["name"] = "2:ac";
  EXPECT_FALSE(record_workload(d).same_but_status(record_workload(other)));
}

TEST(WorkloadRecord, AStatusOnlyUpdateIsOneWhereNothingReadChanged) {
  const WorkloadRecord before = record_workload(full_deployment());
  json d = full_deployment();
  d["metadata"]["resourceVersion"] = "48214";
  d["status"]["updatedReplicas"] = 1;
  d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "4";  // not read
  d["spec"]["template"]["spec"]["containers"][0]["image"] = "other";        // not read
  WorkloadRecord after = record_workload(d);
  EXPECT_TRUE(before.same_but_status(after));
  EXPECT_EQ(rollout_state(after), RolloutState::kRolling);

  for (auto change : std::vector<std::function<void(json&)>>{
           [](json& x) { x["metadata"]["labels"]["team"] = "a"; },
           [](json& x) { x["metadata"]["generation"] = 5; },
           [](json& x) { x["spec"]["replicas"] = 3; },
           [](json& x) {
             x["spec"]["template"]["metadata"]["annotations"]["dapr.io/config"] = "c";
           },
           [](json& x) { x["spec"]["template"]["spec"]["containers"][0]["env"][0]["name"] = "X"; },
           [](json& x) { x["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"] = "b"; },
           [](json& x) { x["metadata"]["managedFields"][0]["manager"] = "someone"; },
           [](json& x) { x["metadata"]["deletionTimestamp"] = "2026-11-30T10:00:00Z"; }}) {
    json changed = full_deployment();
    change(changed);
    EXPECT_FALSE(before.same_but_status(record_workload(changed))) << changed.dump();
  }
}

TEST(WorkloadRecord, AnEnvChangeIsToldApartFromWhatTheJaegerAndDaprPassesRead) {
  const WorkloadRecord before = record_workload(full_deployment());
  json d = full_deployment();
  d["metadata"]["resourceVersion"] = "48214";
  d["metadata"]["generation"] = 5;
  d["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"] = "renamed";  // OTEL_*
  WorkloadRecord env_only = record_workload(d);
  EXPECT_TRUE(before.same_but_env(env_only));
  EXPECT_FALSE(before.same_but_status(env_only));

  for (auto change : std::vector<std::function<void(json&)>>{
           [](json& x) { x["metadata"]["labels"]["team"] = "a"; },
           [](json& x) { x["spec"]["template"]["metadata"]["labels"]["tier"] = "b"; },
           [](json& x) {
             x["spec"]["template"]["metadata"]["annotations"]["dapr.io/config"] = "c";
           },
           [](json& x) { x["metadata"]["managedFields"][0]["manager"] = "someone"; },
           [](json& x) { x["spec"]["template"]["spec"]["containers"][1]["name"] = "sidecar"; }}) {
    json changed = full_deployment();
    change(changed);
    EXPECT_FALSE(before.same_but_env(record_workload(changed))) << changed.dump();
  }
}

// Found by deployment_bookkeeping_fuzz: the interner's table was keyed by a view of the interned
// string, which goes with its last holder; looking the name up again read freed memory (ASan:
// heap-use-after-free, CI runs the unit tests under ASan).
TEST(WorkloadRecord, ANameInternedAgainAfterItsLastHolderWentIsReadBack) {
  json d = full_deployment();
  d["metadata"]["labels"]["only-in-this-test-7f3a"] = "v";
  { const WorkloadRecord gone = record_workload(d); }
  const WorkloadRecord again = record_workload(d);
  EXPECT_EQ(again.workload().labels.at("only-in-this-test-7f3a"), "v");
}

TEST(RecordMemo, IsKeptByItsRecordAloneAndAdoptedOnlyWhenEmpty) {
  auto facts = std::make_shared<const int>(1);
  WorkloadRecord old_version;
  old_version.memo.store(facts);
  WorkloadRecord copy = old_version;
  EXPECT_EQ(copy.memo.load(), nullptr) << "a copy is another object: it starts with no memo";

  WorkloadRecord status_update;
  status_update.memo.adopt(old_version.memo);
  EXPECT_EQ(status_update.memo.load(), facts);

  auto own = std::make_shared<const int>(2);
  WorkloadRecord decided;
  decided.memo.store(own);
  decided.memo.adopt(old_version.memo);
  EXPECT_EQ(decided.memo.load(), own) << "facts decided for this version are kept";

  WorkloadRecord nothing;
  nothing.memo.adopt(WorkloadRecord{}.memo);
  EXPECT_EQ(nothing.memo.load(), nullptr);

  std::weak_ptr<const int> gone = own;
  own.reset();
  decided = old_version;
  EXPECT_EQ(decided.memo.load(), nullptr) << "an assigned record is another version";
  EXPECT_TRUE(gone.expired()) << "its memo went with the version it was for";
}

TEST(WorkloadRecord, JudgesAFailedRolloutFromItsProgressingCondition) {
  json d = full_deployment();
  d["status"]["conditions"][1]["reason"] = "ProgressDeadlineExceeded";
  d["status"]["conditions"][1]["status"] = "False";
  EXPECT_EQ(rollout_state(record_workload(d)), RolloutState::kFailed);
  d = full_deployment();
  d["spec"].erase("replicas");  // absent: 1
  EXPECT_EQ(record_workload(d).replicas, 1);
  // kubectl counts neither surplus updated pods nor the spec against status.replicas, only
  // old pods pending termination.
  EXPECT_EQ(rollout_state(record_workload(d)), RolloutState::kComplete);
  d["status"]["replicas"] = 3;
  EXPECT_EQ(rollout_state(record_workload(d)), RolloutState::kRolling);
}

// The golden cases of kubectl's own tests (k8s.io/kubectl v0.37.2,
// pkg/polymorphichelpers/rollout_status_test.go), each as the object the API server would
// return: a Deployment, a DaemonSet and a StatefulSet (3 replicas), with what kubectl answers.
struct KubectlCase {
  const char* name;
  WorkloadKind kind;
  const char* object;  // JSON: metadata.generation, spec, status
  RolloutState want;
};

class RolloutStatusAsKubectl : public ::testing::TestWithParam<KubectlCase> {};

TEST_P(RolloutStatusAsKubectl, JudgesTheCase) {
  const KubectlCase& c = GetParam();
  json obj = json::parse(c.object);
  obj["metadata"]["name"] = "foo";
  obj["metadata"]["namespace"] = "bar";
  EXPECT_EQ(rollout_state(record_workload(obj, c.kind)), c.want) << c.name << ": " << c.object;
  EXPECT_EQ(rollout_state(obj, c.kind), c.want) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, RolloutStatusAsKubectl,
    ::testing::Values(
        // TestDeploymentStatusViewerStatus
        KubectlCase{"deployment: 1 of 1 updated, 1 old pending termination",
                    WorkloadKind::kDeployment,
                    R"({"metadata": {"generation": 0}, "spec": {"replicas": 1},
                       "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 0,
                                  "availableReplicas": 1, "unavailableReplicas": 0}})",
                    RolloutState::kRolling},
        KubectlCase{"deployment: old replicas pending termination", WorkloadKind::kDeployment,
                    R"({"metadata": {"generation": 1}, "spec": {"replicas": 1},
                       "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 1,
                                  "availableReplicas": 2, "unavailableReplicas": 0}})",
                    RolloutState::kRolling},
        KubectlCase{"deployment: 1 of 2 updated replicas available", WorkloadKind::kDeployment,
                    R"({"metadata": {"generation": 1}, "spec": {"replicas": 2},
                       "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
                                  "availableReplicas": 1, "unavailableReplicas": 1}})",
                    RolloutState::kRolling},
        KubectlCase{"deployment: successfully rolled out", WorkloadKind::kDeployment,
                    R"({"metadata": {"generation": 1}, "spec": {"replicas": 2},
                       "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
                                  "availableReplicas": 2, "unavailableReplicas": 0}})",
                    RolloutState::kComplete},
        KubectlCase{"deployment: spec update not observed", WorkloadKind::kDeployment,
                    R"({"metadata": {"generation": 2}, "spec": {"replicas": 2},
                       "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
                                  "availableReplicas": 2, "unavailableReplicas": 0}})",
                    RolloutState::kRolling},
        // TestDaemonSetStatusViewerStatus (RollingUpdate)
        KubectlCase{"daemonset test1: 0 of 1 new pods updated", WorkloadKind::kDaemonSet,
                    R"({"metadata": {"generation": 0},
                       "spec": {"updateStrategy": {"type": "RollingUpdate"}},
                       "status": {"observedGeneration": 1, "updatedNumberScheduled": 0,
                                  "desiredNumberScheduled": 1, "numberAvailable": 0}})",
                    RolloutState::kRolling},
        KubectlCase{"daemonset test2: 1 of 2 updated pods available", WorkloadKind::kDaemonSet,
                    R"({"metadata": {"generation": 1},
                       "spec": {"updateStrategy": {"type": "RollingUpdate"}},
                       "status": {"observedGeneration": 1, "updatedNumberScheduled": 2,
                                  "desiredNumberScheduled": 2, "numberAvailable": 1}})",
                    RolloutState::kRolling},
        KubectlCase{"daemonset test3: successfully rolled out", WorkloadKind::kDaemonSet,
                    R"({"metadata": {"generation": 1},
                       "spec": {"updateStrategy": {"type": "RollingUpdate"}},
                       "status": {"observedGeneration": 1, "updatedNumberScheduled": 2,
                                  "desiredNumberScheduled": 2, "numberAvailable": 2}})",
                    RolloutState::kComplete},
        KubectlCase{"daemonset test4: spec update not observed", WorkloadKind::kDaemonSet,
                    R"({"metadata": {"generation": 2},
                       "spec": {"updateStrategy": {"type": "RollingUpdate"}},
                       "status": {"observedGeneration": 1, "updatedNumberScheduled": 2,
                                  "desiredNumberScheduled": 2, "numberAvailable": 2}})",
                    RolloutState::kRolling},
        // TestDaemonSetStatusViewerStatusWithWrongUpdateStrategyType: an error, done
        KubectlCase{"daemonset OnDelete", WorkloadKind::kDaemonSet,
                    R"({"metadata": {"generation": 2},
                       "spec": {"updateStrategy": {"type": "OnDelete"}},
                       "status": {"observedGeneration": 1, "desiredNumberScheduled": 2}})",
                    RolloutState::kComplete},
        // TestStatefulSetStatusViewerStatus (newStatefulSet(3))
        KubectlCase{"statefulset on delete returns an error (done)", WorkloadKind::kStatefulSet,
                    R"({"metadata": {"generation": 1},
                       "spec": {"replicas": 3, "updateStrategy": {"type": "OnDelete"}},
                       "status": {"observedGeneration": 1, "replicas": 0, "readyReplicas": 1,
                                  "currentReplicas": 0, "updatedReplicas": 0}})",
                    RolloutState::kComplete},
        KubectlCase{"statefulset unobserved update is not complete", WorkloadKind::kStatefulSet,
                    R"({"metadata": {"generation": 2},
                       "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate"}},
                       "status": {"observedGeneration": 1, "replicas": 3, "readyReplicas": 3,
                                  "currentReplicas": 3, "updatedReplicas": 0}})",
                    RolloutState::kRolling},
        KubectlCase{"statefulset: if all pods are not ready the update is not complete",
                    WorkloadKind::kStatefulSet,
                    R"({"metadata": {"generation": 1},
                       "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate"}},
                       "status": {"observedGeneration": 2, "replicas": 3, "readyReplicas": 2,
                                  "currentReplicas": 3, "updatedReplicas": 0}})",
                    RolloutState::kRolling},
        KubectlCase{"statefulset: partition update completes when all replicas above the "
                    "partition are updated",
                    WorkloadKind::kStatefulSet,
                    R"({"metadata": {"generation": 1},
                       "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate",
                                "rollingUpdate": {"partition": 2}}},
                       "status": {"observedGeneration": 2, "replicas": 3, "readyReplicas": 3,
                                  "currentReplicas": 2, "updatedReplicas": 1}})",
                    RolloutState::kComplete},
        // (kubectl's table says done: true here, but its check only fails on done when not
        // wanted; its message, which the test does check, is "Waiting for partitioned roll out
        // to finish", and the viewer returns false.)
        KubectlCase{"statefulset: partition update is in progress if all pods above the "
                    "partition have not been updated",
                    WorkloadKind::kStatefulSet,
                    R"({"metadata": {"generation": 1},
                       "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate",
                                "rollingUpdate": {"partition": 2}}},
                       "status": {"observedGeneration": 2, "replicas": 3, "readyReplicas": 3,
                                  "currentReplicas": 3, "updatedReplicas": 0}})",
                    RolloutState::kRolling},
        KubectlCase{"statefulset: update completes when all replicas are current",
                    WorkloadKind::kStatefulSet,
                    R"({"metadata": {"generation": 1},
                       "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate"}},
                       "status": {"observedGeneration": 2, "replicas": 3, "readyReplicas": 3,
                                  "currentReplicas": 3, "updatedReplicas": 3,
                                  "currentRevision": "foo", "updateRevision": "foo"}})",
                    RolloutState::kComplete},
        // Not in kubectl's table, from the same code path: revisions differ, no rollingUpdate.
        KubectlCase{"statefulset: revisions differ", WorkloadKind::kStatefulSet,
                    R"({"metadata": {"generation": 1},
                       "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate"}},
                       "status": {"observedGeneration": 1, "replicas": 3, "readyReplicas": 3,
                                  "updatedReplicas": 1, "currentRevision": "a",
                                  "updateRevision": "b"}})",
                    RolloutState::kRolling}));

TEST(WorkloadRecord, SurvivesMalformedInput) {
  EXPECT_EQ(record_workload(json("x")).key(), "/");
  json odd = {{"metadata",
               {{"name", "a"},
                {"generation", "x"},
                {"managedFields", {{{"manager", "m"}, {"fieldsV1", 3}}}}}},
              {"spec",
               {{"replicas", "two"},
                {"template", {{"spec", {{"containers", {1, "x", {{"name", "c"}}}}}}}}}},
              {"status", {{"conditions", 3}}}};
  WorkloadRecord r = record_workload(odd);
  EXPECT_EQ(r.name, "a");
  EXPECT_EQ(r.generation, 0);
  EXPECT_EQ(r.replicas, 1);
  ASSERT_EQ(r.workload().containers.size(), 1u);
  EXPECT_TRUE(r.workload().env_owners.empty());
}

TEST(WorkloadFromDeployment, ReadsAFullDeployment) {
  Workload w = read_workload(full_deployment());
  EXPECT_EQ(w.key(), "shop/task-api");
  EXPECT_EQ(w.uid, "5f0c2f6e-8c1a-4a39-9d7e-1b2c3d4e5f60");
  EXPECT_EQ(w.labels, (Labels{{"app", "task-api"}, {"app.kubernetes.io/name", "task-api"}}));
  EXPECT_TRUE(w.annotations.empty());  // only tracing.rollout.dev/* and dapr.io/* are read
  EXPECT_EQ(w.template_labels, (Labels{{"app", "task-api"}}));
  ASSERT_EQ(w.containers.size(), 2u);
  EXPECT_EQ(w.containers[0].name, "api");
  ASSERT_EQ(w.containers[0].env.size(), 4u);
  EXPECT_EQ(w.containers[0].env[0].name, "LOG_LEVEL");
  // Of the entries the operator never writes, only the name (their order) is kept.
  EXPECT_EQ(w.containers[0].env[0].entry, (json{{"name", "LOG_LEVEL"}}));
  EXPECT_EQ(w.containers[0].env[1].entry,
            (json{{"name", "OTEL_SERVICE_NAME"}, {"value", "task-api"}}));
  EXPECT_EQ(w.containers[0].env[2].name, "DB_PASSWORD");
  EXPECT_EQ(w.containers[0].env[2].entry, (json{{"name", "DB_PASSWORD"}}));
  EXPECT_EQ(w.containers[1].name, "daprd");
  EXPECT_EQ(w.env_owners.at("api").count("LOG_LEVEL"), 0u);
  EXPECT_EQ(w.env_owners.at("api").at("OTEL_SERVICE_NAME"),
            (std::set<std::string>{"kubectl-client-side-apply", "tracing-operator"}));
  EXPECT_EQ(w.env_owners.count("daprd"), 0u);
  EXPECT_EQ(w.template_annotations,
            (Labels{{"dapr.io/enabled", "true"}, {"dapr.io/app-id", "task-api"}}));
}

TEST(WorkloadFromDeployment, ToleratesMalformedObjects) {
  for (const json& bad :
       {json(nullptr), json(3), json::object(),
        json{{"metadata", {{"name", 5}, {"labels", {{"a", 1}, {"b", "x"}}}}},
             {"spec", {{"template", {{"spec", {{"containers", {"x", {{"env", 1}}}}}}}}}}}}) {
    Workload w = read_workload(bad);
    EXPECT_EQ(w.name, "");
    EXPECT_TRUE(w.containers.empty());
  }
  Workload w =
      read_workload(json{{"metadata", {{"name", "a"}, {"labels", {{"a", 1}, {"b", "x"}}}}}});
  EXPECT_EQ(w.labels, (Labels{{"b", "x"}}));
}

// A Deployment carrying the operator's bookkeeping annotations, with managedFields saying who
// owns each of them.
json with_bookkeeping(const std::map<std::string, std::string>& owner_of) {
  json d = {{"metadata",
             {{"name", "web"},
              {"namespace", "shop"},
              {"annotations",
               {{"tracing.rollout.dev/policies", "shop/p"},
                {"tracing.rollout.dev/overridden-env", "{}"},
                {"tracing.rollout.dev/original-env-order", "{}"},
                {"team", "payments"}}},
              {"managedFields", json::array()}}}};
  std::map<std::string, json> fields;  // manager → its f:metadata.f:annotations
  for (const auto& [key, manager] : owner_of) fields[manager]["f:" + key] = json::object();
  for (const auto& [manager, annotations] : fields) {
    d["metadata"]["managedFields"].push_back(
        {{"manager", manager},
         {"operation", manager == "tracing-operator" ? "Apply" : "Update"},
         {"fieldsType", "FieldsV1"},
         {"fieldsV1", {{"f:metadata", {{"f:annotations", annotations}}}}}});
  }
  return d;
}

TEST(WorkloadFromDeployment, KeepsBookkeepingAnnotationsOnlyWhileTheOperatorOwnsThem) {
  Workload w = read_workload(with_bookkeeping({
      {"tracing.rollout.dev/policies", "tracing-operator"},
      {"tracing.rollout.dev/overridden-env", "kubectl-edit"},  // edited since: taken over
      // original-env-order: nobody (written by an update with its managedFields cleared)
  }));
  // Annotations of others ("team") are not read.
  EXPECT_EQ(w.annotations, (Labels{{"tracing.rollout.dev/policies", "shop/p"}}));
  ASSERT_EQ(w.untrusted.size(), 2u);
  EXPECT_EQ(w.untrusted[0].key, "tracing.rollout.dev/overridden-env");
  EXPECT_EQ(w.untrusted[0].managers, std::vector<std::string>{"kubectl-edit"});
  EXPECT_EQ(w.untrusted[1].key, "tracing.rollout.dev/original-env-order");
  EXPECT_TRUE(w.untrusted[1].managers.empty());

  // Co-owned (someone applied the same value, e.g. a GitOps export): still the operator's.
  json shared = with_bookkeeping({{"tracing.rollout.dev/policies", "argocd-controller"},
                                  {"tracing.rollout.dev/overridden-env", "tracing-operator"},
                                  {"tracing.rollout.dev/original-env-order", "tracing-operator"}});
  shared["metadata"]["managedFields"][1]["fieldsV1"]["f:metadata"]["f:annotations"]
        ["f:tracing.rollout.dev/policies"] = json::object();
  Workload co = read_workload(shared);
  EXPECT_EQ(co.annotations.count("tracing.rollout.dev/policies"), 1u);
  EXPECT_TRUE(co.untrusted.empty());

  // An update under the operator's manager name (any client can pick one) is no proof.
  json borrowed = with_bookkeeping({{"tracing.rollout.dev/policies", "tracing-operator"}});
  borrowed["metadata"]["managedFields"][0]["operation"] = "Update";
  Workload b = read_workload(borrowed);
  EXPECT_EQ(b.annotations.count("tracing.rollout.dev/policies"), 0u);
  ASSERT_EQ(b.untrusted.size(), 3u);
  EXPECT_EQ(b.untrusted[0].managers, std::vector<std::string>{"tracing-operator (Update)"});
}

TEST(WorkloadRecord, KeepsWhoOwnsTheBookkeeping) {
  json full = with_bookkeeping({{"tracing.rollout.dev/policies", "kubectl-edit"},
                                {"tracing.rollout.dev/overridden-env", "tracing-operator"},
                                {"tracing.rollout.dev/original-env-order", "tracing-operator"}});
  WorkloadRecord r = record_workload(full);
  Workload w = r.workload();
  EXPECT_EQ(w.annotations.count("tracing.rollout.dev/policies"), 0u);
  EXPECT_EQ(r.annotation("tracing.rollout.dev/policies"), nullptr);
  EXPECT_EQ(w.annotations.count("tracing.rollout.dev/overridden-env"), 1u);
  ASSERT_NE(r.annotation("tracing.rollout.dev/overridden-env"), nullptr);
  ASSERT_EQ(w.untrusted.size(), 1u);
  EXPECT_EQ(w.untrusted[0].managers, std::vector<std::string>{"kubectl-edit"});
  // Only the operator's own keys are kept in the owners.
  EXPECT_EQ(w.env_owners.at(kAnnotationOwners).size(), 3u);
}

// ---- The informer's field filter ---------------------------------------------------------------

// A Deployment as tests/benchmarks/reference makes them (two containers with 17 and 5 env
// entries, kubectl's last-applied configuration, deploy-bot's apply, kubectl set env) as a real
// API server with kube-controller-manager returned it (kubectl get -o json --show-managed-fields)
// after three more writes: OTEL_* entries and bookkeeping annotations applied by `kubectl apply
// --server-side --field-manager=tracing-operator` (whose migration folded kubectl's client-side
// apply fields into that entry), `kubectl annotate` of overridden-env (so untrusted) and
// dapr.io/app-id, and a `kubectl patch` adding OTEL_RESOURCE_ATTRIBUTES (valueFrom) and
// dapr.io/enabled on the pod template.
std::string realistic_deployment_text() {
  std::ifstream in(std::string(TRACING_SOURCE_DIR) +
                   "/tests/unit/testdata/realistic_deployment.json");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(DeploymentFieldFilter, ARealisticDeploymentParsedWithItHasTheRecordOfTheWholeOne) {
  const std::string text = realistic_deployment_text();
  ASSERT_GT(text.size(), 10000u);
  const json filtered = kube::parse_filtered(text, {{}, is_read_workload_field, nullptr});
  ASSERT_TRUE(filtered.is_object());
  const WorkloadRecord r = record_workload(filtered);

  // The record, golden: what the object says (read off it by hand).
  EXPECT_EQ(r.key(), "fx-00/svc-00000");
  EXPECT_EQ(r.uid, "24978293-d212-4896-93f9-4cb6996ed44d");
  EXPECT_EQ(r.resource_version.str(), "238");
  EXPECT_EQ(r.generation, 6);
  EXPECT_EQ(r.replicas, 0);
  EXPECT_FALSE(r.deleting);
  EXPECT_EQ(r.status, (RolloutStatus{.observed_generation = 6}));
  const Workload w = r.workload();
  EXPECT_EQ(w.labels, (Labels{{"app", "svc-00000"},
                              {"app.kubernetes.io/name", "svc-00000"},
                              {"app.kubernetes.io/part-of", "shop"},
                              {"deploy.example/track", "stable"},
                              {"team", "team-0"},
                              {"tracing-bench", "fixture"}}));
  EXPECT_EQ(w.annotations,
            (Labels{{"dapr.io/app-id", "svc-00000"},
                    {"tracing.rollout.dev/policies", R"(["tracing-system/root"])"}}));
  EXPECT_EQ(w.untrusted, (std::vector<UntrustedAnnotation>{
                             {"tracing.rollout.dev/overridden-env", {"kubectl-annotate"}}}));
  EXPECT_EQ(
      w.template_labels,
      (Labels{{"app", "svc-00000"}, {"app.kubernetes.io/name", "svc-00000"}, {"team", "team-0"}}));
  EXPECT_EQ(w.template_annotations, (Labels{{"dapr.io/enabled", "true"},
                                            {"tracing.rollout.dev/jaeger-config-hash", "5e2a"}}));
  ASSERT_EQ(w.containers.size(), 2u);
  std::vector<std::string> names;
  for (const EnvVar& e : w.containers[0].env) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"BENCH_MARK",
                                             "PORT",
                                             "LOG_LEVEL",
                                             "LOG_FORMAT",
                                             "DATABASE_HOST",
                                             "DATABASE_PORT",
                                             "DATABASE_NAME",
                                             "DATABASE_POOL_SIZE",
                                             "REDIS_URL",
                                             "CACHE_TTL_SECONDS",
                                             "HTTP_TIMEOUT_MS",
                                             "FEATURE_FLAGS",
                                             "UPSTREAM_INVENTORY_URL",
                                             "UPSTREAM_PAYMENTS_URL",
                                             "REGION",
                                             "POD_NAME",
                                             "POD_NAMESPACE",
                                             "OTEL_SERVICE_NAME",
                                             "OTEL_TRACES_SAMPLER",
                                             "OTEL_TRACES_SAMPLER_ARG",
                                             "OTEL_RESOURCE_ATTRIBUTES"}));
  EXPECT_EQ(w.containers[0].env[2].entry, json::parse(R"({"name":"LOG_LEVEL"})"));
  EXPECT_EQ(w.containers[0].env[19].entry,
            json::parse(R"({"name":"OTEL_TRACES_SAMPLER_ARG","value":"0.1"})"));
  EXPECT_EQ(w.containers[0].env[20].entry,
            json::parse(R"({"name":"OTEL_RESOURCE_ATTRIBUTES","valueFrom":)"
                        R"({"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}})"));
  EXPECT_EQ(w.containers[1].name, "proxy");
  ASSERT_EQ(w.containers[1].env.size(), 6u);
  EXPECT_EQ(w.containers[1].env[5].entry,
            json::parse(R"({"name":"OTEL_SERVICE_NAME","value":"svc-00000"})"));
  const std::set<std::string> op{"tracing-operator"};
  EXPECT_EQ(w.env_owners,
            (EnvOwners{{"app",
                        {{"OTEL_SERVICE_NAME", op},
                         {"OTEL_TRACES_SAMPLER", op},
                         {"OTEL_TRACES_SAMPLER_ARG", op},
                         {"OTEL_RESOURCE_ATTRIBUTES", {"kubectl-patch"}}}},
                       {"proxy", {{"OTEL_SERVICE_NAME", op}}},
                       {kAnnotationOwners,
                        {{"tracing.rollout.dev/policies", op},
                         {"tracing.rollout.dev/overridden-env", {"kubectl-annotate"}}}},
                       {kTemplateAnnotationOwners,
                        {{"tracing.rollout.dev/jaeger-config-hash", op},
                         {"dapr.io/enabled", {"kubectl-patch"}}}}}));

  // The whole object's record reads the same.
  const WorkloadRecord whole = record_workload(json::parse(text));
  expect_same_view(whole.workload(), w);
  EXPECT_EQ(whole.workload().untrusted, w.untrusted);
  EXPECT_TRUE(whole.same_but_status(r));
  EXPECT_EQ(whole.status, r.status);
  EXPECT_EQ(whole.resource_version, r.resource_version);

  // And most of the object was never built: no last-applied configuration, no pod spec but the
  // containers' names and env, managedFields down to the owners of what is read.
  EXPECT_FALSE(filtered["metadata"]["annotations"].contains(
      "kubectl.kubernetes.io/last-applied-configuration"));
  EXPECT_EQ(filtered["spec"]["template"]["spec"]["containers"][0].size(), 2u);  // name, env
  EXPECT_LT(filtered.dump().size(), json::parse(text).dump().size() / 3);
}

TEST(WorkloadKey, SaysTheKindAndReadsBack) {
  EXPECT_EQ(workload_key(WorkloadKind::kDeployment, "shop", "api"), "shop/api");
  EXPECT_EQ(workload_key(WorkloadKind::kStatefulSet, "shop", "db"), "shop/statefulset/db");
  EXPECT_EQ(workload_key(WorkloadKind::kDaemonSet, "kube-system", "agent"),
            "kube-system/daemonset/agent");
  for (WorkloadKind k : kWorkloadKinds) {
    auto ref = parse_workload_key(workload_key(k, "ns", "n"));
    ASSERT_TRUE(ref.has_value());
    EXPECT_EQ(ref->kind, k);
    EXPECT_EQ(ref->ns, "ns");
    EXPECT_EQ(ref->name, "n");
    EXPECT_EQ(kind_named(kind_name(k)), k);
  }
  for (const char* bad : {"", "x", "/a", "a/", "a/replicaset/b", "a/statefulset/", "a/b/c/d"}) {
    EXPECT_FALSE(parse_workload_key(bad).has_value()) << bad;
  }
  EXPECT_FALSE(kind_named("CronJob").has_value());
}

// The namespace is an Atom like the record's other repeated strings (a cluster has far fewer
// namespaces than workloads): it reads back in the key, the view and an Event's reference, and a
// record moved to another namespace is another record. The size is the memory benchmark's
// figure per Deployment (README, Benchmarks): 296 bytes when the namespace was a std::string, 272
// with the resourceVersion a std::string and padding between the members; 248 (with its shared
// pointer's control block, one 272-byte heap block) since.
TEST(WorkloadRecord, ItsNamespaceIsInternedAndReadsBackEverywhere) {
  json other = full_deployment();
  other["metadata"]["namespace"] = "a-namespace-longer-than-sso";
  const WorkloadRecord r = record_workload(full_deployment());
  const WorkloadRecord o = record_workload(other);
  EXPECT_EQ(*r.ns, "shop");
  EXPECT_EQ(r.key(), "shop/task-api");
  EXPECT_EQ(r.workload().ns, "shop");
  EXPECT_EQ(r.reference()["metadata"]["namespace"], "shop");
  EXPECT_EQ(o.key(), "a-namespace-longer-than-sso/task-api");
  EXPECT_EQ(o.reference()["metadata"]["namespace"], "a-namespace-longer-than-sso");
  EXPECT_FALSE(r.same_but_status(o));
  EXPECT_TRUE(r.same_but_status(record_workload(full_deployment())));
#if defined(__x86_64__) && defined(__GLIBCXX__)
  EXPECT_LE(sizeof(WorkloadRecord), 248u);
#endif
}

// Which status tallies count a record's version (status_tally.h): an epoch per slot, each slot
// apart; a copy of a record is another version, which no tally counts yet.
TEST(WorkloadRecord, TallyMarksKeepAnEpochPerSlotAndACopyStartsUncounted) {
  WorkloadRecord r = record_workload(full_deployment());
  for (int s = 0; s < TallyMarks::kSlots; ++s) EXPECT_EQ(r.tallied.get(s), 0) << s;
  r.tallied.set(0, 15);
  r.tallied.set(2, 3);
  r.tallied.set(3, 9);
  EXPECT_EQ(r.tallied.get(0), 15);
  EXPECT_EQ(r.tallied.get(1), 0);
  EXPECT_EQ(r.tallied.get(2), 3);
  EXPECT_EQ(r.tallied.get(3), 9);
  r.tallied.set(0, 0);
  EXPECT_EQ(r.tallied.get(0), 0);
  EXPECT_EQ(r.tallied.get(2), 3) << "clearing one slot leaves the others";
  WorkloadRecord copy = r;
  for (int s = 0; s < TallyMarks::kSlots; ++s) EXPECT_EQ(copy.tallied.get(s), 0) << s;
  copy = r;
  EXPECT_EQ(copy.tallied.get(2), 0);
}

// The record keeps the resourceVersion compactly (ResourceVersion): it reads back as the object
// said, and a status-only update (a new version, nothing else) is still one.
TEST(WorkloadRecord, ItsResourceVersionReadsBackAsWrittenAndChangesNothingElse) {
  json d = full_deployment();
  d["metadata"]["resourceVersion"] = "123456789";
  const WorkloadRecord a = record_workload(d);
  d["metadata"]["resourceVersion"] = "123456790";
  d["status"]["observedGeneration"] = 99;
  const WorkloadRecord b = record_workload(d);
  EXPECT_EQ(a.resource_version.str(), "123456789");
  EXPECT_EQ(b.resource_version.str(), "123456790");
  EXPECT_FALSE(a.resource_version == b.resource_version);
  EXPECT_TRUE(a.same_but_status(b));
  d["metadata"]["resourceVersion"] = "opaque-v1";
  EXPECT_EQ(record_workload(d).resource_version.str(), "opaque-v1");
}

TEST(WorkloadRecord, AStatefulSetsRecordSaysItsKindInItsKeyViewAndReference) {
  json sts = full_deployment();
  sts["spec"]["updateStrategy"] = {{"type", "RollingUpdate"},
                                   {"rollingUpdate", {{"partition", 1}}}};
  WorkloadRecord r = record_workload(sts, WorkloadKind::kStatefulSet);
  EXPECT_EQ(r.key(), "shop/statefulset/task-api");
  EXPECT_EQ(r.workload().kind, WorkloadKind::kStatefulSet);
  EXPECT_EQ(r.workload().key(), r.key());
  EXPECT_EQ(r.reference()["kind"], "StatefulSet");
  EXPECT_EQ(r.partition, 1);
  EXPECT_FALSE(r.on_delete);
  // The same object read as another kind is another record.
  EXPECT_FALSE(r.same_but_status(record_workload(sts, WorkloadKind::kDaemonSet)));
  // The fields kubectl reads for each kind pass the informer's field filter.
  for (const std::vector<std::string>& path : std::vector<std::vector<std::string>>{
           {"spec", "updateStrategy", "type"},
           {"spec", "updateStrategy", "rollingUpdate", "partition"},
           {"status", "readyReplicas"},
           {"status", "currentRevision"},
           {"status", "updateRevision"},
           {"status", "desiredNumberScheduled"},
           {"status", "updatedNumberScheduled"},
           {"status", "numberAvailable"}}) {
    EXPECT_TRUE(is_read_workload_field(path)) << path.back();
  }
  EXPECT_FALSE(is_read_workload_field(
      std::vector<std::string>{"spec", "updateStrategy", "rollingUpdate", "maxUnavailable"}));
}

}  // namespace
}  // namespace tracing::controllers
