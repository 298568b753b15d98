// Which Events (events.k8s.io/v1) to write, and when: client-go's aggregation into series and its
// per-object spam filter, as pure bookkeeping — no I/O, no threads, time passed in. The
// EventRecorder feeds it occurrences from emit() and asks it, from its sender thread, for the next
// write.
//
// Contract:
// - Occurrences with the same EventKey within `series_window` of the previous one are one Event:
//   the first creates it; later ones raise its series.count and series.lastObservedTime, written
//   as a PATCH of that Event (client-go tools/events/event_broadcaster.go: recordToSink bumps the
//   isomorphic event's Series; createPatchBytesForSeries). Unlike client-go, which writes counts
//   past 2 only every refreshTime (30 min) or when the series finishes (finishTime, 6 min of
//   quiet), a repeat here queues its PATCH at once; repeats while that PATCH waits join it, so
//   the count the API server holds is the count observed, as soon as the sender gets to it.
// - Every write (create or series PATCH) about an object takes a token from that object's
//   bucket (client-go tools/record/events_cache.go, EventSourceObjectSpamFilter: defaultSpamBurst
//   25, defaultSpamQPS 1/300 — a burst of 25, then one every 5 minutes). Without a token, or
//   without room in the queue, no write is queued, but the occurrence still counts in its
//   series: the object's next write carries it (as client-go's EventCorrelate observes an event
//   before its spam filter skips it).
// - The queue holds keys, each at most once; a write reads the Event as it stands when the
//   sender takes it (next()), not as it stood when queued.
// - Memory is bounded: at most max_tracked Events and max_tracked object budgets (client-go's
//   maxLruCacheEntries, 4096); the least recently seen go first. A forgotten Event's next
//   occurrence starts a new Event; a forgotten budget starts full again.
#pragma once

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace tracing::runtime {

using WallTime = std::chrono::system_clock::time_point;

// The object an Event is about (events.k8s.io/v1 `regarding`).
struct ObjectReference {
  std::string api_version, kind, ns, name, uid;
  bool operator==(const ObjectReference&) const = default;
  // The correlator's maps order by it: the uid first (it tells two objects apart at its first
  // characters), then the rest. In member order, every comparison went through the apiVersion,
  // kind and namespace most Events share (a perf profile of a 10,000-Deployment change: 2 % of
  // the operator's CPU in this comparison, more in the memcmp under it).
  std::strong_ordering operator<=>(const ObjectReference& o) const {
    if (auto c = uid <=> o.uid; c != 0) return c;
    if (auto c = name <=> o.name; c != 0) return c;
    if (auto c = ns <=> o.ns; c != 0) return c;
    if (auto c = kind <=> o.kind; c != 0) return c;
    return api_version <=> o.api_version;
  }
  // From an object as the API server sends it (apiVersion, kind, metadata.namespace/name/uid).
  static ObjectReference of(const nlohmann::json& object);
};

// What makes two occurrences the same Event: client-go's eventKey (tools/events getKey) is type,
// action, reason, reportingController, reportingInstance, regarding and related. One recorder has
// one reporting controller and instance and never sets `related`, so those parts are constant and
// left out. The note is not part of it: a repeat keeps the first note (the API server refuses to
// change it, ValidateEventUpdate).
struct EventKey {
  ObjectReference regarding;
  std::string type, reason, action;
  auto operator<=>(const EventKey&) const = default;
};

struct EventCorrelatorOptions {
  // client-go's finishTime: a repeat later than this after the previous occurrence starts a new
  // Event.
  std::chrono::steady_clock::duration series_window = std::chrono::minutes(6);
  // client-go's EventSourceObjectSpamFilter: writes per object, a burst then a refill rate.
  int spam_burst = 25;
  double spam_qps = 1.0 / 300;
  // client-go's maxQueuedEvents (its broadcaster drops when full): writes waiting to be sent.
  size_t max_queued = 1000;
  // client-go's maxLruCacheEntries: Events (and object budgets) remembered. Kept above max_queued.
  size_t max_tracked = 4096;
};

class EventCorrelator {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  enum class Outcome {
    kQueued,     // a write of its Event is queued
    kCoalesced,  // a write of its Event was already queued: that write will carry it
    kThrottled,  // the object's budget is spent: no write queued
    kQueueFull,  // the queue is full: no write queued
  };
  struct Observation {
    Outcome outcome;
    bool aggregated;  // joined the series of an Event already started (else started a new one)
    int count;        // the Event's count with this occurrence
  };

  // One write for the sender: the Event as it stands when taken.
  struct Write {
    EventKey key;
    std::string ns;    // the Event's namespace: the object's, or "default" for a cluster-scoped one
    std::string name;  // <object name>.<hex nanoseconds of the first occurrence>, as client-go's
    bool create;       // POST the whole Event; else PATCH its series (on 404: POST it whole)
    int count;         // occurrences so far; a series from 2 on
    WallTime first, last;
    std::string note;  // the first occurrence's
  };

  explicit EventCorrelator(EventCorrelatorOptions options = {});

  // An occurrence at `now` (steady: windows and budgets) and `wall` (the times the Event shows).
  Observation observe(const EventKey& key, const std::string& note, time_point now, WallTime wall);
  // Takes the next queued write, if any.
  std::optional<Write> next();
  // What became of a write taken by next(): whether its Event now exists on the server (a create
  // or PATCH that succeeded, or a PATCH that failed otherwise than with 404). A later write of
  // an Event that does not exist creates it.
  void written(const Write& write, bool exists);
  // Empties the queue (a stopping recorder); returns how many writes it held.
  size_t drop_queued();
  // Forgets the Events whose series finished by `now` (no occurrence within the window) and that
  // wait for no write; observe() does so too, so this is for a recorder with nothing to observe.
  // Returns how many it forgot and when the least recently seen series left finishes (none when
  // nothing is left, or when that one waits for a write: its write's end is the next occasion).
  struct Forgotten {
    size_t count = 0;
    std::optional<time_point> next;
  };
  Forgotten forget_finished(time_point now);

  size_t queued() const { return queue_.size(); }
  size_t tracked() const { return events_.size(); }
  size_t budgets() const { return buckets_.size(); }

 private:
  struct Event {
    std::string ns, name, note;
    int count = 0;
    WallTime first, last;
    time_point last_seen;
    bool exists = false;  // created on the server (or being created: next() handed it out)
    bool queued = false;
    std::list<std::pair<const EventKey, Event>*>::iterator lru;
  };
  struct Bucket {
    double tokens;
    time_point last;
  };

  bool take_token(const ObjectReference& object, time_point now);
  void make_room();
  std::string event_name(const ObjectReference& object, WallTime wall);

  EventCorrelatorOptions options_;
  std::map<EventKey, Event> events_;
  // The LRU order and the queue point into events_ (a map's elements stay put): a copy of each
  // key was ~290 bytes and up to four heap blocks, per Event tracked and per write queued. The
  // LRU order points at the whole element: make_room() steps over the queued Events at its front
  // (up to max_queued of them) for every new Event once max_tracked are tracked, and finding
  // each in the map was most of the correlator's time (a 10,000-Deployment change: 11 % of the
  // operator's samples in the key comparisons and the memcmp under them).
  std::list<std::pair<const EventKey, Event>*> lru_;  // least recently seen first
  std::map<ObjectReference, Bucket> buckets_;
  std::deque<const EventKey*> queue_;  // queued Events are never forgotten
  int64_t last_name_nanos_ = 0;
};

// The events.k8s.io/v1 Event a create writes (with its series from count 2 on).
nlohmann::json event_object(const EventCorrelator::Write& write,
                            const std::string& reporting_controller,
                            const std::string& reporting_instance);
// The merge patch a series update writes: {"series": {"count", "lastObservedTime"}}.
nlohmann::json series_patch(const EventCorrelator::Write& write);
// metav1.MicroTime: 2006-01-02T15:04:05.000000Z.
std::string format_micro_time(WallTime t);
// `s` cut to at most `max_bytes` without splitting a UTF-8 sequence (the API server takes notes
// of at most 1 kB; a split sequence would make the body invalid JSON).
std::string truncate_utf8(const std::string& s, size_t max_bytes);

}  // namespace tracing::runtime
