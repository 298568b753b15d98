// The informer against the real API server: it must converge to the server's state whatever
// happens to its watch. "Converged" is judged against a fresh list: same keys, same
// resourceVersions.
#include "operator/runtime/informer.h"

#include <map>

#include "tests/integration/fixture.h"
#include "tests/integration/tcp_proxy.h"

namespace tracing::testing {
namespace {

using kube::resources::config_maps;

class Informer : public ClusterTest {
 protected:
  std::map<std::string, std::string> server_state() {
    auto list = client_->list(config_maps(), ns_);
    EXPECT_TRUE(list) << list.error().to_string();
    std::map<std::string, std::string> out;
    if (!list) return out;
    for (const auto& item : list->items) {
      out[runtime::object_key(item)] = item["metadata"]["resourceVersion"];
    }
    return out;
  }
  static std::map<std::string, std::string> store_state(const runtime::Informer& inf) {
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : inf.store().snapshot()) {
      out[k] = (*v)["metadata"]["resourceVersion"];
    }
    return out;
  }
  bool converged(const runtime::Informer& inf) { return store_state(inf) == server_state(); }

  // Creates, updates and deletes a few config maps directly on the API server.
  void churn(const std::string& tag) {
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(client_->create(config_maps(), ns_, config_map(tag + std::to_string(i))));
    }
    auto cm = client_->get(config_maps(), ns_, tag + "0");
    ASSERT_TRUE(cm);
    (*cm)["data"]["changed"] = "yes";
    ASSERT_TRUE(client_->replace(config_maps(), ns_, tag + "0", *cm));
    ASSERT_TRUE(client_->remove(config_maps(), ns_, tag + "1"));
  }

  // A client whose connections go through `proxy`, so the test can cut them.
  std::unique_ptr<kube::Client> client_via(const TcpProxy& proxy) {
    return make_client(via(proxy, config_));
  }

  static runtime::InformerOptions options(const std::string& ns) {
    runtime::InformerOptions o;
    o.ns = ns;
    o.backoff.initial = std::chrono::milliseconds(100);
    o.backoff.max = std::chrono::milliseconds(1000);
    return o;
  }
};

TEST_F(Informer, ListsThenFollowsChangesAndTellsHandlers) {
  ASSERT_TRUE(client_->create(config_maps(), ns_, config_map("before")));
  runtime::Informer inf(*client_, config_maps(), options(ns_));
  std::atomic<int> adds{0}, updates{0}, deletes{0};
  inf.add_handlers({[&](const runtime::ObjectPtr&) { adds++; },
                    [&](const runtime::ObjectPtr&, const runtime::ObjectPtr&) { updates++; },
                    [&](const runtime::ObjectPtr&) { deletes++; }});
  inf.start();
  ASSERT_TRUE(inf.wait_for_sync(30s));
  EXPECT_NE(inf.store().get(ns_ + "/before"), nullptr);
  churn("x");
  EXPECT_TRUE(eventually([&] { return converged(inf); }));
  EXPECT_EQ(inf.store().get(ns_ + "/x1"), nullptr);
  EXPECT_EQ((*inf.store().get(ns_ + "/x0"))["data"]["changed"], "yes");
  // kube-root-ca.crt may or may not exist (no controller-manager): count from "before" on.
  EXPECT_GE(adds.load(), 6);
  EXPECT_EQ(updates.load(), 1);
  EXPECT_EQ(deletes.load(), 1);
  EXPECT_EQ(inf.stats().lists.load(), 1u);
}

TEST_F(Informer, KeepsOnlyTheProjection) {
  ASSERT_TRUE(client_->create(config_maps(), ns_,
                              config_map("big", {{"payload", std::string(4096, 'x')}})));
  auto o = options(ns_);
  o.project = [](json&& obj) {
    return json{{"metadata",
                 {{"name", obj["metadata"]["name"]},
                  {"namespace", obj["metadata"]["namespace"]},
                  {"resourceVersion", obj["metadata"]["resourceVersion"]}}}};
  };
  runtime::Informer inf(*client_, config_maps(), o);
  inf.start();
  ASSERT_TRUE(inf.wait_for_sync(30s));
  auto obj = inf.store().get(ns_ + "/big");
  ASSERT_NE(obj, nullptr);
  EXPECT_FALSE(obj->contains("data"));
  EXPECT_FALSE((*obj)["metadata"].contains("managedFields"));
}

// The API server sends a watch that allows them a bookmark 2 s before its deadline (and one a
// minute) when its cache moved on while the watch ran: a heartbeat carrying the newer version, no
// object. The informer follows the version but counts bookmarks apart from the events, which
// stand for work (main's heap trim waits for them to stop).
TEST_F(Informer, CountsBookmarksApartFromObjectEvents) {
  auto o = options(ns_);
  o.label_selector = "tracing-test=nothing-carries-this";  // no object event reaches it
  o.watch_timeout_seconds = 4;
  runtime::Informer inf(*client_, config_maps(), o);
  inf.start();
  ASSERT_TRUE(inf.wait_for_sync(30s));
  // ConfigMaps the selector filters out move the cache's version on while a watch runs (one made
  // before a watch starts is replayed to it, filtered, and earns no bookmark).
  int made = 0;
  while (inf.stats().bookmarks.load() < 2 && made < 60) {
    const uint64_t before = inf.stats().bookmarks.load();
    ASSERT_TRUE(client_->create(config_maps(), ns_, config_map("unseen" + std::to_string(made++))));
    eventually([&] { return inf.stats().bookmarks.load() > before; }, 1s);
  }
  EXPECT_GE(inf.stats().bookmarks.load(), 2u)
      << "after " << inf.stats().watches.load() << " watches and " << made << " ConfigMaps made";
  EXPECT_EQ(inf.stats().events.load(), 0u);
  EXPECT_EQ(inf.stats().lists.load(), 1u);
  EXPECT_EQ(inf.size(), 0u);
}

TEST_F(Informer, ConvergesAfterChangesMadeWhileItsWatchWasCut) {
  TcpProxy proxy("127.0.0.1", server_port(config_));
  auto via = client_via(proxy);
  runtime::Informer inf(*via, config_maps(), options(ns_));
  inf.start();
  ASSERT_TRUE(inf.wait_for_sync(30s));
  churn("a");
  ASSERT_TRUE(eventually([&] { return converged(inf); }));
  uint64_t watches = inf.stats().watches;

  proxy.set_blocked(true);
  proxy.cut();
  churn("b");  // made while the informer cannot see the server
  EXPECT_FALSE(converged(inf));
  proxy.set_blocked(false);

  EXPECT_TRUE(eventually([&] { return converged(inf); }));
  EXPECT_GT(inf.stats().watches.load(), watches) << "the watch must have been re-established";
  EXPECT_EQ(inf.stats().expired.load(), 0u) << "resuming from its last version needs no relist";
}

TEST_F(Informer, RelistsWhenCompactionMakesItsVersionTooOld) {
  TcpProxy proxy("127.0.0.1", server_port(config_));
  auto via = client_via(proxy);
  runtime::Informer inf(*via, config_maps(), options(ns_));
  inf.start();
  ASSERT_TRUE(inf.wait_for_sync(30s));
  churn("a");
  ASSERT_TRUE(eventually([&] { return converged(inf); }));

  proxy.set_blocked(true);
  proxy.cut();
  churn("b");
  ASSERT_EQ(controlplane("compact"), 0);
  ASSERT_EQ(controlplane("restart-apiserver"), 0);  // its watch cache restarts past the compaction
  proxy.set_blocked(false);

  EXPECT_TRUE(eventually([&] { return inf.stats().expired.load() >= 1; }, 60s))
      << "a 410 must have been seen";
  EXPECT_TRUE(eventually([&] { return converged(inf); }));
  EXPECT_GE(inf.stats().lists.load(), 2u);
  EXPECT_EQ(inf.store().get(ns_ + "/b1"), nullptr) << "a delete missed during the cut is applied";
  EXPECT_NE(inf.store().get(ns_ + "/b4"), nullptr);
}

TEST_F(Informer, SurvivesAnApiServerRestartMidWatch) {
  runtime::Informer inf(*client_, config_maps(), options(ns_));
  inf.start();
  ASSERT_TRUE(inf.wait_for_sync(30s));
  churn("a");
  ASSERT_TRUE(eventually([&] { return converged(inf); }));

  ASSERT_EQ(controlplane("restart-apiserver"), 0);
  churn("b");
  EXPECT_TRUE(eventually([&] { return converged(inf); }, 60s));
  EXPECT_NE(inf.store().get(ns_ + "/b4"), nullptr);
  EXPECT_GE(inf.stats().watches.load(), 2u);
}

}  // namespace
}  // namespace tracing::testing
