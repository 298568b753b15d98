#include "operator/runtime/event_correlator.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <ctime>

namespace tracing::runtime {

using json = nlohmann::json;

ObjectReference ObjectReference::of(const json& object) {
  const json md = object.value("metadata", json::object());
  return {object.value("apiVersion", ""), object.value("kind", ""), md.value("namespace", ""),
          md.value("name", ""), md.value("uid", "")};
}

EventCorrelator::EventCorrelator(EventCorrelatorOptions options) : options_(options) {
  options_.spam_burst = std::max(1, options_.spam_burst);
  options_.max_queued = std::max<size_t>(1, options_.max_queued);
  // Queued Events are never forgotten, so there is always one to forget when full.
  options_.max_tracked = std::max(options_.max_tracked, options_.max_queued + 1);
}

EventCorrelator::Observation EventCorrelator::observe(const EventKey& key, const std::string& note,
                                                      time_point now, WallTime wall) {
  forget_finished(now);
  auto it = events_.find(key);
  bool aggregated = false;
  if (it != events_.end() && now - it->second.last_seen <= options_.series_window) {
    Event& e = it->second;
    aggregated = true;
    ++e.count;
    e.last = wall;
    e.last_seen = now;
    lru_.splice(lru_.end(), lru_, e.lru);
  } else {
    if (it == events_.end()) {
      make_room();
      it = events_.emplace(key, Event{}).first;
      it->second.lru = lru_.insert(lru_.end(), &*it);
    } else {
      // A finished series still waiting for its last write (the sender stalled longer than the
      // window): that write will create the new Event instead.
      lru_.splice(lru_.end(), lru_, it->second.lru);
    }
    Event& e = it->second;
    e.ns = key.regarding.ns.empty() ? "default" : key.regarding.ns;
    e.name = event_name(key.regarding, wall);
    e.note = note;
    e.count = 1;
    e.first = e.last = wall;
    e.last_seen = now;
    e.exists = false;
  }
  Event& e = it->second;
  if (e.queued) return {Outcome::kCoalesced, aggregated, e.count};
  if (queue_.size() >= options_.max_queued) return {Outcome::kQueueFull, aggregated, e.count};
  if (!take_token(key.regarding, now)) return {Outcome::kThrottled, aggregated, e.count};
  e.queued = true;
  queue_.push_back(&it->first);
  return {Outcome::kQueued, aggregated, e.count};
}

std::optional<EventCorrelator::Write> EventCorrelator::next() {
  if (queue_.empty()) return std::nullopt;
  auto it = events_.find(*queue_.front());
  queue_.pop_front();
  assert(it != events_.end() && it->second.queued);  // queued Events are never forgotten
  Event& e = it->second;
  e.queued = false;
  Write w{it->first, e.ns, e.name, !e.exists, e.count, e.first, e.last, e.note};
  // A repeat queued while this create is in flight must PATCH, not create a second time.
  e.exists = true;
  return w;
}

void EventCorrelator::written(const Write& write, bool exists) {
  auto it = events_.find(write.key);
  if (it == events_.end() || it->second.name != write.name) return;  // forgotten or finished
  it->second.exists = exists;
}

size_t EventCorrelator::drop_queued() {
  size_t n = queue_.size();
  for (const EventKey* key : queue_) {
    if (auto it = events_.find(*key); it != events_.end()) it->second.queued = false;
  }
  queue_.clear();
  return n;
}

bool EventCorrelator::take_token(const ObjectReference& object, time_point now) {
  const double burst = options_.spam_burst;
  auto it = buckets_.find(object);
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.max_tracked) {
      // A full bucket is the same as none: forget those first, else the least recently used.
      auto full = [&](const Bucket& b) {
        return b.tokens + std::chrono::duration<double>(now - b.last).count() * options_.spam_qps >=
               burst;
      };
      std::erase_if(buckets_, [&](const auto& kv) { return full(kv.second); });
      if (buckets_.size() >= options_.max_tracked) {
        buckets_.erase(std::min_element(buckets_.begin(), buckets_.end(), [](auto& a, auto& b) {
          return a.second.last < b.second.last;
        }));
      }
    }
    it = buckets_.emplace(object, Bucket{burst, now}).first;
  }
  Bucket& b = it->second;
  if (now > b.last) {
    b.tokens = std::min(
        burst, b.tokens + std::chrono::duration<double>(now - b.last).count() * options_.spam_qps);
    b.last = now;
  }
  if (b.tokens < 1 - 1e-9) return false;  // a refill summed over steps may land just below 1
  b.tokens -= 1;
  return true;
}

EventCorrelator::Forgotten EventCorrelator::forget_finished(time_point now) {
  Forgotten out;
  while (!lru_.empty()) {
    const Event& e = lru_.front()->second;
    if (e.queued) return out;
    if (now - e.last_seen <= options_.series_window) {
      out.next = e.last_seen + options_.series_window + time_point::duration(1);
      return out;
    }
    events_.erase(events_.find(lru_.front()->first));  // the one lookup: an Event forgotten
    lru_.pop_front();
    out.count++;
  }
  return out;
}

void EventCorrelator::make_room() {
  for (auto k = lru_.begin(); events_.size() >= options_.max_tracked && k != lru_.end();) {
    if ((*k)->second.queued) {
      ++k;
      continue;
    }
    events_.erase(events_.find((*k)->first));  // the one lookup: an Event forgotten
    k = lru_.erase(k);
  }
}

std::string EventCorrelator::event_name(const ObjectReference& object, WallTime wall) {
  // Unique per recorder even when two Events start within one clock tick.
  int64_t nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(wall.time_since_epoch()).count();
  nanos = std::max(nanos, last_name_nanos_ + 1);
  last_name_nanos_ = nanos;
  char hex[32];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(nanos));
  return (object.name.empty() ? std::string("object") : object.name) + "." + hex;
}

std::string format_micro_time(WallTime t) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros % 1000000));
  return buf;
}

std::string truncate_utf8(const std::string& s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t cut = max_bytes;
  // s[cut] is the first byte left out: if it continues a sequence, leave out its start too.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut);
}

json event_object(const EventCorrelator::Write& w, const std::string& reporting_controller,
                  const std::string& reporting_instance) {
  const ObjectReference& r = w.key.regarding;
  json regarding = {{"apiVersion", r.api_version}, {"kind", r.kind}, {"name", r.name}};
  if (!r.ns.empty()) regarding["namespace"] = r.ns;
  if (!r.uid.empty()) regarding["uid"] = r.uid;
  json event = {{"apiVersion", "events.k8s.io/v1"},
                {"kind", "Event"},
                {"metadata", {{"name", w.name}, {"namespace", w.ns}}},
                {"eventTime", format_micro_time(w.first)},
                {"reportingController", reporting_controller},
                {"reportingInstance", reporting_instance},
                {"action", w.key.action},
                {"reason", w.key.reason},
                {"note", w.note},
                {"type", w.key.type},
                {"regarding", std::move(regarding)}};
  if (w.count >= 2) event["series"] = series_patch(w)["series"];
  return event;
}

json series_patch(const EventCorrelator::Write& w) {
  return {{"series", {{"count", w.count}, {"lastObservedTime", format_micro_time(w.last)}}}};
}

}  // namespace tracing::runtime
