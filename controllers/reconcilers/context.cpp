#include "controllers/reconcilers/context.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

#include "controllers/dapr.h"
#include "controllers/naming.h"

namespace tracing::controllers {

kube::Resource tracing_policies() {
  return {naming::kGroup, naming::kVersion, naming::kPlural, true, naming::kKind};
}

namespace {

// Whether two versions of a policy decide the same: the same spec in force (its generation),
// the same state and the same debug record. A status update that only changes counts or
// conditions changes none of these.
bool same_in_force(const Policy& a, const Policy& b) {
  auto debug = [](const Policy& p) {
    return p.debug_status ? std::make_tuple(p.debug_status->hash, p.debug_status->started_at,
                                            p.debug_status->expires_at)
                          : std::make_tuple(std::string(), WallTime{}, WallTime{});
  };
  return a.uid == b.uid && a.deleting == b.deleting && a.spec_known == b.spec_known &&
         a.spec_generation == b.spec_generation && a.spec_error == b.spec_error &&
         debug(a) == debug(b);
}

}  // namespace

void PolicyCache::upsert(const json& object) {
  std::string key = runtime::object_key(object);
  bool finalized = false;
  for (const auto& f : object["metadata"].value("finalizers", json::array())) {
    finalized = finalized || f == naming::kFinalizer;
  }
  std::unique_lock g(mu_);
  if (finalized ? finalized_.insert(key).second : finalized_.erase(key) > 0) ++version_;
  auto previous = policies_.find(key);
  std::string error;
  std::optional<Policy> in_force = policy_in_force(
      object, previous == policies_.end() ? nullptr : previous->second.get(), &error);
  if (in_force) {
    const bool news = previous == policies_.end() ||
                      previous->second->spec_error != in_force->spec_error ||
                      previous->second->generation != in_force->generation;
    if (!in_force->spec_error.empty() && news) {
      spdlog::warn(
          "policy {}: generation {} cannot be used ({}); {}", key, in_force->generation,
          in_force->spec_error,
          in_force->spec_known
              ? "generation " + std::to_string(in_force->spec_generation) + " stays in force"
              : std::string("no earlier spec known: it holds what it configured"));
    }
    if (previous == policies_.end() || !same_in_force(*previous->second, *in_force)) ++version_;
    policies_[key] = std::make_shared<const Policy>(std::move(*in_force));
    unreadable_.erase(key);
  } else {
    if (policies_.erase(key)) ++version_;
    unreadable_[key] = error;
  }
}

void PolicyCache::erase(const std::string& key) {
  std::unique_lock g(mu_);
  ++version_;
  policies_.erase(key);
  unreadable_.erase(key);
  finalized_.erase(key);
}

std::vector<std::shared_ptr<const Policy>> PolicyCache::all() const {
  std::shared_lock g(mu_);
  std::vector<std::shared_ptr<const Policy>> out;
  out.reserve(policies_.size());
  for (const auto& [k, p] : policies_) {
    if (finalized_.count(k)) out.push_back(p);
  }
  return out;
}

std::shared_ptr<const Policy> PolicyCache::get(const std::string& key) const {
  std::shared_lock g(mu_);
  auto it = policies_.find(key);
  return it == policies_.end() ? nullptr : it->second;
}

std::string PolicyCache::unknown_spec() const {
  for (const auto& p : all()) {
    if (!p->deleting && !p->spec_known) return p->key();
  }
  return "";
}

std::string PolicyCache::error(const std::string& key) const {
  std::shared_lock g(mu_);
  if (auto it = policies_.find(key); it != policies_.end()) return it->second->spec_error;
  auto it = unreadable_.find(key);
  return it == unreadable_.end() ? "" : it->second;
}

bool DaprDiscovery::served() {
  std::lock_guard<std::mutex> g(mu_);
  auto now = std::chrono::steady_clock::now();
  if (checked_ != std::chrono::steady_clock::time_point{} &&
      now - checked_ < std::chrono::seconds(30)) {
    return served_;
  }
  auto r = client_.is_served("dapr.io", "v1alpha1", "configurations");
  if (r) {
    served_ = *r;
    checked_ = now;
  }  // on an error keep the last answer and ask again next time
  return served_;
}

bool DaprDiscovery::refresh() {
  auto r = client_.is_served("dapr.io", "v1alpha1", "configurations");
  std::lock_guard<std::mutex> g(mu_);
  if (r) {
    served_ = *r;
    checked_ = std::chrono::steady_clock::now();
  }
  return served_;
}

DaprConfigurations::DaprConfigurations(kube::Client& client, runtime::InformerOptions options,
                                       std::function<void()> on_change)
    : client_(client), options_(std::move(options)), on_change_(std::move(on_change)) {
  options_.project = [](json&& c) { return configuration_view(std::move(c)); };
}

DaprConfigurations::~DaprConfigurations() { follow(false); }

bool DaprConfigurations::follow(bool served) {
  std::shared_ptr<runtime::Informer> stopped;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (served == (informer_ != nullptr)) return false;
    if (!served) {
      stopped = std::move(informer_);
      expected_.clear();
    } else {
      informer_ = std::make_shared<runtime::Informer>(client_, dapr_configurations(), options_);
      // What the pass reads changed, unless it is the operator's own write coming back.
      auto changed = [this](const runtime::ObjectPtr& now, const std::string& key) {
        if (!is_echo(key, now)) on_change_();
      };
      informer_->add_handlers(
          {[changed](const runtime::ObjectPtr& c) { changed(c, runtime::object_key(*c)); },
           [changed](const runtime::ObjectPtr& old_c, const runtime::ObjectPtr& c) {
             json a = *old_c, b = *c;
             a["metadata"].erase("resourceVersion");
             b["metadata"].erase("resourceVersion");
             if (a == b) return;  // nothing the pass reads
             changed(c, runtime::object_key(*c));
           },
           [changed](const runtime::ObjectPtr& c) { changed(nullptr, runtime::object_key(*c)); }});
      informer_->start();
      spdlog::info("Dapr's Configuration API is served: watching Configurations");
    }
  }
  if (stopped) {
    stopped->stop();  // outside the lock: its handlers take it
    spdlog::info("Dapr's Configuration API is not served any more: Configurations not watched");
  }
  return true;
}

std::shared_ptr<const runtime::Informer> DaprConfigurations::informer() const {
  std::lock_guard<std::mutex> g(mu_);
  return informer_;
}

void DaprConfigurations::writing(const std::string& key, const std::string& from) {
  std::lock_guard<std::mutex> g(mu_);
  expected_[key] = {from, std::nullopt, {}, std::chrono::steady_clock::now()};
}

void DaprConfigurations::wrote(const std::string& key, const std::string& to) { settle(key, to); }

void DaprConfigurations::not_written(const std::string& key) { settle(key, std::nullopt); }

void DaprConfigurations::settle(const std::string& key, const std::optional<std::string>& to) {
  bool changed = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = expected_.find(key);
    if (it == expected_.end()) return;
    Expectation& e = it->second;
    bool echoed = false;
    for (const auto& rv : e.held) {
      if (to && rv == *to) {
        echoed = true;
      } else {
        changed = true;  // someone else's version, or a write that did not happen
      }
    }
    if (!to || echoed || *to == e.from) {
      expected_.erase(it);  // nothing more will come of it
    } else {
      e.to = to;
      e.held.clear();
    }
  }
  if (changed) on_change_();
}

bool DaprConfigurations::is_echo(const std::string& key, const runtime::ObjectPtr& now) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = expected_.find(key);
  if (it == expected_.end()) return false;
  Expectation& e = it->second;
  const std::string rv = now ? (*now)["metadata"].value("resourceVersion", "") : "";
  if (!e.to) {  // in flight: told apart when it returns
    e.held.push_back(rv);
    return true;
  }
  if (rv == *e.to) {
    expected_.erase(it);
    return true;
  }
  if (rv != e.from) expected_.erase(it);  // moved past what was written from
  return false;
}

std::set<std::string> DaprConfigurations::unechoed() const {
  std::lock_guard<std::mutex> g(mu_);
  std::set<std::string> out;
  if (!informer_) return out;
  const auto now = std::chrono::steady_clock::now();
  for (auto it = expected_.begin(); it != expected_.end();) {
    runtime::ObjectPtr c = informer_->store().get(it->first);
    const std::string rv = c ? (*c)["metadata"].value("resourceVersion", "") : "";
    const bool pending =
        (!it->second.to || rv == it->second.from) && now - it->second.at < std::chrono::seconds(30);
    if (pending) {
      out.insert(it->first);
      ++it;
    } else {
      it = expected_.erase(it);
    }
  }
  return out;
}

TakenDaprNames::State TakenDaprNames::state(const std::string& ns, const std::string& name) const {
  std::shared_lock g(mu_);
  if (!known_) return State::kUnknown;
  return taken_.count(ns + "/" + name) ? State::kTaken : State::kFree;
}

std::set<std::string> TakenDaprNames::replace(std::set<std::string> taken) {
  std::unique_lock g(mu_);
  std::set<std::string> changed;
  std::set_symmetric_difference(taken_.begin(), taken_.end(), taken.begin(), taken.end(),
                                std::inserter(changed, changed.end()));
  if (!changed.empty() || !known_) ++version_;
  taken_ = std::move(taken);
  known_ = true;
  return changed;
}

Labels Context::namespace_labels(const std::string& ns) const {
  Labels out;
  if (auto obj = namespaces.store().get(ns)) {
    const json labels = (*obj)["metadata"].value("labels", json::object());
    for (const auto& [k, v] : labels.items()) {
      if (v.is_string()) out[k] = v.get<std::string>();
    }
  }
  return out;
}

bool Context::namespace_terminating(const std::string& ns) const {
  auto obj = namespaces.store().get(ns);
  return obj && (*obj)["metadata"].contains("deletionTimestamp");
}

std::vector<RecordPtr> Context::workloads_in_scope(const Policy& p) const {
  if (p.ns == root_namespace) return workloads.list();
  return workloads.list_namespace(p.ns);
}

kube::Resource workload_resource(WorkloadKind kind) {
  return kube::resources::workloads_of_kind(kind_name(kind));
}

RecordPtr Workloads::get(const std::string& key) const {
  auto ref = parse_workload_key(key);
  if (!ref) return nullptr;
  return informer(ref->kind).store().get(ref->ns + "/" + ref->name);
}

std::vector<RecordPtr> Workloads::list() const {
  std::vector<RecordPtr> out;
  for (const WorkloadInformer* i : informers_) {
    auto some = i->store().list();
    out.insert(out.end(), std::make_move_iterator(some.begin()),
               std::make_move_iterator(some.end()));
  }
  return out;
}

std::vector<RecordPtr> Workloads::list_namespace(const std::string& ns) const {
  std::vector<RecordPtr> out;
  for (const WorkloadInformer* i : informers_) {
    auto some = i->store().list_namespace(ns);
    out.insert(out.end(), std::make_move_iterator(some.begin()),
               std::make_move_iterator(some.end()));
  }
  return out;
}

std::vector<std::string> Workloads::keys() const {
  std::vector<std::string> out;
  for (const auto& r : list()) out.push_back(r->key());
  return out;
}

size_t Workloads::size() const {
  size_t n = 0;
  for (const WorkloadInformer* i : informers_) n += i->store().size();
  return n;
}

}  // namespace tracing::controllers
