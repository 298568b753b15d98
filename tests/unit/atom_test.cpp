#include "controllers/api/atom.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "controllers/api/resource_version.h"
#include "controllers/api/uid.h"

namespace tracing::controllers {
namespace {

TEST(Atom, EqualStringsAreEqualAtomsAndReadBack) {
  Atom a("OTEL_SERVICE_NAME"), b(std::string("OTEL_") + "SERVICE_NAME"), c("OTEL_SERVICE_NAMES");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(*a, "OTEL_SERVICE_NAME");
  EXPECT_EQ(*c, "OTEL_SERVICE_NAMES");
  EXPECT_EQ(a->size(), 17u);
  Atom empty("");
  EXPECT_TRUE(empty);  // the empty string is a string, not the null atom
  EXPECT_EQ(*empty, "");
  Atom null;
  EXPECT_FALSE(null);
  EXPECT_EQ(*null, "");
  EXPECT_NE(null, empty);
}

TEST(Atom, CopiesKeepTheStringAfterTheFirstHolderIsGone) {
  std::vector<Atom> copies;
  {
    Atom first("held-by-copies-only");
    copies.assign(3, first);
  }
  Atom moved = std::move(copies[0]);
  EXPECT_FALSE(copies[0]);
  for (size_t i = 1; i < copies.size(); ++i) EXPECT_EQ(*copies[i], "held-by-copies-only");
  EXPECT_EQ(*moved, "held-by-copies-only");
  copies[1] = copies[2];
  copies[2] = Atom("another");
  EXPECT_EQ(*copies[1], "held-by-copies-only");
  EXPECT_EQ(*copies[2], "another");
}

// Churn (a Deployment's unique values replaced over and over) does not grow the table: entries
// nobody holds are swept and their ids reused, while a held atom keeps reading its own string.
TEST(Atom, EntriesNobodyHoldsAreFreedAndTheirIdsReusedWithoutTouchingHeldOnes) {
  Atom kept("kept-through-the-churn");
  const size_t before = Atom::table_size();
  for (int i = 0; i < 100000; ++i) {
    Atom churn("churn-" + std::to_string(i));
    ASSERT_EQ(*churn, "churn-" + std::to_string(i));
  }
  EXPECT_LE(Atom::table_size(), 2 * before + 1100);
  EXPECT_EQ(*kept, "kept-through-the-churn");
  // A string whose entry was freed interns again, and equal to a fresh one.
  Atom again("churn-17"), twice("churn-17");
  EXPECT_EQ(*again, "churn-17");
  EXPECT_EQ(again, twice);
}

// Sweeps empty the index's slots of strings nobody holds, some of them before held strings on
// their probe paths: every held string is still found (an equal atom interned later is the same
// atom), through tables grown and shrunk meanwhile.
TEST(Atom, HeldStringsAreStillFoundAfterTheChurnAroundThemIsSwept) {
  const size_t before = Atom::table_size();
  std::vector<Atom> held, dropped;
  for (int i = 0; i < 20000; ++i) {
    dropped.emplace_back("dropped-" + std::to_string(i));
    if (i % 4 == 0) held.emplace_back("held-" + std::to_string(i / 4));
  }
  dropped.clear();
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 50000; ++i) {
      Atom churn("swept-" + std::to_string(round) + "-" + std::to_string(i));
    }
    for (size_t i = 0; i < held.size(); ++i) {
      Atom again("held-" + std::to_string(i));
      ASSERT_EQ(again, held[i]) << "round " << round << ": held-" << i << " interned twice";
      ASSERT_EQ(*again, "held-" + std::to_string(i));
    }
  }
  EXPECT_LE(Atom::table_size(), 2 * (before + held.size()) + 1100) << "the churn was not swept";
}

TEST(Atom, ThreadsInterningCopyingAndDroppingTheSameStringsReadTheirOwn) {
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &wrong] {
      std::vector<Atom> held;
      for (int i = 0; i < 20000; ++i) {
        std::string s = "shared-" + std::to_string(i % 300);
        Atom a(s);
        if (*a != s) ++wrong[t];
        if (i % 7 == t) held.push_back(a);
        if (held.size() > 50) held.erase(held.begin(), held.begin() + 25);
        for (const Atom& h : held) {
          if (h->rfind("shared-", 0) != 0) ++wrong[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

TEST(Uid, AUuidAsTheApiServerWritesItReadsBackExactly) {
  const std::string text = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
  Uid u(text);
  EXPECT_EQ(u.str(), text);
  EXPECT_FALSE(u.empty());
  EXPECT_TRUE(u == Uid(std::string(text)));
  EXPECT_TRUE(u == std::string_view(text));
  EXPECT_FALSE(u == Uid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f1"));
}

TEST(Uid, AnyOtherTextReadsBackExactlyAndDiffersFromTheUuidItResembles) {
  for (const std::string text :
       {"uid-1", "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fg",
        "0f1e2d3c4b5a-6978-8796-a5b4c3d2e1f0-", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f", ""}) {
    Uid u(text);
    EXPECT_EQ(u.str(), text);
    EXPECT_EQ(u.empty(), text.empty()) << text;
    EXPECT_TRUE(u == Uid(text)) << text;
  }
  EXPECT_FALSE(Uid("0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0") ==
               Uid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"))
      << "uids are compared as written";
  EXPECT_TRUE(Uid() == Uid(""));
}

// The API server's versions as it writes them (etcd revisions) and any other text: each reads
// back exactly, and two are equal exactly when their texts are.
TEST(ResourceVersion, EveryTextReadsBackExactlyAndEqualsOnlyItself) {
  const std::vector<std::string> texts = {
      "",
      "0",
      "7",
      "48213",
      "9999999999999999999",   // 19 digits: the largest kept as a number
      "18446744073709551615",  // 20 digits: text
      "99999999999999999999",
      "00",
      "0048213",
      "48213 ",
      "-1",
      "abc",
      "48213a",
      "１２"};
  for (const auto& t : texts) {
    ResourceVersion v(t);
    EXPECT_EQ(v.str(), t);
    EXPECT_TRUE(v == t) << t;
    EXPECT_EQ(v.empty(), t.empty()) << t;
    for (const auto& u : texts) {
      EXPECT_EQ(v == ResourceVersion(u), t == u) << "'" << t << "' against '" << u << "'";
    }
  }
  EXPECT_TRUE(ResourceVersion() == ResourceVersion(""));
  EXPECT_FALSE(ResourceVersion("48213") == std::string_view("48214"));
}

}  // namespace
}  // namespace tracing::controllers
