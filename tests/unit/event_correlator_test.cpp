#include "operator/runtime/event_correlator.h"

#include <gtest/gtest.h>

#include <string>

namespace tracing::runtime {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using Outcome = EventCorrelator::Outcome;

// 2024-05-01T10:20:30.123456789Z.
const WallTime kWall = WallTime{} + std::chrono::duration_cast<WallTime::duration>(
                                        std::chrono::seconds(1714558830) + 123456789ns);
const EventCorrelator::time_point kStart = EventCorrelator::time_point{} + 1h;

const ObjectReference kWeb{"apps/v1", "Deployment", "shop", "web", "uid-web"};
const ObjectReference kCart{"apps/v1", "Deployment", "shop", "cart", "uid-cart"};

EventKey key(const ObjectReference& object, const std::string& reason = "TracingConfigured",
             const std::string& type = "Normal", const std::string& action = "Configure") {
  return {object, type, reason, action};
}

// Drives a correlator on a clock of its own: every occurrence at `now`, wall time alike.
struct Correlator {
  explicit Correlator(EventCorrelatorOptions o = {}) : c(o) {}
  EventCorrelator::Observation observe(const EventKey& k, const std::string& note = "note") {
    return c.observe(k, note, now, kWall + (now - kStart));
  }
  // Takes the next write and reports it done.
  EventCorrelator::Write send(bool ok = true) {
    auto w = c.next();
    EXPECT_TRUE(w.has_value()) << "nothing queued";
    if (!w) return {};
    c.written(*w, ok);
    return *w;
  }
  EventCorrelator c;
  EventCorrelator::time_point now = kStart;
};

TEST(EventCorrelator, RepeatsWithinSixMinutesJoinOneEventsSeriesWrittenAsPatches) {
  Correlator c;
  auto first = c.observe(key(kWeb));
  EXPECT_EQ(first.outcome, Outcome::kQueued);
  EXPECT_FALSE(first.aggregated);
  auto create = c.send();
  EXPECT_TRUE(create.create);
  EXPECT_EQ(create.count, 1);
  EXPECT_EQ(create.ns, "shop");

  for (int i = 2; i <= 10; ++i) {
    c.now += 30s;
    auto again = c.observe(key(kWeb));
    EXPECT_EQ(again.outcome, Outcome::kQueued);
    EXPECT_TRUE(again.aggregated);
    EXPECT_EQ(again.count, i);
    auto patch = c.send();
    EXPECT_FALSE(patch.create) << "a repeat updates the Event it joined";
    EXPECT_EQ(patch.name, create.name);
    EXPECT_EQ(patch.count, i);
    EXPECT_EQ(patch.last - patch.first, (i - 1) * 30s);
  }
  EXPECT_EQ(c.c.tracked(), 1u);
}

TEST(EventCorrelator, ARepeatAfterSixMinutesOfQuietStartsANewEvent) {
  Correlator c;
  c.observe(key(kWeb));
  auto first = c.send();
  c.now += 6min;  // the window's edge: still the same series
  EXPECT_TRUE(c.observe(key(kWeb)).aggregated);
  EXPECT_EQ(c.send().name, first.name);
  c.now += 6min + 1s;
  auto later = c.observe(key(kWeb));
  EXPECT_FALSE(later.aggregated);
  EXPECT_EQ(later.count, 1);
  auto create = c.send();
  EXPECT_TRUE(create.create);
  EXPECT_NE(create.name, first.name);
  EXPECT_EQ(create.count, 1);
}

TEST(EventCorrelator, RepeatsWhileAWriteIsQueuedJoinItAndItCarriesTheLatestCount) {
  Correlator c;
  EXPECT_EQ(c.observe(key(kWeb)).outcome, Outcome::kQueued);
  for (int i = 2; i <= 10; ++i) {
    c.now += 1s;
    auto o = c.observe(key(kWeb));
    EXPECT_EQ(o.outcome, Outcome::kCoalesced);
    EXPECT_EQ(o.count, i);
  }
  EXPECT_EQ(c.c.queued(), 1u);
  auto w = c.send();
  EXPECT_TRUE(w.create);
  EXPECT_EQ(w.count, 10) << "the write reads the Event as it stands when sent";
  EXPECT_FALSE(c.c.next().has_value()) << "one write for ten occurrences";
}

TEST(EventCorrelator, AnEventIsItsObjectTypeReasonAndActionButNotItsNote) {
  Correlator c;
  c.observe(key(kWeb), "first note");
  EXPECT_TRUE(c.observe(key(kWeb), "another note").aggregated) << "the note is not in the key";
  EXPECT_FALSE(c.observe(key(kWeb, "TracingReverted")).aggregated);
  EXPECT_FALSE(c.observe(key(kWeb, "TracingConfigured", "Warning")).aggregated);
  EXPECT_FALSE(c.observe(key(kWeb, "TracingConfigured", "Normal", "Revert")).aggregated);
  EXPECT_FALSE(c.observe(key(kCart)).aggregated);
  ObjectReference recreated = kWeb;
  recreated.uid = "uid-web-2";
  EXPECT_FALSE(c.observe(key(recreated)).aggregated) << "a recreated object is another object";
  EXPECT_EQ(c.c.tracked(), 6u);
  auto w = c.send();
  EXPECT_EQ(w.count, 2);
  EXPECT_EQ(w.note, "first note") << "the API server keeps an Event's note as created";
}

TEST(EventCorrelator, ARepeatWhileTheCreateIsInFlightPatchesAfterIt) {
  Correlator c;
  c.observe(key(kWeb));
  auto create = c.c.next();
  ASSERT_TRUE(create && create->create);
  EXPECT_EQ(c.observe(key(kWeb)).outcome, Outcome::kQueued);
  c.c.written(*create, true);
  auto patch = c.send();
  EXPECT_FALSE(patch.create);
  EXPECT_EQ(patch.count, 2);
}

TEST(EventCorrelator, AnEventWhoseCreateFailedIsCreatedByItsNextOccurrenceWithTheWholeCount) {
  Correlator c;
  c.observe(key(kWeb));
  auto failed = c.send(/*ok=*/false);
  EXPECT_TRUE(failed.create);
  c.now += 1s;
  c.observe(key(kWeb));
  auto retry = c.send();
  EXPECT_TRUE(retry.create);
  EXPECT_EQ(retry.name, failed.name);
  EXPECT_EQ(retry.count, 2);
}

TEST(EventCorrelator, AnObjectGetsBurstsOf25WritesThenOneEveryFiveMinutes) {
  Correlator c;
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ(c.observe(key(kWeb, "R" + std::to_string(i))).outcome, Outcome::kQueued) << i;
  }
  EXPECT_EQ(c.observe(key(kWeb, "R25")).outcome, Outcome::kThrottled);
  EXPECT_EQ(c.observe(key(kCart, "R25")).outcome, Outcome::kQueued)
      << "another object has its own budget";
  c.now += 299s;
  EXPECT_EQ(c.observe(key(kWeb, "R26")).outcome, Outcome::kThrottled);
  c.now += 1s;
  EXPECT_EQ(c.observe(key(kWeb, "R27")).outcome, Outcome::kQueued);
  EXPECT_EQ(c.observe(key(kWeb, "R28")).outcome, Outcome::kThrottled);
  c.now += 3h;  // refilled (25 x 5 min), but never past the burst
  int queued = 0;
  for (int i = 0; i < 40; ++i) {
    queued += c.observe(key(kWeb, "S" + std::to_string(i))).outcome == Outcome::kQueued;
  }
  EXPECT_EQ(queued, 25);
}

TEST(EventCorrelator, OccurrencesWithoutABudgetStillCountAndTheNextWriteCarriesThem) {
  Correlator c;
  for (int i = 1; i <= 25; ++i) {  // each repeat written before the next: 25 writes
    ASSERT_EQ(c.observe(key(kWeb)).outcome, Outcome::kQueued) << i;
    c.send();
  }
  for (int i = 26; i <= 30; ++i) {
    auto o = c.observe(key(kWeb));
    EXPECT_EQ(o.outcome, Outcome::kThrottled);
    EXPECT_EQ(o.count, i);
  }
  EXPECT_FALSE(c.c.next().has_value());
  c.now += 5min;
  EXPECT_EQ(c.observe(key(kWeb)).outcome, Outcome::kQueued);
  auto w = c.send();
  EXPECT_FALSE(w.create);
  EXPECT_EQ(w.count, 31);
}

TEST(EventCorrelator, AFullQueueDropsTheWriteButTheEventIsWrittenWithItsNextOccurrence) {
  EventCorrelatorOptions o;
  o.max_queued = 2;
  Correlator c(o);
  const ObjectReference api{"apps/v1", "Deployment", "shop", "api", "uid-api"};
  EXPECT_EQ(c.observe(key(kWeb)).outcome, Outcome::kQueued);
  EXPECT_EQ(c.observe(key(kCart)).outcome, Outcome::kQueued);
  EXPECT_EQ(c.observe(key(api)).outcome, Outcome::kQueueFull);
  c.send();
  c.send();
  auto again = c.observe(key(api));
  EXPECT_EQ(again.outcome, Outcome::kQueued);
  auto w = c.send();
  EXPECT_TRUE(w.create);
  EXPECT_EQ(w.count, 2);
}

TEST(EventCorrelator, RemembersAtMostMaxTrackedEventsAndBudgets) {
  EventCorrelatorOptions o;
  o.max_queued = 2;
  o.max_tracked = 3;
  Correlator c(o);
  for (int i = 0; i < 20; ++i) {
    ObjectReference obj{"apps/v1", "Deployment", "shop", "w" + std::to_string(i),
                        "uid-" + std::to_string(i)};
    EXPECT_EQ(c.observe(key(obj)).outcome, Outcome::kQueued) << i;
    if (i % 2 == 1) {
      c.send();
      c.send();
    }
    EXPECT_LE(c.c.tracked(), 3u);
    EXPECT_LE(c.c.budgets(), 3u);
  }
}

// When full, a new Event makes room by forgetting the least recently seen Event that waits for
// no write: the queued ones before it are stepped over and kept (their writes still go out).
TEST(EventCorrelator, MakingRoomStepsOverQueuedEventsAndForgetsTheOldestUnqueuedOne) {
  EventCorrelatorOptions o;
  o.max_queued = 2;
  o.max_tracked = 3;
  Correlator c(o);
  auto obj = [](const std::string& name) {
    return ObjectReference{"apps/v1", "Deployment", "shop", name, "uid-" + name};
  };
  EXPECT_EQ(c.observe(key(obj("a"))).outcome, Outcome::kQueued);
  EXPECT_EQ(c.observe(key(obj("b"))).outcome, Outcome::kQueued);
  EXPECT_EQ(c.observe(key(obj("c"))).outcome, Outcome::kQueueFull);
  EXPECT_EQ(c.c.tracked(), 3u);
  EXPECT_EQ(c.observe(key(obj("d"))).outcome, Outcome::kQueueFull);  // forgets c, not a or b
  EXPECT_EQ(c.c.tracked(), 3u);
  auto a = c.send();
  EXPECT_EQ(a.key.regarding.name, "a");
  EXPECT_EQ(c.send().key.regarding.name, "b");
  auto again_d = c.observe(key(obj("d")));
  EXPECT_TRUE(again_d.aggregated) << "d is remembered";
  EXPECT_EQ(again_d.count, 2);
  auto again_c = c.observe(key(obj("c")));
  EXPECT_FALSE(again_c.aggregated) << "c was forgotten: a new Event";
  EXPECT_EQ(again_c.count, 1);
}

TEST(EventCorrelator, ForgetsEventsSixMinutesAfterTheirLastOccurrence) {
  Correlator c;
  c.observe(key(kWeb));
  c.observe(key(kWeb, "Other"));
  c.send();
  c.send();
  EXPECT_EQ(c.c.tracked(), 2u);
  c.now += 7min;
  c.observe(key(kCart));
  EXPECT_EQ(c.c.tracked(), 1u);
}

TEST(EventCorrelator, ForgetFinishedForgetsWithoutAnOccurrenceAndSaysWhenTheNextSeriesEnds) {
  Correlator c;
  c.observe(key(kWeb));
  c.now += 1min;
  c.observe(key(kCart));
  auto f = c.c.forget_finished(c.now);
  EXPECT_EQ(f.count, 0u);
  EXPECT_FALSE(f.next.has_value()) << "web's write is queued: its end is the next occasion";
  c.send();
  c.send();
  f = c.c.forget_finished(c.now);
  EXPECT_EQ(f.count, 0u);
  ASSERT_TRUE(f.next.has_value());
  EXPECT_EQ(*f.next, kStart + 6min + EventCorrelator::time_point::duration(1)) << "web's series";
  f = c.c.forget_finished(*f.next);
  EXPECT_EQ(f.count, 1u);
  EXPECT_EQ(c.c.tracked(), 1u);
  ASSERT_TRUE(f.next.has_value());
  EXPECT_EQ(*f.next, kStart + 7min + EventCorrelator::time_point::duration(1)) << "cart's series";
  f = c.c.forget_finished(kStart + 8min);
  EXPECT_EQ(f.count, 1u);
  EXPECT_FALSE(f.next.has_value());
  EXPECT_EQ(c.c.tracked(), 0u);
  // A repeat of a forgotten Event starts a new one.
  EXPECT_EQ(c.observe(key(kWeb)).count, 1);
  EXPECT_TRUE(c.send().create);
}

TEST(EventCorrelator, TwoEventsStartedInOneClockTickGetDistinctNames) {
  EventCorrelator c;
  c.observe(key(kWeb, "A"), "", kStart, kWall);
  c.observe(key(kWeb, "B"), "", kStart, kWall);
  auto a = c.next(), b = c.next();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->name, "web.17cb562c00049915");
  EXPECT_EQ(b->name, "web.17cb562c00049916");
}

TEST(EventObject, IsAnEventsV1EventWithItsSeriesFromTheSecondOccurrence) {
  EventCorrelator::Write w{key(kWeb, "UntrustedRecord", "Warning", "Reclaim"),
                           "shop",
                           "web.17cb562c00049915",
                           true,
                           1,
                           kWall,
                           kWall,
                           "taken back"};
  EXPECT_EQ(event_object(w, "tracing.rollout.dev/tracing-operator", "host_1"), json::parse(R"({
    "apiVersion": "events.k8s.io/v1", "kind": "Event",
    "metadata": {"name": "web.17cb562c00049915", "namespace": "shop"},
    "eventTime": "2024-05-01T10:20:30.123456Z",
    "reportingController": "tracing.rollout.dev/tracing-operator",
    "reportingInstance": "host_1",
    "action": "Reclaim", "reason": "UntrustedRecord", "note": "taken back", "type": "Warning",
    "regarding": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop",
                  "name": "web", "uid": "uid-web"}
  })"));
  w.count = 3;
  w.last = kWall + 90s;
  json e = event_object(w, "c", "i");
  EXPECT_EQ(e["series"], json::parse(R"({"count": 3,
                                         "lastObservedTime": "2024-05-01T10:22:00.123456Z"})"));
  EXPECT_EQ(series_patch(w), json({{"series", e["series"]}}));
}

TEST(EventObject, ACoreOrClusterScopedObjectsEventLivesInDefault) {
  Correlator c;
  c.observe(key({"v1", "Namespace", "", "shop", "uid-ns"}));
  auto w = c.send();
  EXPECT_EQ(w.ns, "default");
  json e = event_object(w, "c", "i");
  EXPECT_EQ(e["metadata"]["namespace"], "default");
  EXPECT_FALSE(e["regarding"].contains("namespace"));
  EXPECT_EQ(e["regarding"]["apiVersion"], "v1");
}

TEST(ObjectReference, IsReadFromTheObject) {
  json d = {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", "web"}, {"namespace", "shop"}, {"uid", "uid-web"}}}};
  EXPECT_EQ(ObjectReference::of(d), kWeb);
  EXPECT_EQ(ObjectReference::of(json::object()), ObjectReference{});
}

TEST(EventText, MicroTimeAndNotesCutOnACharacterBoundary) {
  EXPECT_EQ(format_micro_time(kWall), "2024-05-01T10:20:30.123456Z");
  EXPECT_EQ(format_micro_time(WallTime{}), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(truncate_utf8("abc", 3), "abc");
  EXPECT_EQ(truncate_utf8("abcd", 3), "abc");
  EXPECT_EQ(truncate_utf8("a\xc3\xa9z", 2), "a") << "é is two bytes: not split";
  EXPECT_EQ(truncate_utf8("a\xc3\xa9z", 3), "a\xc3\xa9");
  EXPECT_EQ(truncate_utf8("\xe2\x82\xac\xe2\x82\xac", 4), "\xe2\x82\xac");
}

}  // namespace
}  // namespace tracing::runtime
