#include "controllers/reconcilers/manager.h"

#include <spdlog/spdlog.h>

#include "controllers/apply_intent.h"
#include "controllers/naming.h"
#include "operator/runtime/http_server.h"

namespace tracing::controllers {

namespace {

// A reconciler's Action as the worker loop's outcome: when to look again, if asked.
template <typename F>
runtime::Controller::Reconcile outcome_of(F reconcile) {
  return [reconcile](const std::string& key) -> runtime::Controller::Outcome {
    auto r = reconcile(key);
    if (!r) return r.error();
    return runtime::Controller::Next{r->requeue_after, r->gone};
  };
}

// How often Manager asks whether Dapr's API is served: one discovery GET, so that installing or
// removing Dapr starts or stops watching Configurations without a restart.
constexpr auto kDaprApiRecheck = std::chrono::seconds(10);

// Every watch ends (and reconnects) well within the health bound, so a live informer loop never
// looks wedged: timeouts from a third of it (5 minutes by default, as client-go's reflector).
runtime::InformerOptions watching(const ManagerOptions& m) {
  runtime::InformerOptions o;
  o.min_watch_timeout_seconds = static_cast<int>(std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(m.health_stall_after).count() / 3));
  return o;
}

// The workloads of one kind: every one but the operator's own (a managed Jaeger's Deployment,
// which the Jaeger pass keeps whole in an informer of its own), each as the record of what a
// decision reads.
runtime::BasicInformerOptions<WorkloadRecord> workload_options(
    WorkloadKind kind, const runtime::InformerOptions& base) {
  runtime::BasicInformerOptions<WorkloadRecord> o;
  o.min_watch_timeout_seconds = base.min_watch_timeout_seconds;
  o.label_selector = kNotManagedBySelector;
  o.project = [kind](json&& d) { return record_workload(d, kind); };
  // Parsed with only what the record reads (a few KiB of DOM of a ~10 KB Deployment, where the
  // whole one takes ~75 KiB), each projected as soon as it is parsed. Pages of 100 bound the
  // response body held to ~1 MB, at 100 requests per 10,000.
  o.fields = is_read_workload_field;
  o.list_page_size = 100;
  return o;
}

runtime::InformerOptions managed_options(runtime::InformerOptions o) {
  o.label_selector = kManagedBySelector;
  o.project = [](json&& obj) {
    obj["metadata"].erase("managedFields");
    return std::move(obj);
  };
  return o;
}

runtime::InformerOptions namespace_options(runtime::InformerOptions o) {
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

// Whether an update changed nothing of a policy but its status (the echo of a status write).
bool status_only_update(const json& a, const json& b) {
  auto rest = [](const json& p) {
    json r = p;
    r.erase("status");
    if (auto m = r.find("metadata"); m != r.end() && m->is_object()) {
      m->erase("resourceVersion");
      m->erase("managedFields");
    }
    return r;
  };
  return rest(a) == rest(b);
}

// A status-only update of a policy is mostly the echo of the status pass's own write: running
// the pass again at once for it made the pass chase its own writes during a cluster-wide change
// (170 passes, each over every workload, for 1,000 Deployments). It is coalesced with the
// workload events' passes instead; a status someone else wrote is still put right, this much
// later.
constexpr std::chrono::milliseconds kStatusEchoDelay{1000};

}  // namespace

Manager::Manager(kube::Client& client, ManagerOptions options)
    : client_(client),
      options_(std::move(options)),
      events_(client.transport(), {naming::kReportingController, options_.instance}),
      deployments_(client, kube::resources::deployments(),
                   workload_options(WorkloadKind::kDeployment, watching(options_))),
      stateful_sets_(client, kube::resources::stateful_sets(),
                     workload_options(WorkloadKind::kStatefulSet, watching(options_))),
      daemon_sets_(client, kube::resources::daemon_sets(),
                   workload_options(WorkloadKind::kDaemonSet, watching(options_))),
      workloads_(deployments_, stateful_sets_, daemon_sets_),
      managed_deployments_(client, kube::resources::deployments(),
                           managed_options(watching(options_))),
      policies_(client, tracing_policies(), watching(options_)),
      namespaces_(client, kube::resources::namespaces(), namespace_options(watching(options_))),
      config_maps_(client, kube::resources::config_maps(), managed_options(watching(options_))),
      services_(client, {"", "v1", "services", true, "Service"},
                managed_options(watching(options_))),
      workload_queue_(runtime::SystemClock::instance()),
      policy_queue_(runtime::SystemClock::instance()),
      cluster_queue_(runtime::SystemClock::instance()),
      dapr_discovery_(client_),
      dapr_configs_(client_, watching(options_), [this] { enqueue_dapr(); }),
      ctx_{client_,         options_.root_namespace,
           options_.now,    events_,
           workloads_,      policies_,
           namespaces_,     cache_,
           workload_queue_, policy_queue_,
           dapr_discovery_, dapr_configs_},
      workload_reconciler_(ctx_),
      policy_reconciler_(ctx_, workload_reconciler_),
      jaeger_reconciler_(ctx_, workload_reconciler_, config_maps_, services_, managed_deployments_),
      dapr_reconciler_(ctx_, workload_reconciler_),
      workload_controller_(
          "workload", workload_queue_, options_.workers,
          outcome_of([this](const std::string& k) { return workload_reconciler_.reconcile(k); }),
          kTerminalRetry),
      policy_controller_("policy", policy_queue_, 1, outcome_of([this](const std::string& k) {
                           return policy_reconciler_.reconcile(k);
                         }),
                         kTerminalRetry),
      cluster_controller_("cluster", cluster_queue_, 1, outcome_of([this](const std::string& k) {
                            return k == "dapr" ? dapr_reconciler_.reconcile(k)
                                               : jaeger_reconciler_.reconcile(k);
                          }),
                          kTerminalRetry) {
  ctx_.max_concurrent_reverts = options_.max_concurrent_reverts;
  policy_reconciler_.verify_tallies(options_.verify_status_tally);
  ctx_.overrides.set_base(options_.override_backoff);
  policies_.add_handlers({[this](const runtime::ObjectPtr& p) {
                            cache_.upsert(*p);
                            policy_queue_.add(runtime::object_key(*p));
                            enqueue_workloads_of(*p);
                          },
                          [this](const runtime::ObjectPtr& old_p, const runtime::ObjectPtr& new_p) {
                            cache_.upsert(*new_p);
                            const bool inputs_changed = decision_inputs_changed(*old_p, *new_p);
                            if (!inputs_changed && status_only_update(*old_p, *new_p)) {
                              policy_queue_.add_after(runtime::object_key(*new_p),
                                                      kStatusEchoDelay);
                            } else {
                              policy_queue_.add(runtime::object_key(*new_p));
                            }
                            if (inputs_changed) enqueue_workloads_of(*new_p);
                          },
                          [this](const runtime::ObjectPtr& p) {
                            cache_.erase(runtime::object_key(*p));
                            // Found gone, it drops what was kept for it, its debug bump's timer
                            // included.
                            policy_queue_.add(runtime::object_key(*p));
                            enqueue_workloads_of(*p);
                          }});
  auto on_deployment = [this](const RecordPtr& d) {
    enqueue_cluster();
    workload_queue_.add(d->key());
    enqueue_policies_for_namespace(*d->ns);
  };
  // An env change (the operator's own writes during a cluster-wide change) cannot change which
  // Jaeger or Dapr Configuration any workload needs: no O(N) Jaeger/Dapr pass for it.
  auto on_env_change = [this](const RecordPtr& d) {
    workload_queue_.add(d->key());
    enqueue_policies_for_namespace(*d->ns);
  };
  auto on_managed = [this](const runtime::ObjectPtr&) { enqueue_cluster(); };
  for (runtime::Informer* inf : {&config_maps_, &services_, &managed_deployments_}) {
    inf->add_handlers(
        {on_managed,
         [on_managed](const runtime::ObjectPtr&, const runtime::ObjectPtr& o) { on_managed(o); },
         on_managed});
  }
  // Every change goes to the policies' status tallies (status_tally.h) with the version it
  // replaced; the store already holds the new one.
  const runtime::BasicHandlers<WorkloadRecord> on_workload{
      [this, on_deployment](const RecordPtr& d) {
        policy_reconciler_.workload_changed(nullptr, d->key(), *d->ns);
        on_deployment(d);
      },
      [this, on_deployment, on_env_change](const RecordPtr& old_d, const RecordPtr& d) {
        policy_reconciler_.workload_changed(old_d, d->key(), *d->ns);
        if (!old_d->same_but_env(*d)) return on_deployment(d);
        if (!old_d->same_but_status(*d)) return on_env_change(d);
        // A rollout moved, or something no decision reads changed: the
        // counts of the policies that can reach it, and, when it ended or
        // failed, the changes waiting for a rollout budget.
        workload_reconciler_.status_changed(old_d, d);
        enqueue_policies_for_namespace(*d->ns);
        if (rollout_state(*old_d) != rollout_state(*d)) {
          workload_reconciler_.invalidate_budgets();
          for (const auto& key : workload_reconciler_.waiting_keys()) workload_queue_.add(key);
        }
      },
      [this, on_deployment](const RecordPtr& d) {
        policy_reconciler_.workload_changed(d, d->key(), *d->ns);
        on_deployment(d);
      }};
  for (WorkloadInformer* inf : {&deployments_, &stateful_sets_, &daemon_sets_}) {
    inf->add_handlers(on_workload);
  }
  auto namespace_came_or_went = [this](const runtime::ObjectPtr&) {
    ++ctx_.namespace_labels_version;
  };
  namespaces_.add_handlers(
      {namespace_came_or_went,
       [this](const runtime::ObjectPtr& old_n, const runtime::ObjectPtr& new_n) {
         if ((*old_n)["metadata"].value("labels", json::object()) ==
             (*new_n)["metadata"].value("labels", json::object())) {
           return;
         }
         ++ctx_.namespace_labels_version;
         std::string ns = (*new_n)["metadata"]["name"];
         for (const auto& d : workloads_.list_namespace(ns)) {
           workload_queue_.add(d->key());
         }
         enqueue_policies_for_namespace(ns);
       },
       namespace_came_or_went});
}

Manager::~Manager() { stop(); }

// Coalesces bursts: the Jaeger pass looks at every workload, so it runs at most every 300 ms.
void Manager::enqueue_cluster() {
  cluster_queue_.add_after("jaeger", std::chrono::milliseconds(300));
  enqueue_dapr();
}

void Manager::enqueue_dapr() { cluster_queue_.add_after("dapr", std::chrono::milliseconds(300)); }

void Manager::check_dapr_api() {
  if (!dapr_configs_.follow(dapr_discovery_.refresh())) return;
  for (const auto& k : workloads_.keys()) workload_queue_.add(k);
  for (const auto& k : policies_.store().keys()) policy_queue_.add(k);
  enqueue_cluster();
}

void Manager::enqueue_workloads_of(const json& policy) {
  enqueue_cluster();
  std::string ns = policy["metadata"].value("namespace", "");
  auto ds = ns == options_.root_namespace ? workloads_.list() : workloads_.list_namespace(ns);
  for (const auto& d : ds) workload_queue_.add(d->key());
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
  stateful_sets_.start();
  daemon_sets_.start();
  managed_deployments_.start();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  config_maps_.start();
  services_.start();
  dapr_configs_.follow(dapr_discovery_.refresh());
  {
    std::lock_guard<std::mutex> g(resync_mu_);
    if (!dapr_api_.joinable() && !resync_stop_) {
      dapr_api_ = std::thread([this] {
        std::unique_lock<std::mutex> g(resync_mu_);
        while (!resync_cv_.wait_for(g, kDaprApiRecheck, [this] { return resync_stop_; })) {
          g.unlock();
          check_dapr_api();
          g.lock();
        }
      });
    }
  }
  for (runtime::InformerBase* inf : {static_cast<runtime::InformerBase*>(&namespaces_),
                                     static_cast<runtime::InformerBase*>(&policies_),
                                     static_cast<runtime::InformerBase*>(&deployments_),
                                     static_cast<runtime::InformerBase*>(&stateful_sets_),
                                     static_cast<runtime::InformerBase*>(&daemon_sets_),
                                     static_cast<runtime::InformerBase*>(&managed_deployments_),
                                     static_cast<runtime::InformerBase*>(&config_maps_),
                                     static_cast<runtime::InformerBase*>(&services_)}) {
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
  // The Dapr Configurations, for the first decisions (Context::dapr_names): waited for a while
  // only, since the operator works without them (the Dapr pass waits for them itself).
  if (auto dapr = dapr_configs_.informer()) {
    const auto until =
        std::min(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(10));
    while (!dapr->wait_for_sync(std::chrono::milliseconds(100)) && !cancelled() &&
           std::chrono::steady_clock::now() < until) {
    }
  }
  spdlog::info(
      "informers synced: {} deployments, {} statefulsets, {} daemonsets, {} policies, {} "
      "namespaces",
      deployments_.store().size(), stateful_sets_.store().size(), daemon_sets_.store().size(),
      policies_.store().size(), namespaces_.store().size());
  if (with_workers) start_workers();
  return kube::Ok{};
}

void Manager::start_workers() {
  // The Dapr names taken, before the first workload decision (called once, before the cluster
  // worker runs). Outside the lock: a stop() meanwhile shuts the client down, ending the list.
  dapr_reconciler_.publish_taken_names();
  std::lock_guard<std::mutex> g(lifecycle_mu_);
  if (stopped_ || !workers_.empty()) return;
  if (options_.resync_period > std::chrono::milliseconds(0)) {
    // Level-triggered safety net: every workload, policy and pass is looked at again, so drift
    // nothing announced (a fixed RBAC rule, a missed event) is caught. A converged cluster costs
    // decisions, not writes.
    resync_ = std::thread([this] {
      std::unique_lock<std::mutex> g(resync_mu_);
      while (!resync_cv_.wait_for(g, options_.resync_period, [this] { return resync_stop_; })) {
        for (const auto& k : workloads_.keys()) workload_queue_.add(k);
        for (const auto& k : policies_.store().keys()) policy_queue_.add(k);
        enqueue_cluster();
      }
    });
  }
  for (int i = 0; i < options_.workers; ++i) {
    workers_.emplace_back([this, i] { workload_controller_.run_worker(i); });
  }
  workers_.emplace_back([this] { policy_controller_.run_worker(0); });
  workers_.emplace_back([this] { cluster_controller_.run_worker(0); });
  cluster_queue_.add("jaeger");
  cluster_queue_.add("dapr");
}

std::vector<std::pair<std::string, std::shared_ptr<const runtime::InformerBase>>>
Manager::informers() const {
  auto member = [](const runtime::InformerBase& i) {
    return std::shared_ptr<const runtime::InformerBase>(std::shared_ptr<void>(), &i);
  };
  std::vector<std::pair<std::string, std::shared_ptr<const runtime::InformerBase>>> out = {
      {"deployments", member(deployments_)},  {"statefulsets", member(stateful_sets_)},
      {"daemonsets", member(daemon_sets_)},   {"managed-deployments", member(managed_deployments_)},
      {"tracingpolicies", member(policies_)}, {"namespaces", member(namespaces_)},
      {"configmaps", member(config_maps_)},   {"services", member(services_)}};
  if (auto dapr = dapr_configs_.informer()) out.emplace_back("dapr-configurations", dapr);
  return out;
}

uint64_t Manager::activity() const {
  uint64_t n = reconciles();
  for (const auto& [name, informer] : informers()) {
    n += informer->stats().lists.load() + informer->stats().events.load();
  }
  const runtime::EventRecorder::Stats& events = events_.stats();
  return n + events.created + events.series_updated + events.failed + events.forgotten;
}

bool Manager::ready() const {
  return deployments_.live() && stateful_sets_.live() && daemon_sets_.live() &&
         managed_deployments_.live() && policies_.live() && namespaces_.live() &&
         config_maps_.live() && services_.live();
}

std::string Manager::unhealthy() const {
  for (const auto* c : {&workload_controller_, &policy_controller_, &cluster_controller_}) {
    auto running = c->longest_running();
    if (running && running->for_ > options_.health_stall_after) {
      return c->name() + " worker " + std::to_string(running->slot) +
             ": one reconcile running for " +
             std::to_string(
                 std::chrono::duration_cast<std::chrono::seconds>(running->for_).count()) +
             " s";
    }
  }
  for (const auto& [name, inf] : informers()) {
    if (inf->since_progress() > options_.health_stall_after) {
      return "informer " + name + ": no progress for " +
             std::to_string(
                 std::chrono::duration_cast<std::chrono::seconds>(inf->since_progress()).count()) +
             " s";
    }
  }
  return "";
}

std::string Manager::metrics() const {
  runtime::MetricsWriter w;
  runtime::Controller::write_metrics(
      w, "tracing_operator_", {&workload_controller_, &policy_controller_, &cluster_controller_});
  w.family("tracing_operator_decisions_total", "counter",
           "Workload decisions computed for the passes (made once per change of their inputs).");
  w.sample("tracing_operator_decisions_total", "", workload_reconciler_.decisions());
  w.family("tracing_operator_status_workload_reads_total", "counter",
           "Workload versions read by the policies' status passes (each reads the versions "
           "replaced and added since its last pass; every workload it can reach when it counts "
           "afresh).");
  w.sample("tracing_operator_status_workload_reads_total", "", policy_reconciler_.status_reads());

  w.family("tracing_operator_api_requests_total", "counter",
           "Requests sent to the API server, by kind (read or write).");
  w.sample("tracing_operator_api_requests_total", "kind=\"read\"", client_.counts().reads);
  w.sample("tracing_operator_api_requests_total", "kind=\"write\"", client_.counts().writes);
  w.family("tracing_operator_api_responses_total", "counter",
           "Requests to the API server by HTTP method (WATCH for watches) and response code "
           "(<error> when none came).");
  for (const auto& [key, n] : client_.counts().by_method_and_code()) {
    w.sample("tracing_operator_api_responses_total",
             "method=\"" + key.first + "\",code=\"" + key.second + "\"", static_cast<double>(n));
  }

  w.family("tracing_operator_api_requests_by_resource_total", "counter",
           "Requests sent to the API server by verb (a list counts each page) and resource.");
  for (const auto& [key, n] : client_.counts().by_verb_and_resource()) {
    w.sample("tracing_operator_api_requests_by_resource_total",
             "verb=\"" + key.first + "\",resource=\"" + key.second + "\"", static_cast<double>(n));
  }

  const auto all = informers();
  w.family("tracing_operator_informer_objects", "gauge", "Objects held by an informer's store.");
  for (const auto& [name, inf] : all) {
    w.sample("tracing_operator_informer_objects", "resource=\"" + name + "\"",
             static_cast<double>(inf->size()));
  }
  w.family("tracing_operator_informer_lists_total", "counter",
           "Lists made by an informer (1 + relists).");
  for (const auto& [name, inf] : all) {
    w.sample("tracing_operator_informer_lists_total", "resource=\"" + name + "\"",
             static_cast<double>(inf->stats().lists.load()));
  }

  // Workloads by state and active debug bumps, as the policies' status last said (summed over
  // policies: a workload counts once, under the policy that governs it).
  double configured = 0, pending = 0, conflicted = 0, opted_out = 0, bumps = 0;
  for (const auto& p : policies_.store().list()) {
    const json status = p->value("status", json::object());
    const json counts = status.value("counts", json::object());
    auto n = [&counts](const char* k) {
      auto it = counts.find(k);
      return it != counts.end() && it->is_number() ? it->get<double>() : 0.0;
    };
    configured += n("configured");
    pending += n("pending");
    conflicted += n("conflicted");
    opted_out += n("optedOut");
    const json debug = status.value("debug", json::object());
    if (!debug.empty() && !debug.value("expired", false)) ++bumps;
  }
  w.family("tracing_operator_workloads", "gauge",
           "Workloads by state, from the policies' status: configured, pending (waiting for a "
           "write or a paced rollout), conflicted (a variable the workload sets itself), "
           "opted_out.");
  w.sample("tracing_operator_workloads", "state=\"configured\"", configured);
  w.sample("tracing_operator_workloads", "state=\"pending\"", pending);
  w.sample("tracing_operator_workloads", "state=\"conflicted\"", conflicted);
  w.sample("tracing_operator_workloads", "state=\"opted_out\"", opted_out);
  w.family("tracing_operator_debug_bumps_active", "gauge",
           "Policies whose debug bump is running now.");
  w.sample("tracing_operator_debug_bumps_active", "", bumps);

  events_.write_metrics(w, "tracing_operator_");

  w.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  w.sample("process_resident_memory_bytes", "",
           static_cast<double>(runtime::resident_memory_bytes()));
  return std::move(w.text());
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
  // The Events the last reconciles emitted go out, for at most a second.
  events_.stop();
  // From here on nothing may reach the API server: a list or watch in progress ends at once.
  client_.shut_down();
  {
    std::lock_guard<std::mutex> rg(resync_mu_);
    resync_stop_ = true;
  }
  resync_cv_.notify_all();
  if (resync_.joinable()) resync_.join();
  if (dapr_api_.joinable()) dapr_api_.join();
  for (auto& t : workers_) t.join();
  workers_.clear();
  deployments_.stop();
  stateful_sets_.stop();
  daemon_sets_.stop();
  managed_deployments_.stop();
  policies_.stop();
  namespaces_.stop();
  config_maps_.stop();
  services_.stop();
  dapr_configs_.follow(false);
}

}  // namespace tracing::controllers
