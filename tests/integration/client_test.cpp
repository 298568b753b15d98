// The client against the real kube-apiserver + etcd started by scripts/controlplane.
#include <fstream>
#include <set>

#include "operator/kube/http.h"
#include "tests/integration/fixture.h"
#include "tests/integration/tcp_proxy.h"

namespace tracing::testing {
namespace {

using kube::resources::config_maps;
using kube::resources::deployments;

class Client : public ClusterTest {};

json env_of(const json& deploy) {
  return deploy["spec"]["template"]["spec"]["containers"][0].value("env", json::array());
}

std::vector<std::string> env_names(const json& deploy) {
  std::vector<std::string> names;
  for (const auto& e : env_of(deploy)) names.push_back(e["name"]);
  return names;
}

// A partial Deployment holding only the env entries a manager wants to own.
json env_patch(const std::string& ns, const std::string& name, const json& env) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"template",
             {{"spec", {{"containers", json::array({{{"name", "app"}, {"env", env}}})}}}}}}}};
}

TEST_F(Client, ConfigMapCreateGetReplaceDelete) {
  auto created = client_->create(config_maps(), ns_, config_map("cm", {{"k", "v1"}}));
  ASSERT_TRUE(created) << created.error().to_string();
  auto got = client_->get(config_maps(), ns_, "cm");
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)["data"]["k"], "v1");

  json updated = *got;
  updated["data"]["k"] = "v2";
  auto replaced = client_->replace(config_maps(), ns_, "cm", updated);
  ASSERT_TRUE(replaced) << replaced.error().to_string();
  EXPECT_EQ((*replaced)["data"]["k"], "v2");

  // The same stale resourceVersion again: optimistic concurrency says 409 Conflict.
  updated["data"]["k"] = "v3";
  auto stale = client_->replace(config_maps(), ns_, "cm", updated);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, 409);
  EXPECT_TRUE(stale.error().is_conflict());
  EXPECT_TRUE(stale.error().retryable());

  auto dup = client_->create(config_maps(), ns_, config_map("cm"));
  ASSERT_FALSE(dup);
  EXPECT_TRUE(dup.error().is_already_exists());

  ASSERT_TRUE(client_->remove(config_maps(), ns_, "cm"));
  auto gone = client_->get(config_maps(), ns_, "cm");
  ASSERT_FALSE(gone);
  EXPECT_TRUE(gone.error().is_not_found());
  EXPECT_FALSE(gone.error().retryable());
}

TEST_F(Client, DeploymentCreateGetDelete) {
  auto created = client_->create(deployments(), ns_, deployment("web"));
  ASSERT_TRUE(created) << created.error().to_string();
  auto got = client_->get(deployments(), ns_, "web");
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)["spec"]["template"]["spec"]["containers"][0]["image"], "registry.example/app:1");
  EXPECT_EQ((*got)["metadata"]["generation"], 1);
  ASSERT_TRUE(client_->remove(deployments(), ns_, "web", {"Foreground", "", ""}));
}

TEST_F(Client, InvalidObjectIsRejectedNamingTheField) {
  json bad = deployment("bad");
  bad["spec"]["replicas"] = -1;
  auto r = client_->create(deployments(), ns_, bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, 422);
  EXPECT_FALSE(r.error().retryable());
  ASSERT_FALSE(r.error().causes.empty());
  EXPECT_EQ(r.error().causes[0].field, "spec.replicas");
}

TEST_F(Client, AppliedEnvEntryCoexistsWithAnotherManagersAndIsRemovedAlone) {
  ASSERT_TRUE(client_->create(deployments(), ns_,
                              deployment("web", {{{"name", "APP_MODE"}, {"value", "prod"}}})));
  auto mine =
      client_->apply(deployments(), ns_, "web",
                     env_patch(ns_, "web", {{{"name", "OTEL_SERVICE_NAME"}, {"value", "web"}}}),
                     {"tracing-operator", false, ""});
  ASSERT_TRUE(mine) << mine.error().to_string();
  EXPECT_EQ(env_names(*mine), (std::vector<std::string>{"APP_MODE", "OTEL_SERVICE_NAME"}));

  // managedFields records our ownership of exactly that entry.
  bool owns = false;
  for (const auto& mf : (*mine)["metadata"]["managedFields"]) {
    if (mf["manager"] == "tracing-operator" && mf["operation"] == "Apply") {
      std::string fields = mf["fieldsV1"].dump();
      owns = fields.find(R"(k:{\"name\":\"OTEL_SERVICE_NAME\"})") != std::string::npos &&
             fields.find("APP_MODE") == std::string::npos;
    }
  }
  EXPECT_TRUE(owns) << (*mine)["metadata"]["managedFields"].dump();

  // Applying again without the entry removes ours and nothing else.
  auto removed = client_->apply(deployments(), ns_, "web", env_patch(ns_, "web", json::array()),
                                {"tracing-operator", false, ""});
  ASSERT_TRUE(removed) << removed.error().to_string();
  EXPECT_EQ(env_names(*removed), std::vector<std::string>{"APP_MODE"});
  EXPECT_EQ(env_of(*removed)[0]["value"], "prod");
}

TEST_F(Client, NonForcedApplyOverAnotherManagersValueIsATypedConflict) {
  ASSERT_TRUE(client_->create(deployments(), ns_, deployment("web")));
  ASSERT_TRUE(client_->apply(
      deployments(), ns_, "web",
      env_patch(ns_, "web", {{{"name", "OTEL_TRACES_SAMPLER"}, {"value", "always_on"}}}),
      {"gitops", false, ""}));

  auto conflict = client_->apply(
      deployments(), ns_, "web",
      env_patch(ns_, "web", {{{"name", "OTEL_TRACES_SAMPLER"}, {"value", "traceidratio"}}}),
      {"tracing-operator", false, ""});
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, 409);
  EXPECT_TRUE(conflict.error().is_conflict());
  ASSERT_EQ(conflict.error().causes.size(), 1u) << conflict.error().to_string();
  EXPECT_EQ(conflict.error().causes[0].reason, "FieldManagerConflict");
  EXPECT_NE(conflict.error().causes[0].field.find(R"(env[name="OTEL_TRACES_SAMPLER"].value)"),
            std::string::npos)
      << conflict.error().causes[0].field;
  EXPECT_NE(conflict.error().causes[0].message.find("gitops"), std::string::npos);
  // The failed apply changed nothing.
  EXPECT_EQ(env_of(*client_->get(deployments(), ns_, "web"))[0]["value"], "always_on");

  auto forced = client_->apply(
      deployments(), ns_, "web",
      env_patch(ns_, "web", {{{"name", "OTEL_TRACES_SAMPLER"}, {"value", "traceidratio"}}}),
      {"tracing-operator", true, ""});
  ASSERT_TRUE(forced) << forced.error().to_string();
  EXPECT_EQ(env_of(*forced)[0]["value"], "traceidratio");
  // The forced apply took the value away from gitops (which may keep co-owning the entry's key).
  for (const auto& mf : (*forced)["metadata"]["managedFields"]) {
    const json entry = mf["fieldsV1"].value(
        json::json_pointer("/f:spec/f:template/f:spec/f:containers/k:{\"name\":\"app\"}/f:env/"
                           "k:{\"name\":\"OTEL_TRACES_SAMPLER\"}"),
        json::object());
    if (mf["manager"] == "gitops") {
      EXPECT_FALSE(entry.contains("f:value")) << mf.dump();
    } else if (mf["manager"] == "tracing-operator" && mf["operation"] == "Apply") {
      EXPECT_TRUE(entry.contains("f:value")) << mf.dump() << " entry " << entry.dump();
    }
  }
}

TEST_F(Client, AMetadataOnlyApplyAnswersWithTheMetadataAndItsConflictsStayTyped) {
  ASSERT_TRUE(client_->create(deployments(), ns_, deployment("web")));
  kube::ApplyOptions metadata_only{.field_manager = "tracing-operator", .metadata_only = true};
  auto applied = client_->apply(
      deployments(), ns_, "web",
      env_patch(ns_, "web", {{{"name", "OTEL_TRACES_SAMPLER"}, {"value", "always_on"}}}),
      metadata_only);
  ASSERT_TRUE(applied) << applied.error().to_string();
  EXPECT_EQ((*applied)["kind"], "PartialObjectMetadata") << applied->dump();
  EXPECT_FALSE(applied->contains("spec")) << applied->dump();
  // What a write's caller reads back: the version and the generation it produced.
  auto live = client_->get(deployments(), ns_, "web");
  ASSERT_TRUE(live);
  EXPECT_EQ((*applied)["metadata"]["resourceVersion"], (*live)["metadata"]["resourceVersion"]);
  EXPECT_EQ((*applied)["metadata"]["generation"], 2);
  EXPECT_EQ(env_of(*live)[0]["value"], "always_on");

  // A conflict is still a 409 whose causes name the field and its manager.
  auto conflict = client_->apply(
      deployments(), ns_, "web",
      env_patch(ns_, "web", {{{"name", "OTEL_TRACES_SAMPLER"}, {"value", "traceidratio"}}}),
      {.field_manager = "gitops", .metadata_only = true});
  ASSERT_FALSE(conflict);
  EXPECT_TRUE(conflict.error().is_conflict()) << conflict.error().to_string();
  ASSERT_EQ(conflict.error().causes.size(), 1u) << conflict.error().to_string();
  EXPECT_NE(conflict.error().causes[0].field.find(R"(env[name="OTEL_TRACES_SAMPLER"].value)"),
            std::string::npos)
      << conflict.error().causes[0].field;
  EXPECT_NE(conflict.error().causes[0].message.find("tracing-operator"), std::string::npos);
}

TEST_F(Client, StatusSubresourceWriteChangesOnlyStatus) {
  ASSERT_TRUE(client_->create(deployments(), ns_, deployment("web")));
  json status = {{"apiVersion", "apps/v1"},
                 {"kind", "Deployment"},
                 {"metadata", {{"name", "web"}, {"namespace", ns_}}},
                 {"status", {{"observedGeneration", 1}, {"replicas", 1}, {"updatedReplicas", 1}}}};
  auto applied =
      client_->apply(deployments(), ns_, "web", status, {"test-controller", true, "status"});
  ASSERT_TRUE(applied) << applied.error().to_string();
  EXPECT_EQ((*applied)["status"]["updatedReplicas"], 1);
  EXPECT_EQ((*applied)["metadata"]["generation"], 1) << "a status write must not bump generation";

  // A spec change through /status is ignored by the API server. (The Deployment controller
  // writes the object too: a stale resourceVersion is a 409, so re-read and retry as client-go's
  // RetryOnConflict does.)
  kube::Result<json> replaced = kube::ApiError::network("not tried");
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto latest = client_->get(deployments(), ns_, "web");
    ASSERT_TRUE(latest);
    json sneaky = *latest;
    sneaky["spec"]["replicas"] = 5;
    replaced = client_->replace(deployments(), ns_, "web", sneaky, "status");
    if (replaced || !replaced.error().is_conflict()) break;
  }
  ASSERT_TRUE(replaced) << replaced.error().to_string();
  EXPECT_EQ((*replaced)["spec"]["replicas"], 1);
}

TEST_F(Client, PagedListReturnsEveryObjectExactlyOnce) {
  for (int i = 0; i < 23; ++i) {
    ASSERT_TRUE(client_->create(config_maps(), ns_, config_map("cm-" + std::to_string(i))));
  }
  kube::ListOptions lo;
  lo.limit = 5;
  auto list = client_->list(config_maps(), ns_, lo);
  ASSERT_TRUE(list) << list.error().to_string();
  std::multiset<std::string> names;
  for (const auto& item : list->items) {
    std::string n = item["metadata"]["name"];
    if (n.rfind("cm-", 0) == 0) names.insert(n);
  }
  EXPECT_EQ(names.size(), 23u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), 23u);
  EXPECT_GE(list->pages, 5);  // 23 + kube-root-ca.crt if present, 5 per page
  EXPECT_FALSE(list->resource_version.empty());
}

TEST_F(Client, APagedListHandsEachPageOverAsItArrives) {
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(client_->create(config_maps(), ns_, config_map("cm-" + std::to_string(i))));
  }
  kube::ListOptions lo;
  lo.limit = 5;
  std::vector<std::string> handed;
  std::vector<size_t> handed_by_page;  // how many items were handed over when each page ended
  lo.each = [&](json&& item) { handed.push_back(item["metadata"]["name"].get<std::string>()); };
  lo.on_page = [&](int) { handed_by_page.push_back(handed.size()); };
  auto list = client_->list(config_maps(), ns_, lo);
  ASSERT_TRUE(list) << list.error().to_string();
  ASSERT_GE(handed_by_page.size(), 3u);
  EXPECT_EQ(handed_by_page[0], 5u) << "the first page, handed over before the second came";
  EXPECT_EQ(handed_by_page[1], 10u);
  EXPECT_TRUE(list->items.empty()) << "handed over, not also kept";
  EXPECT_EQ(std::count_if(handed.begin(), handed.end(),
                          [](const std::string& n) { return n.rfind("cm-", 0) == 0; }),
            12);
}

TEST_F(Client, ListRestartsWhenItsContinueTokenExpires) {
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(client_->create(config_maps(), ns_, config_map("cm-" + std::to_string(i))));
  }
  kube::ListOptions lo;
  lo.limit = 4;
  bool compacted = false;
  lo.on_page = [&](int page) {
    if (page == 1 && !compacted) {
      compacted = true;
      // Compaction past the list's snapshot makes its continue token expire (410) once the
      // API server's watch cache no longer holds that snapshot (it restarts here).
      ASSERT_EQ(controlplane("compact"), 0);
      ASSERT_EQ(controlplane("restart-apiserver"), 0);
    }
  };
  // Handed over one by one as the pages arrive (as informers list); a restart makes what was
  // handed over stale.
  std::vector<json> items;
  int restarts_seen = 0;
  lo.each = [&](json&& item) { items.push_back(std::move(item)); };
  lo.on_restart = [&] {
    ++restarts_seen;
    items.clear();
  };
  auto list = client_->list(config_maps(), ns_, lo);
  ASSERT_TRUE(list) << list.error().to_string();
  ASSERT_TRUE(compacted);
  EXPECT_TRUE(list->items.empty()) << "items handed to `each` are not kept";
  EXPECT_EQ(restarts_seen, 1);
  std::set<std::string> names;
  int count = 0;
  for (const auto& item : items) {
    std::string n = item["metadata"]["name"];
    if (n.rfind("cm-", 0) == 0) {
      names.insert(n);
      ++count;
    }
  }
  EXPECT_EQ(count, 12);
  EXPECT_EQ(names.size(), 12u);
  EXPECT_EQ(list->restarts, 1) << "the list must have started over after the 410";
}

TEST_F(Client, ExpiredContinueTokenIsA410Expired) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(client_->create(config_maps(), ns_, config_map("cm-" + std::to_string(i))));
  }
  auto t = kube::make_http_transport(config_);
  ASSERT_TRUE(t);
  auto first = (*t)->send({"GET", "/api/v1/namespaces/" + ns_ + "/configmaps?limit=2"});
  ASSERT_TRUE(first);
  std::string cont = json::parse(first->body)["metadata"]["continue"];
  ASSERT_FALSE(cont.empty());
  ASSERT_EQ(controlplane("compact"), 0);
  // Kubernetes 1.34+ serves continued lists from the watch cache's snapshots, which survive an
  // etcd compaction; a restarted API server has none, so the list must go to etcd and expire.
  ASSERT_EQ(controlplane("restart-apiserver"), 0);
  auto next = (*t)->send({"GET", "/api/v1/namespaces/" + ns_ +
                                     "/configmaps?limit=2&continue=" + kube::url_encode(cont)});
  ASSERT_TRUE(next);
  kube::ApiError e = kube::ApiError::from_response(next->status, next->body);
  EXPECT_EQ(e.code, 410);
  EXPECT_TRUE(e.is_expired()) << e.to_string();
}

TEST_F(Client, WatchDeliversEventsInOrderFromAResourceVersion) {
  auto list = client_->list(config_maps(), ns_);
  ASSERT_TRUE(list);
  ASSERT_TRUE(client_->create(config_maps(), ns_, config_map("w", {{"k", "1"}})));
  auto got = client_->get(config_maps(), ns_, "w");
  json upd = *got;
  upd["data"]["k"] = "2";
  ASSERT_TRUE(client_->replace(config_maps(), ns_, "w", upd));
  ASSERT_TRUE(client_->remove(config_maps(), ns_, "w"));

  std::vector<std::pair<kube::EventType, std::string>> seen;
  kube::Cancellation cancel;
  kube::WatchOptions wo;
  wo.resource_version = list->resource_version;
  wo.timeout_seconds = 10;
  auto st = client_->watch(
      config_maps(), ns_, wo,
      [&](kube::WatchEvent&& ev) {
        if (ev.type == kube::EventType::kBookmark) return true;
        seen.emplace_back(ev.type, ev.object["data"].value("k", ""));
        return seen.size() < 3;
      },
      cancel);
  ASSERT_TRUE(st) << st.error().to_string();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], std::make_pair(kube::EventType::kAdded, std::string("1")));
  EXPECT_EQ(seen[1], std::make_pair(kube::EventType::kModified, std::string("2")));
  EXPECT_EQ(seen[2].first, kube::EventType::kDeleted);
}

TEST_F(Client, WatchFromACompactedVersionReturnsExpired) {
  auto list = client_->list(config_maps(), ns_);
  ASSERT_TRUE(list);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client_->create(config_maps(), ns_, config_map("c" + std::to_string(i))));
  }
  ASSERT_EQ(controlplane("compact"), 0);
  // A fresh watch cache knows nothing older than its start: restarting the API server after
  // the compaction is what makes the old version unservable.
  ASSERT_EQ(controlplane("restart-apiserver"), 0);
  client_ = make_client(config_);
  kube::Cancellation cancel;
  kube::WatchOptions wo;
  wo.resource_version = list->resource_version;
  wo.timeout_seconds = 10;
  auto st = client_->watch(
      config_maps(), ns_, wo, [](kube::WatchEvent&&) { return true; }, cancel);
  ASSERT_FALSE(st) << "a watch from a compacted resourceVersion must fail";
  EXPECT_TRUE(st.error().is_expired()) << st.error().to_string();
}

TEST_F(Client, NonAdminIdentityGetsATypedForbidden) {
  auto tester = make_client(load(cp_path("pki/tester.kubeconfig")));
  auto r = tester->list(config_maps(), ns_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, 403);
  EXPECT_TRUE(r.error().is_forbidden());
  EXPECT_EQ(r.error().reason, "Forbidden");
  EXPECT_FALSE(r.error().retryable());
  EXPECT_NE(r.error().message.find("User \"tester\""), std::string::npos) << r.error().message;
}

TEST_F(Client, BearerTokenAuthenticates) {
  auto admin = make_client(load(cp_path("pki/admin-token.kubeconfig")));
  auto r = admin->get(kube::resources::namespaces(), "", ns_);
  ASSERT_TRUE(r) << r.error().to_string();
  auto tester = make_client(load(cp_path("pki/tester-token.kubeconfig")));
  auto denied = tester->get(kube::resources::namespaces(), "", ns_);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, 403);
}

TEST_F(Client, RotatedTokenFileIsReReadAfterA401) {
  std::string token_file = cp_path("rotating-token");
  { std::ofstream(token_file) << "not-a-valid-token\n"; }
  kube::ClusterConfig c = config_;
  c.client_cert_pem.clear();
  c.client_key_pem.clear();
  c.token_file = token_file;
  auto client = make_client(c);
  auto unauthorized = client->get(kube::resources::namespaces(), "", ns_);
  ASSERT_FALSE(unauthorized);
  EXPECT_EQ(unauthorized.error().code, 401);
  // The kubelet rotates the token: the next request must use the new one without waiting a
  // minute, because the 401 dropped the cached token.
  { std::ofstream(token_file) << "admin-token-0123456789abcdef\n"; }
  auto ok = client->get(kube::resources::namespaces(), "", ns_);
  EXPECT_TRUE(ok) << ok.error().to_string();
}

TEST_F(Client, UntrustedServerCertificateIsRefused) {
  kube::ClusterConfig c = config_;
  // A CA that did not sign the API server's certificate: the system trust must not be used.
  std::ifstream in(cp_path("pki/admin.crt"));
  c.ca_pem.assign(std::istreambuf_iterator<char>(in), {});
  auto client = make_client(c);
  auto r = client->get(kube::resources::namespaces(), "", ns_);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is_network()) << r.error().to_string();
}

TEST_F(Client, DiscoveryTellsWhetherAResourceIsServed) {
  auto deploys = client_->is_served("apps", "v1", "deployments");
  ASSERT_TRUE(deploys) << deploys.error().to_string();
  EXPECT_TRUE(*deploys);
  auto core = client_->is_served("", "v1", "configmaps");
  ASSERT_TRUE(core);
  EXPECT_TRUE(*core);
  auto dapr = client_->is_served("dapr.io", "v1alpha1", "configurations");
  ASSERT_TRUE(dapr) << dapr.error().to_string();
  EXPECT_FALSE(*dapr);
  auto missing = client_->is_served("apps", "v1", "widgets");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

// --qps auto: the client-side limit holds until a response shows the API server's Priority and
// Fairness (every request it classifies carries X-Kubernetes-PF-FlowSchema-UID), then lifts.
TEST_F(Client, TheAutoRateLimitLiftsOnceTheServerShowsPriorityAndFairness) {
  auto t = kube::make_http_transport(config_);
  ASSERT_TRUE(t);
  auto first = (*t)->send({"GET", "/api/v1/namespaces/default"});
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->headers.count("x-kubernetes-pf-flowschema-uid"))
      << "the local API server runs Priority and Fairness (on by default)";

  kube::ClientOptions o;
  o.qps = 1;
  o.burst = 1;
  o.unlimited_under_flow_control = true;
  kube::Client autolimited(*t, o);
  EXPECT_TRUE(autolimited.rate_limited()) << "nothing seen yet: limited";
  ASSERT_TRUE(autolimited.get(kube::resources::namespaces(), "", "default"));
  EXPECT_FALSE(autolimited.rate_limited());

  o.unlimited_under_flow_control = false;
  kube::Client fixed(*t, o);
  ASSERT_TRUE(fixed.get(kube::resources::namespaces(), "", "default"));
  EXPECT_TRUE(fixed.rate_limited()) << "an explicit --qps holds whatever the server does";
  o.qps = 0;
  kube::Client unlimited(*t, o);
  EXPECT_FALSE(unlimited.rate_limited());
}

// Requests keep their TLS connections open between them, whatever their timeout: the Events'
// client (10 s) opened a connection per Event — a TLS handshake and cpprestsdk's loading of the
// system's CA bundle each time, 38 % of the operator's CPU during a cluster-wide change. A watch
// still has a connection of its own.
TEST_F(Client, RequestsOfAnyTimeoutReuseTheirConnections) {
  TcpProxy proxy("127.0.0.1", server_port(config_));
  auto t = kube::make_http_transport(via(proxy, config_), "tracing-tests/1.0");
  ASSERT_TRUE(t);
  for (int seconds : {10, 60}) {
    int before = proxy.accepted();
    for (int i = 0; i < 40; ++i) {
      kube::HttpRequest r{"GET", "/api/v1/namespaces/" + ns_};
      r.timeout = std::chrono::seconds(seconds);
      auto res = (*t)->send(r);
      ASSERT_TRUE(res);
      ASSERT_EQ(res->status, 200);
    }
    // cpprestsdk opens a second connection early on (2 for 20 requests as for 40).
    EXPECT_LE(proxy.accepted() - before, 2)
        << "40 sequential requests with a timeout of " << seconds << " s";
  }
}

}  // namespace
}  // namespace tracing::testing
