#include "cache/prefix_index.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "context/prompt_blocks.h"

namespace mec {
namespace {

std::vector<uint64_t> Blocks(const std::string& text) { return PromptBlockHashes(text, static_cast<int64_t>(text.size())); }

TEST(PrefixIndex, MatchesTheLeadingBlocksSentToABackend) {
  PrefixIndex index(3, 1000);
  const std::string system(64 * 4, 's');  // four blocks of a shared system prompt
  const auto first = Blocks(system + std::string(64 * 2, 'a'));
  const auto second = Blocks(system + std::string(64 * 3, 'b'));
  ASSERT_EQ(first.size(), 6u);
  ASSERT_EQ(second.size(), 7u);
  EXPECT_EQ(index.Match(1, first), 0u);
  index.Record(1, first);
  EXPECT_EQ(index.Match(1, first), 6u);
  EXPECT_EQ(index.Match(1, second), 4u) << "the shared system prompt, not the rest";
  EXPECT_EQ(index.Match(0, first), 0u) << "another backend holds nothing";
  EXPECT_EQ(index.Match(7, first), 0u) << "an unknown backend holds nothing";
  index.Record(7, first);  // ignored, not a crash
  // The same text after another start shares nothing: the hashes are chained.
  EXPECT_EQ(index.Match(1, Blocks(std::string(64, 'x') + system)), 0u);
  EXPECT_EQ(index.Size(1), 6u);
}

TEST(PrefixIndex, EvictsTheLeastRecentTailFirst) {
  PrefixIndex index(1, 8);
  const auto a = Blocks(std::string(64 * 6, 'a'));
  const auto b = Blocks(std::string(64 * 6, 'b'));
  index.Record(0, a);
  index.Record(0, b);  // 12 blocks into 8: four of a's go, its tail first
  EXPECT_EQ(index.Size(0), 8u);
  EXPECT_EQ(index.Match(0, b), 6u);
  EXPECT_EQ(index.Match(0, a), 2u) << "a's two leading blocks are still its prefix";
  // Using a again makes it recent; b's tail goes now.
  index.Record(0, a);
  EXPECT_EQ(index.Match(0, a), 6u);
  EXPECT_EQ(index.Match(0, b), 2u);
}

TEST(PrefixIndex, ConcurrentUseIsSafe) {
  PrefixIndex index(2, 64);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&index, t] {
      for (int i = 0; i < 500; ++i) {
        const auto blocks = Blocks(std::string(64 * (1 + i % 9), static_cast<char>('a' + (i + t) % 5)));
        index.Record(static_cast<size_t>(t % 2), blocks);
        (void)index.Match(static_cast<size_t>((t + 1) % 2), blocks);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(index.Size(0), 64u);
  EXPECT_LE(index.Size(1), 64u);
}

}  // namespace
}  // namespace mec
