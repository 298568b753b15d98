#include "controllers/api/workload.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

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

TEST(ProjectDeployment, KeepsOnlyWhatTheOperatorReads) {
  json projected = project_deployment(full_deployment());
  json expected = json::parse(R"json({
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {
    "name": "task-api",
    "namespace": "shop",
    "uid": "5f0c2f6e-8c1a-4a39-9d7e-1b2c3d4e5f60",
    "resourceVersion": "48213",
    "generation": 4,
    "labels": {"app": "task-api", "app.kubernetes.io/name": "task-api"},
    "annotations": {}
  },
  "spec": {
    "replicas": 2,
    "template": {
      "metadata": {
        "labels": {"app": "task-api"},
        "annotations": {"dapr.io/enabled": "true", "dapr.io/app-id": "task-api"}
      },
      "spec": {
        "containers": [
          {
            "name": "api",
            "env": [
              {"name": "LOG_LEVEL"},
              {"name": "OTEL_SERVICE_NAME", "value": "task-api"},
              {"name": "DB_PASSWORD"},
              {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://jaeger-collector.observability.svc:4317"}
            ]
          },
          {"name": "daprd", "env": [{"name": "DAPR_HTTP_PORT"}]}
        ]
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
      {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}
    ]
  },
  "tracingEnvOwners": {
    "api": {
      "OTEL_EXPORTER_OTLP_ENDPOINT": ["tracing-operator"],
      "OTEL_SERVICE_NAME": ["kubectl-client-side-apply", "tracing-operator"]
    }
  }
})json");
  EXPECT_EQ(projected, expected) << projected.dump(2);
}

TEST(ProjectDeployment, IsIdempotent) {
  json once = project_deployment(full_deployment());
  json twice = project_deployment(json(once));
  EXPECT_EQ(twice, once);
}

TEST(ProjectDeployment, RecordsNoOwnersWithoutManagedFields) {
  json d = full_deployment();
  d["metadata"].erase("managedFields");
  json projected = project_deployment(std::move(d));
  EXPECT_EQ(projected["tracingEnvOwners"], json::object());
}

TEST(ProjectDeployment, SurvivesMalformedInput) {
  EXPECT_EQ(project_deployment(json("x")), json::object());
  json odd = {
      {"metadata", {{"name", "a"}, {"managedFields", {{{"manager", "m"}, {"fieldsV1", 3}}}}}},
      {"spec", {{"template", {{"spec", {{"containers", {1, "x", {{"name", "c"}}}}}}}}}}};
  json projected = project_deployment(std::move(odd));
  EXPECT_EQ(projected["metadata"]["name"], "a");
  EXPECT_EQ(projected["tracingEnvOwners"], json::object());
}

TEST(WorkloadFromDeployment, ReadsAFullDeployment) {
  Workload w = workload_from_deployment(full_deployment());
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

TEST(WorkloadFromDeployment, ReadsAProjectionExactlyLikeTheFullObject) {
  Workload full = workload_from_deployment(full_deployment());
  Workload projected = workload_from_deployment(project_deployment(full_deployment()));
  EXPECT_EQ(projected.ns, full.ns);
  EXPECT_EQ(projected.name, full.name);
  EXPECT_EQ(projected.uid, full.uid);
  EXPECT_EQ(projected.labels, full.labels);
  EXPECT_EQ(projected.annotations, full.annotations);
  EXPECT_EQ(projected.template_labels, full.template_labels);
  ASSERT_EQ(projected.containers.size(), full.containers.size());
  for (size_t i = 0; i < full.containers.size(); ++i) {
    EXPECT_EQ(projected.containers[i].name, full.containers[i].name);
    EXPECT_EQ(projected.containers[i].env, full.containers[i].env);
  }
  EXPECT_EQ(projected.env_owners, full.env_owners);
}

TEST(WorkloadFromDeployment, ToleratesMalformedObjects) {
  for (const json& bad :
       {json(nullptr), json(3), json::object(),
        json{{"metadata", {{"name", 5}, {"labels", {{"a", 1}, {"b", "x"}}}}},
             {"spec", {{"template", {{"spec", {{"containers", {"x", {{"env", 1}}}}}}}}}}}}) {
    Workload w = workload_from_deployment(bad);
    EXPECT_EQ(w.name, "");
    EXPECT_TRUE(w.containers.empty());
  }
  Workload w = workload_from_deployment(
      json{{"metadata", {{"name", "a"}, {"labels", {{"a", 1}, {"b", "x"}}}}}});
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
  Workload w = workload_from_deployment(with_bookkeeping({
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
  Workload co = workload_from_deployment(shared);
  EXPECT_EQ(co.annotations.count("tracing.rollout.dev/policies"), 1u);
  EXPECT_TRUE(co.untrusted.empty());

  // An update under the operator's manager name (any client can pick one) is no proof.
  json borrowed = with_bookkeeping({{"tracing.rollout.dev/policies", "tracing-operator"}});
  borrowed["metadata"]["managedFields"][0]["operation"] = "Update";
  Workload b = workload_from_deployment(borrowed);
  EXPECT_EQ(b.annotations.count("tracing.rollout.dev/policies"), 0u);
  ASSERT_EQ(b.untrusted.size(), 3u);
  EXPECT_EQ(b.untrusted[0].managers, std::vector<std::string>{"tracing-operator (Update)"});
}

TEST(WorkloadFromDeployment, AProjectionKeepsWhoOwnsTheBookkeeping) {
  json full = with_bookkeeping({{"tracing.rollout.dev/policies", "kubectl-edit"},
                                {"tracing.rollout.dev/overridden-env", "tracing-operator"},
                                {"tracing.rollout.dev/original-env-order", "tracing-operator"}});
  Workload projected = workload_from_deployment(project_deployment(json(full)));
  EXPECT_EQ(projected.annotations.count("tracing.rollout.dev/policies"), 0u);
  EXPECT_EQ(projected.annotations.count("tracing.rollout.dev/overridden-env"), 1u);
  ASSERT_EQ(projected.untrusted.size(), 1u);
  EXPECT_EQ(projected.untrusted[0].managers, std::vector<std::string>{"kubectl-edit"});
  // Only the operator's own keys are kept in the projection's owners.
  EXPECT_EQ(projected.env_owners.at(kAnnotationOwners).size(), 3u);
}

}  // namespace
}  // namespace tracing::controllers
