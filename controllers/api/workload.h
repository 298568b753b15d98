// The typed view of a workload the decision code reads (Workload), and the compact record the
// workload informers keep of each one, from which that view is made (WorkloadRecord). Workloads
// are Deployments, StatefulSets and DaemonSets (apps/v1): they share the pod template, and differ
// in what their status says of a rollout. Reading is total: whatever is malformed is skipped,
// never thrown on.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "controllers/api/atom.h"
#include "controllers/api/json.h"
#include "controllers/api/managed_fields.h"
#include "controllers/api/resource_version.h"
#include "controllers/api/selector.h"
#include "controllers/api/uid.h"

namespace tracing::controllers {

// The kinds of workload (SPEC §4, a policy's spec.kinds).
enum class WorkloadKind { kDeployment, kStatefulSet, kDaemonSet };
inline constexpr WorkloadKind kWorkloadKinds[] = {
    WorkloadKind::kDeployment, WorkloadKind::kStatefulSet, WorkloadKind::kDaemonSet};
// "Deployment", "StatefulSet", "DaemonSet": the kind as the API names it.
std::string_view kind_name(WorkloadKind k);
// The kind named `name` (kind_name()), or nullopt.
std::optional<WorkloadKind> kind_named(std::string_view name);
// The key of a workload: "namespace/name" for a Deployment, "namespace/statefulset/name" and
// "namespace/daemonset/name" for the others (a name holds no '/', so the key says the kind).
std::string workload_key(WorkloadKind k, std::string_view ns, std::string_view name);
struct WorkloadRef {
  WorkloadKind kind;
  std::string ns;
  std::string name;
};
// The parts of a workload_key(), or nullopt when `key` is not one.
std::optional<WorkloadRef> parse_workload_key(std::string_view key);

// What the operator reads of a workload's annotations (metadata and pod template): its own
// (tracing.rollout.dev/*) and Dapr's (dapr.io/*). Others (kubectl's last-applied configuration
// alone is kilobytes) are dropped when reading.
bool is_read_annotation(std::string_view key);
// Env entries whose value the operator reads: the OpenTelemetry variables (OTEL_*). Of the others
// only the name is kept (their order matters to an exact revert, their values never do).
bool is_read_env_value(std::string_view name);

struct EnvVar {
  std::string name;
  json entry;  // the whole env entry as in the pod template: {"name","value"} or
               // {"name","valueFrom"}; {"name"} alone when !is_read_env_value(name)
  bool operator==(const EnvVar& o) const { return name == o.name && entry == o.entry; }
};

struct Container {
  std::string name;
  std::vector<EnvVar> env;  // in the template's order
};

// Bookkeeping annotation on a workload that read_workload() did not trust: present,
// but not (or no longer) owned by the operator's field manager, so someone else wrote its value.
struct UntrustedAnnotation {
  std::string key;                    // e.g. tracing.rollout.dev/policies
  std::vector<std::string> managers;  // who owns it now ("" when managedFields name nobody)
  bool operator==(const UntrustedAnnotation&) const = default;
};

// The typed view of a workload: exactly what the decision reads.
struct Workload {
  WorkloadKind kind = WorkloadKind::kDeployment;
  std::string ns;
  std::string name;
  std::string uid;
  Labels labels;                // metadata.labels
  Labels annotations;           // metadata.annotations (is_read_annotation keys)
  Labels template_labels;       // spec.template.metadata.labels
  Labels template_annotations;  // spec.template.metadata.annotations (is_read_annotation keys)
  std::vector<Container> containers;
  // From managedFields: for each container and env variable, the managers owning the entry's
  // value (f:value or f:valueFrom), e.g. {"app": {"LOG_LEVEL": {"kubectl-edit"}}}.
  // Also the owners of pod-template annotations (kTemplateAnnotationOwners) and of
  // metadata.annotations (kAnnotationOwners).
  EnvOwners env_owners;
  // The operator's bookkeeping annotations (policies, overridden-env, original-env-order) that
  // were present but not owned by the operator: they are left out of `annotations`, so nothing
  // acts on them (SPEC §4: tampered bookkeeping is reported, never replayed).
  std::vector<UntrustedAnnotation> untrusted;

  std::string key() const { return workload_key(kind, ns, name); }
};

// What a workload's spec and status say of its rollout (rollout_state() reads it, as `kubectl
// rollout status` reads each kind).
struct RolloutStatus {
  int64_t observed_generation = 0;
  // The counts are int32 in the API (a record keeps 10,000 of these).
  // Deployment and StatefulSet.
  int32_t replicas = 0;
  int32_t updated_replicas = 0;
  int32_t available_replicas = 0;  // Deployment
  int32_t ready_replicas = 0;      // StatefulSet
  // DaemonSet.
  int32_t desired_number_scheduled = 0;
  int32_t updated_number_scheduled = 0;
  int32_t number_available = 0;
  bool progress_deadline_exceeded = false;  // Deployment: Progressing, ProgressDeadlineExceeded
  bool revisions_differ = false;            // StatefulSet: currentRevision != updateRevision
  bool operator==(const RolloutStatus&) const = default;
};

// What a reader derived from one version of a record (the workload reconciler's decision), kept
// with that version: it goes when the version goes, so it needs no map of its own, no key and no
// resourceVersion to tell whether it is still of this version. Neither copied nor kept by an
// assignment (a copy is another object, an assigned record another version). Thread-safe: a
// mutex of a small fixed set, chosen by the memo's address, guards it (a mutex each would cost
// 40 bytes a record; std::atomic<std::shared_ptr> in libstdc++ 12 is a lock bit ThreadSanitizer
// reports as a race).
class RecordMemo {
 public:
  RecordMemo() = default;
  RecordMemo(const RecordMemo&) {}
  RecordMemo& operator=(const RecordMemo& other) {
    if (this != &other) store(nullptr);
    return *this;
  }
  std::shared_ptr<const void> load() const {
    std::lock_guard g(stripe());
    return p_;
  }
  void store(std::shared_ptr<const void> p) const {
    {
      std::lock_guard g(stripe());
      p_.swap(p);
    }
    // The previous memo, if this was its last holder, is destroyed here, outside the lock.
  }
  // Takes `from`'s memo when this one holds none: a status-only update of the record, whose
  // derived facts read nothing of what changed.
  void adopt(const RecordMemo& from) const {
    auto p = from.load();
    if (!p) return;
    std::lock_guard g(stripe());
    if (!p_) p_ = std::move(p);
  }

 private:
  std::mutex& stripe() const {
    static std::array<std::mutex, 64> stripes;
    return stripes[(reinterpret_cast<std::uintptr_t>(this) / alignof(std::max_align_t)) %
                   stripes.size()];
  }
  mutable std::shared_ptr<const void> p_;
};

// Which policy status tallies count this version of a workload (status_tally.h): a small epoch
// per tally slot. Like the memo it belongs to one version: a copy starts uncounted. Read and
// written by the policy worker only.
class TallyMarks {
 public:
  static constexpr int kSlots = 4;
  TallyMarks() = default;
  TallyMarks(const TallyMarks&) {}
  TallyMarks& operator=(const TallyMarks&) {
    bits_ = 0;
    return *this;
  }
  // The epoch slot `s` marked this version with (0: none).
  uint8_t get(int s) const { return (bits_ >> (4 * s)) & 0xF; }
  void set(int s, uint8_t epoch) const {
    bits_ = static_cast<uint16_t>((bits_ & ~(0xF << (4 * s))) | ((epoch & 0xF) << (4 * s)));
  }

 private:
  mutable uint16_t bits_ = 0;
};

// The Deployment informer's record: a Workload (read_workload(), bookkeeping trust
// included) plus what pacing reads, held compactly: every string that repeats across workloads
// (label and annotation keys and values, container and env names, field managers, the OTEL_*
// values) is an Atom of 4 bytes, env entries the operator never reads are kept as names only, and
// the four label and annotation lists share one vector. A Deployment of two containers and 20 env
// entries takes ~75 KiB as a JSON DOM, ~11 KiB projected; the operator holds ~2 KiB per such
// Deployment in all (README, Benchmarks: the record, its decision and the stores' indexes).
class WorkloadRecord {
 public:
  // An interned string (4 bytes): equal strings share one entry while any record holds them.
  using Name = Atom;

  // (Members in an order that leaves no padding between them: 10,000 records.)
  WorkloadKind kind = WorkloadKind::kDeployment;
  int32_t replicas = 1;  // spec.replicas (absent: 1)
  Name ns;               // interned: a cluster has far fewer namespaces than workloads
  // spec.updateStrategy (StatefulSet, DaemonSet): type OnDelete (a template change rolls no
  // pod), and a StatefulSet's rollingUpdate.partition (-1: no rollingUpdate).
  int32_t partition = -1;
  std::string name;
  Uid uid;
  ResourceVersion resource_version;
  int64_t generation = 0;
  RolloutStatus status;
  RecordMemo memo;  // the workload reconciler's Facts of this version
  bool on_delete = false;
  bool deleting = false;  // metadata.deletionTimestamp set
  TallyMarks tallied;     // in the 2 bytes before owners_ that were padding

  std::string key() const { return workload_key(kind, *ns, name); }
  // What an Event's `regarding` names: apiVersion, kind, namespace, name, uid.
  json reference() const;
  // The typed view, exactly as read_workload() read it from the object.
  Workload workload() const;
  // An annotation the view keeps (is_read_annotation and trusted), or nullptr.
  const std::string* annotation(std::string_view key) const;
  // Equal in everything but resourceVersion and status: a status-only update.
  bool same_but_status(const WorkloadRecord& o) const;
  // Equal in everything but resourceVersion, generation, status and the containers' env: what
  // the operator's own env writes change. Which Jaeger and Dapr Configuration a workload needs
  // is decided from the rest (labels, annotations, ownership), so such an update needs neither
  // pass.
  bool same_but_env(const WorkloadRecord& o) const;

 private:
  friend WorkloadRecord record_workload(const json& workload, WorkloadKind kind);
  struct Pair {  // both interned: most values repeat too (tier: prod, app.kubernetes.io/…)
    Name key;
    Name value;
    bool operator==(const Pair& o) const = default;
  };
  struct Env {  // an entry whose value is read (is_read_env_value)
    Name name;
    // A plain {"name","value"} entry's value; any other shape (valueFrom…) whole, as JSON text.
    // Interned: the operator's values repeat across workloads.
    Name value;
    bool whole = false;  // `value` is the whole entry
    bool operator==(const Env& o) const;
  };
  struct Box {
    Name name;
    Name env;                 // every entry's name, in order (append_name(); shared by
                              // the workloads of one template)
    std::vector<Env> values;  // the entries whose value is read, in order
    bool operator==(const Box& o) const;
  };
  // Labels, annotations, the pod template's labels and its annotations, one after the other:
  // list i is pairs_[ends_[i - 1], ends_[i]) (one allocation where four vectors took four).
  enum PairList { kLabels, kAnnotations, kTemplateLabels, kTemplateAnnotations };
  std::span<const Pair> pairs(PairList list) const {
    uint32_t begin = list == kLabels ? 0 : ends_[list - 1];
    return std::span<const Pair>(pairs_).subspan(begin, ends_[list] - begin);
  }
  bool same_pairs(const WorkloadRecord& o) const {
    return pairs_ == o.pairs_ && std::equal(std::begin(ends_), std::end(ends_), o.ends_);
  }
  // env_owners, encoded whole (append_name(): group, key and the encoded set of managers of each
  // field, in order): the workloads one configuration made share it. Null: none.
  Name owners_;
  std::vector<Pair> pairs_;
  uint32_t ends_[4] = {};
  std::vector<Box> containers_;
  std::vector<UntrustedAnnotation> untrusted_;
};

// The informers' projection of a workload of `kind` (list items do not say their kind): its
// record.
WorkloadRecord record_workload(const json& workload, WorkloadKind kind = WorkloadKind::kDeployment);

// Whether the record can read the member of a Deployment at `path` (the keys from the
// Deployment's root down to it; array levels add none, as in the informer's field filters):
// whatever read_workload() and record_workload() read is kept, so a Deployment
// parsed with only these members has the record of the whole object. What it drops is most of
// a Deployment: the last-applied-configuration annotation, other managers' fields, the pod
// spec but the containers' names and env, most of the status. The informer parses list pages
// and watch events with it, so no whole Deployment is ever built.
bool is_read_workload_field(std::span<const std::string> path);

// Reads a Deployment. The operator's bookkeeping annotations are kept only
// when managedFields show the operator's field manager owns them: anyone who can edit the
// Deployment can write them, and the finalizer and the revert act on them. Server-side apply
// guarantees an owned value is the one the operator applied (an update that changes a value
// takes its ownership), so ownership is the proof.
Workload read_workload(const json& deployment, WorkloadKind kind = WorkloadKind::kDeployment);

}  // namespace tracing::controllers
