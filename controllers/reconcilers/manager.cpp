#include "controllers/reconcilers/manager.h"

#include <spdlog/spdlog.h>

#include "operator/runtime/http_server.h"

namespace tracing::controllers {

namespace {

runtime::InformerOptions deployment_options() {
  runtime::InformerOptions o;
  o.project = [](json&& d) {
    // The operator's own Deployments (a managed Jaeger) are kept whole, to compare with their
    // intent; every other one only as far as the decision reads it.
    if (managed_by_operator(d)) {
      d["metadata"].erase("managedFields");
      return std::move(d);
    }
    return project_deployment(std::move(d));
  };
  return o;
}

runtime::InformerOptions managed_options() {
  runtime::InformerOptions o;
  o.label_selector = kManagedBySelector;
  o.project = [](json&& obj) {
    obj["metadata"].erase("managedFields");
    return std::move(obj);
  };
  return o;
}

runtime::InformerOptions namespace_options() {
  runtime::InformerOptions o;
  o.project = [](json&& n) {
    json md = {{"name", n["metadata"]["name"]},
               {"resourceVersion", n["metadata"].value("resourceVersion", "")}};
    if (n["metadata"].contains("labels")) md["labels"] = n["metadata"]["labels"];
    if (n["metadata"].contains("deletionTimestamp")) {
      md["deletionTimestamp"] = n["metadata"]["deletionTimestamp"];
    }
    return json{{"metadata", md}};
  };
  return o;
}

// What of a policy, when it changes, can change the workloads' decisions: its spec, its debug
// record, its finalizer (a policy configures nothing before the operator claimed it), its
// deletion. Status counts and conditions cannot.
bool decision_inputs_changed(const json& a, const json& b) {
  return a["metadata"].value("generation", 0) != b["metadata"].value("generation", 0) ||
         a["metadata"].value("finalizers", json::array()) !=
             b["metadata"].value("finalizers", json::array()) ||
         a["metadata"].contains("deletionTimestamp") !=
             b["metadata"].contains("deletionTimestamp") ||
         a.value("status", json::object()).value("debug", json::object()) !=
             b.value("status", json::object()).value("debug", json::object()) ||
         a.value("spec", json::object()) != b.value("spec", json::object());
}

}  // namespace

Manager::Manager(kube::Client& client, ManagerOptions options)
    : client_(client),
      options_(std::move(options)),
      events_(client, options_.instance),
      deployments_(client, kube::resources::deployments(), deployment_options()),
      policies_(client, tracing_policies()),
      namespaces_(client, kube::resources::namespaces(), namespace_options()),
      config_maps_(client, kube::resources::config_maps(), managed_options()),
      services_(client, {"", "v1", "services", true, "Service"}, managed_options()),
      workload_queue_(runtime::SystemClock::instance()),
      policy_queue_(runtime::SystemClock::instance()),
      cluster_queue_(runtime::SystemClock::instance()),
      dapr_discovery_(client_),
      ctx_{client_,         options_.root_namespace,
           options_.now,    events_,
           deployments_,    policies_,
           namespaces_,     cache_,
           workload_queue_, policy_queue_,
           dapr_discovery_},
      workload_reconciler_(ctx_),
      policy_reconciler_(ctx_, workload_reconciler_),
      jaeger_reconciler_(ctx_, workload_reconciler_, config_maps_, services_),
      dapr_reconciler_(ctx_, workload_reconciler_) {
  policies_.add_handlers({[this](const runtime::ObjectPtr& p) {
                            cache_.upsert(*p);
                            policy_queue_.add(runtime::object_key(*p));
                            enqueue_workloads_of(*p);
                          },
                          [this](const runtime::ObjectPtr& old_p, const runtime::ObjectPtr& new_p) {
                            cache_.upsert(*new_p);
                            policy_queue_.add(runtime::object_key(*new_p));
                            if (decision_inputs_changed(*old_p, *new_p))
                              enqueue_workloads_of(*new_p);
                          },
                          [this](const runtime::ObjectPtr& p) {
                            cache_.erase(runtime::object_key(*p));
                            enqueue_workloads_of(*p);
                          }});
  auto on_deployment = [this](const runtime::ObjectPtr& d) {
    enqueue_cluster();
    if (managed_by_operator(*d)) return;
    workload_queue_.add(runtime::object_key(*d));
    enqueue_policies_for_namespace((*d)["metadata"].value("namespace", ""));
  };
  auto on_managed = [this](const runtime::ObjectPtr&) { enqueue_cluster(); };
  for (runtime::Informer* inf : {&config_maps_, &services_}) {
    inf->add_handlers(
        {on_managed,
         [on_managed](const runtime::ObjectPtr&, const runtime::ObjectPtr& o) { on_managed(o); },
         on_managed});
  }
  deployments_.add_handlers({on_deployment,
                             [on_deployment](const runtime::ObjectPtr&,
                                             const runtime::ObjectPtr& d) { on_deployment(d); },
                             on_deployment});
  namespaces_.add_handlers(
      {nullptr,
       [this](const runtime::ObjectPtr& old_n, const runtime::ObjectPtr& new_n) {
         if ((*old_n)["metadata"].value("labels", json::object()) ==
             (*new_n)["metadata"].value("labels", json::object())) {
           return;
         }
         std::string ns = (*new_n)["metadata"]["name"];
         for (const auto& d : deployments_.store().list_namespace(ns)) {
           workload_queue_.add(runtime::object_key(*d));
         }
         enqueue_policies_for_namespace(ns);
       },
       nullptr});
}

Manager::~Manager() { stop(); }

// Coalesces bursts: the Jaeger pass looks at every workload, so it runs at most every 300 ms.
void Manager::enqueue_cluster() {
  cluster_queue_.add_after("jaeger", std::chrono::milliseconds(300));
  cluster_queue_.add_after("dapr", std::chrono::milliseconds(300));
}

void Manager::enqueue_workloads_of(const json& policy) {
  enqueue_cluster();
  std::string ns = policy["metadata"].value("namespace", "");
  auto ds = ns == options_.root_namespace ? deployments_.store().list()
                                          : deployments_.store().list_namespace(ns);
  for (const auto& d : ds) workload_queue_.add(runtime::object_key(*d));
}

// Status counts follow the workloads; coalesce bursts of Deployment events into one status pass.
void Manager::enqueue_policies_for_namespace(const std::string& ns) {
  for (const auto& p : policies_.store().list()) {
    std::string pns = (*p)["metadata"].value("namespace", "");
    if (pns == ns || pns == options_.root_namespace) {
      policy_queue_.add_after(runtime::object_key(*p), std::chrono::milliseconds(300));
    }
  }
}

kube::Status Manager::start(std::chrono::seconds timeout, bool with_workers,
                            const std::function<bool()>& cancelled) {
  namespaces_.start();
  policies_.start();
  deployments_.start();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  config_maps_.start();
  services_.start();
  for (runtime::Informer* inf :
       {&namespaces_, &policies_, &deployments_, &config_maps_, &services_}) {
    bool synced = false;
    while (!synced && !cancelled() && std::chrono::steady_clock::now() < deadline) {
      synced = inf->wait_for_sync(std::chrono::milliseconds(100));
    }
    if (cancelled()) return kube::ApiError::shutting_down("stopped before the informers synced");
    if (!synced) {
      return kube::ApiError{0,
                            "NotSynced",
                            "the " + inf->resource().plural +
                                " informer did not sync: is the API server reachable and the "
                                "TracingPolicy CRD installed (crds/)?",
                            {},
                            std::nullopt};
    }
  }
  spdlog::info("informers synced: {} deployments, {} policies, {} namespaces",
               deployments_.store().size(), policies_.store().size(), namespaces_.store().size());
  if (with_workers) start_workers();
  return kube::Ok{};
}

void Manager::start_workers() {
  std::lock_guard<std::mutex> g(lifecycle_mu_);
  if (stopped_ || !workers_.empty()) return;
  for (int i = 0; i < options_.workers; ++i) {
    workers_.emplace_back([this] {
      run_worker(
          workload_queue_,
          [this](const std::string& k) { return workload_reconciler_.reconcile(k); }, "workload");
    });
  }
  workers_.emplace_back([this] {
    run_worker(
        policy_queue_, [this](const std::string& k) { return policy_reconciler_.reconcile(k); },
        "policy");
  });
  workers_.emplace_back([this] {
    run_worker(
        cluster_queue_,
        [this](const std::string& k) {
          return k == "dapr" ? dapr_reconciler_.reconcile(k) : jaeger_reconciler_.reconcile(k);
        },
        "cluster");
  });
  cluster_queue_.add("jaeger");
  cluster_queue_.add("dapr");
}

void Manager::run_worker(runtime::WorkQueue& queue,
                         const std::function<kube::Result<Action>(const std::string&)>& reconcile,
                         const char* what) {
  auto& count = &queue == &workload_queue_ ? workload_reconciles_
                : &queue == &policy_queue_ ? policy_reconciles_
                                           : jaeger_reconciles_;
  auto& errors = &queue == &workload_queue_ ? workload_errors_
                 : &queue == &policy_queue_ ? policy_errors_
                                            : jaeger_errors_;
  while (auto key = queue.get()) {
    reconciles_++;
    count++;
    in_flight_++;
    // A reconcile that throws is a bug (JSON of an unexpected shape, say); it must not take the
    // whole operator down with every other workload: log it loudly and retry with backoff.
    kube::Result<Action> result = kube::ApiError{0, "InternalError", "not run", {}, std::nullopt};
    try {
      result = reconcile(*key);
    } catch (const std::exception& e) {
      result = kube::ApiError{
          500, "InternalError", std::string("reconcile threw: ") + e.what(), {}, std::nullopt};
    }
    in_flight_--;
    if (!result) {
      errors++;
      const auto& e = result.error();
      if (e.retryable() || e.code == 0) {
        spdlog::warn("{} {}: {} (retrying)", what, *key, e.to_string());
        queue.add_rate_limited(*key);
      } else {
        spdlog::error("{} {}: {}", what, *key, e.to_string());
        queue.forget(*key);
      }
    } else {
      queue.forget(*key);
      if (result->requeue_after) queue.add_after(*key, *result->requeue_after);
    }
    queue.done(*key);
  }
}

bool Manager::ready() const {
  return deployments_.has_synced() && policies_.has_synced() && namespaces_.has_synced() &&
         config_maps_.has_synced() && services_.has_synced();
}

std::string Manager::metrics() const {
  std::string out;
  auto line = [&out](const std::string& name, const std::string& labels, uint64_t v) {
    out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(v) + "\n";
  };
  out += "# HELP tracing_operator_reconciles_total Reconciles run, by controller.\n";
  out += "# TYPE tracing_operator_reconciles_total counter\n";
  line("tracing_operator_reconciles_total", "controller=\"workload\"", workload_reconciles_);
  line("tracing_operator_reconciles_total", "controller=\"policy\"", policy_reconciles_);
  line("tracing_operator_reconciles_total", "controller=\"cluster\"", jaeger_reconciles_);
  out += "# HELP tracing_operator_reconcile_errors_total Reconciles that failed, by controller.\n";
  out += "# TYPE tracing_operator_reconcile_errors_total counter\n";
  line("tracing_operator_reconcile_errors_total", "controller=\"workload\"", workload_errors_);
  line("tracing_operator_reconcile_errors_total", "controller=\"policy\"", policy_errors_);
  line("tracing_operator_reconcile_errors_total", "controller=\"cluster\"", jaeger_errors_);
  out += "# HELP tracing_operator_workqueue_depth Keys waiting in a work queue.\n";
  out += "# TYPE tracing_operator_workqueue_depth gauge\n";
  line("tracing_operator_workqueue_depth", "queue=\"workload\"", workload_queue_.len());
  line("tracing_operator_workqueue_depth", "queue=\"policy\"", policy_queue_.len());
  line("tracing_operator_workqueue_depth", "queue=\"cluster\"", cluster_queue_.len());
  out += "# HELP tracing_operator_workqueue_waiting Keys waiting for a requeue deadline.\n";
  out += "# TYPE tracing_operator_workqueue_waiting gauge\n";
  line("tracing_operator_workqueue_waiting", "queue=\"workload\"", workload_queue_.waiting_len());
  line("tracing_operator_workqueue_waiting", "queue=\"policy\"", policy_queue_.waiting_len());
  line("tracing_operator_workqueue_waiting", "queue=\"cluster\"", cluster_queue_.waiting_len());
  out += "# HELP tracing_operator_reconciles_in_flight Reconciles running now.\n";
  out += "# TYPE tracing_operator_reconciles_in_flight gauge\n";
  line("tracing_operator_reconciles_in_flight", "", static_cast<uint64_t>(in_flight_.load()));
  out += "# HELP tracing_operator_api_requests_total Requests sent to the API server.\n";
  out += "# TYPE tracing_operator_api_requests_total counter\n";
  line("tracing_operator_api_requests_total", "kind=\"read\"", client_.counts().reads);
  line("tracing_operator_api_requests_total", "kind=\"write\"", client_.counts().writes);
  out += "# HELP tracing_operator_informer_objects Objects held by an informer's store.\n";
  out += "# TYPE tracing_operator_informer_objects gauge\n";
  out +=
      "# HELP tracing_operator_informer_relists_total Lists made by an informer (1 + relists).\n";
  for (const runtime::Informer* inf :
       {&deployments_, &policies_, &namespaces_, &config_maps_, &services_}) {
    std::string l = "resource=\"" + inf->resource().plural + "\"";
    line("tracing_operator_informer_objects", l, inf->store().size());
    line("tracing_operator_informer_lists_total", l, inf->stats().lists);
  }
  out += "# HELP process_resident_memory_bytes Resident memory size in bytes.\n";
  out += "# TYPE process_resident_memory_bytes gauge\n";
  line("process_resident_memory_bytes", "", runtime::resident_memory_bytes());
  return out;
}

void Manager::stop() {
  std::lock_guard<std::mutex> g(lifecycle_mu_);
  if (stopped_) return;
  stopped_ = true;
  // No new work, however long the queues: only the reconciles already running finish, within
  // the grace period; past it, their requests are abandoned (every reconcile is level-triggered,
  // so the next run, here or in another replica, picks up where one was cut).
  for (runtime::WorkQueue* q : {&workload_queue_, &policy_queue_, &cluster_queue_}) {
    q->shut_down_discarding();
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.shutdown_grace;
  bool drained = true;
  for (runtime::WorkQueue* q : {&workload_queue_, &policy_queue_, &cluster_queue_}) {
    auto left = std::max(deadline - std::chrono::steady_clock::now(),
                         std::chrono::steady_clock::duration::zero());
    drained = q->wait_drained(left) && drained;
  }
  if (!drained) {
    spdlog::warn("reconciles still running after {} s: abandoning their requests",
                 std::chrono::duration_cast<std::chrono::seconds>(options_.shutdown_grace).count());
  }
  // From here on nothing may reach the API server: a list or watch in progress ends at once.
  client_.shut_down();
  for (auto& t : workers_) t.join();
  workers_.clear();
  deployments_.stop();
  policies_.stop();
  namespaces_.stop();
  config_maps_.stop();
  services_.stop();
}

}  // namespace tracing::controllers
