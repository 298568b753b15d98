#include "operator/kube/line_splitter.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace tracing::kube {
namespace {

std::vector<std::string> feed_all(LineSplitter& s, const std::vector<std::string>& chunks) {
  std::vector<std::string> lines;
  for (const auto& c : chunks) {
    s.feed(c, [&](std::string_view l) {
      lines.emplace_back(l);
      return true;
    });
  }
  return lines;
}

// A realistic stream: three events, one with multi-byte UTF-8 (é = C3 A9, 😀 = F0 9F 98 80).
const std::string kStream =
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"caf\xC3\xA9\"}}}\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"12\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"data\":{\"k\":\"\xF0\x9F\x98\x80 smile\"}}}\n";

std::vector<std::string> expected_lines() {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < kStream.size()) {
    size_t nl = kStream.find('\n', pos);
    out.push_back(kStream.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

TEST(LineSplitter, WholeStreamInOneChunkYieldsEachLine) {
  LineSplitter s;
  EXPECT_EQ(feed_all(s, {kStream}), expected_lines());
  EXPECT_TRUE(s.remainder().empty());
}

TEST(LineSplitter, EverySingleSplitPointYieldsTheSameLines) {
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    LineSplitter s;
    EXPECT_EQ(feed_all(s, {kStream.substr(0, cut), kStream.substr(cut)}), expected_lines())
        << "split at byte " << cut;
  }
}

TEST(LineSplitter, ByteByByteReassemblesMultiByteUtf8) {
  LineSplitter s;
  std::vector<std::string> chunks;
  for (char c : kStream) chunks.emplace_back(1, c);
  auto lines = feed_all(s, chunks);
  ASSERT_EQ(lines, expected_lines());
  EXPECT_NE(lines[0].find("caf\xC3\xA9"), std::string::npos);
  EXPECT_NE(lines[2].find("\xF0\x9F\x98\x80"), std::string::npos);
}

TEST(LineSplitter, RandomChunkingsAgreeWithTheWholeStream) {
  std::mt19937 rng(42);
  for (int round = 0; round < 500; ++round) {
    std::vector<std::string> chunks;
    size_t pos = 0;
    while (pos < kStream.size()) {
      size_t n = std::uniform_int_distribution<size_t>(0, 17)(rng);
      chunks.push_back(kStream.substr(pos, n));
      pos += n;
    }
    LineSplitter s;
    ASSERT_EQ(feed_all(s, chunks), expected_lines()) << "round " << round;
  }
}

TEST(LineSplitter, KeepsAnUnfinishedLineUntilItsNewlineArrives) {
  LineSplitter s;
  auto lines = feed_all(s, {"{\"a\":1}\n{\"b\":"});
  EXPECT_EQ(lines, std::vector<std::string>{"{\"a\":1}"});
  EXPECT_EQ(s.remainder(), "{\"b\":");
  lines = feed_all(s, {"2}\n"});
  EXPECT_EQ(lines, std::vector<std::string>{"{\"b\":2}"});
}

TEST(LineSplitter, StripsCarriageReturnSplitFromItsNewline) {
  LineSplitter s;
  EXPECT_EQ(feed_all(s, {"x\r", "\ny\r\n"}), (std::vector<std::string>{"x", "y"}));
}

TEST(LineSplitter, SkipsEmptyLines) {
  LineSplitter s;
  EXPECT_EQ(feed_all(s, {"\n\na\n\n", "\nb\n"}), (std::vector<std::string>{"a", "b"}));
}

TEST(LineSplitter, StopsWhenTheConsumerSaysSoAndKeepsTheRest) {
  LineSplitter s;
  std::vector<std::string> seen;
  bool more = s.feed("one\ntwo\nthr", [&](std::string_view l) {
    seen.emplace_back(l);
    return false;
  });
  EXPECT_FALSE(more);
  EXPECT_EQ(seen, std::vector<std::string>{"one"});
  EXPECT_EQ(s.remainder(), "two\nthr");
}

}  // namespace
}  // namespace tracing::kube
