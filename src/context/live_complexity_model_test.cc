#include "context/live_complexity_model.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

namespace mec {
namespace {

class Constant : public ComplexityModel {
 public:
  Constant(double p, std::string name) : p_(p), name_(std::move(name)) {}
  double WeakAsGoodProbability(std::string_view) const override { return p_; }
  std::string_view Name() const override { return name_; }

 private:
  double p_;
  std::string name_;
};

TEST(LiveComplexityModel, SwapsAtomicallyAndKeepsNamesValid) {
  LiveComplexityModel live(std::make_shared<Constant>(0.5, "base"));
  const std::string_view first = live.Name();
  EXPECT_EQ(first, "base");
  EXPECT_DOUBLE_EQ(live.WeakAsGoodProbability("x"), 0.5);
  std::shared_ptr<const ComplexityModel> held = live.Current();
  EXPECT_EQ(live.Swap(std::make_shared<Constant>(0.9, "base+judged.v1")), 1);
  EXPECT_DOUBLE_EQ(live.WeakAsGoodProbability("x"), 0.9);
  EXPECT_EQ(live.Name(), "base+judged.v1");
  EXPECT_EQ(first, "base");                              // an old view still reads
  EXPECT_DOUBLE_EQ(held->WeakAsGoodProbability("x"), 0.5);  // a request mid-way keeps its model
  EXPECT_EQ(live.Swap(nullptr), 1);                      // null is ignored
  // Readers and a writer at once (run under the sanitizers).
  std::vector<std::thread> t;
  for (int i = 0; i < 4; ++i)
    t.emplace_back([&] {
      for (int k = 0; k < 2000; ++k) {
        const double p = live.WeakAsGoodProbability("x");
        EXPECT_TRUE(p == 0.9 || p == 0.1);
        EXPECT_FALSE(live.Name().empty());
      }
    });
  for (int k = 0; k < 200; ++k) live.Swap(std::make_shared<Constant>(k % 2 ? 0.9 : 0.1, "v" + std::to_string(k)));
  for (auto& th : t) th.join();
  EXPECT_EQ(live.swaps(), 201);
}

// Counts its calls and answers by the prompt's length, so a wrong memo entry shows.
class Counting : public ComplexityModel {
 public:
  explicit Counting(double offset) : offset_(offset) {}
  double WeakAsGoodProbability(std::string_view prompt) const override {
    calls.fetch_add(1);
    return offset_ + 0.001 * static_cast<double>(prompt.size());
  }
  std::string_view Name() const override { return "counting"; }
  mutable std::atomic<int> calls{0};

 private:
  double offset_;
};

TEST(LiveComplexityModel, MemoAnswersRepeatsAndForgetsOnSwap) {
  auto first = std::make_shared<Counting>(0.1);
  LiveComplexityModel live(first);
  live.EnableMemo(256);
  ASSERT_NE(live.memo(), nullptr);
  EXPECT_DOUBLE_EQ(live.Estimate("hello").edge, 0.105);
  EXPECT_DOUBLE_EQ(live.Estimate("hello").edge, 0.105);
  EXPECT_DOUBLE_EQ(live.Estimate("hello there").edge, 0.111);
  EXPECT_EQ(first->calls.load(), 2);  // the repeat came from memory
  EXPECT_EQ(live.memo()->hits(), 1u);
  EXPECT_EQ(live.memo()->misses(), 2u);
  auto second = std::make_shared<Counting>(0.5);
  live.Swap(second);
  EXPECT_DOUBLE_EQ(live.Estimate("hello").edge, 0.505);  // the new model's, not the memo's
  EXPECT_EQ(second->calls.load(), 1);
  EXPECT_DOUBLE_EQ(live.Estimate("hello").edge, 0.505);
  EXPECT_EQ(second->calls.load(), 1);
}

TEST(LiveComplexityModel, MemoIsBoundedAndRightUnderEviction) {
  auto model = std::make_shared<Counting>(0.0);
  LiveComplexityModel live(model);
  live.EnableMemo(64);
  EXPECT_EQ(live.memo()->capacity(), 64u);
  // Many more prompts than slots: every answer is still the model's for that prompt.
  for (int round = 0; round < 3; ++round)
    for (int i = 0; i < 500; ++i) {
      const std::string prompt(static_cast<size_t>(i + 1), 'a' + static_cast<char>(i % 26));
      ASSERT_DOUBLE_EQ(live.Estimate(prompt).edge, 0.001 * (i + 1)) << i;
    }
  EXPECT_GT(model->calls.load(), 500);  // evicted entries were computed again
}

TEST(LiveComplexityModel, MemoUnderConcurrentReadersAndSwaps) {
  LiveComplexityModel live(std::make_shared<Counting>(0.1));
  live.EnableMemo(128);
  std::atomic<bool> stop{false};
  std::vector<std::thread> t;
  for (int i = 0; i < 3; ++i)
    t.emplace_back([&, i] {
      for (int k = 0; !stop.load(); ++k) {
        const std::string prompt(static_cast<size_t>(1 + (k + i) % 40), 'x');
        const double e = live.Estimate(prompt).edge;
        const double base = e - 0.001 * static_cast<double>(prompt.size());
        EXPECT_TRUE(std::abs(base - 0.1) < 1e-9 || std::abs(base - 0.5) < 1e-9) << e;
      }
    });
  for (int k = 0; k < 200; ++k) live.Swap(std::make_shared<Counting>(k % 2 ? 0.1 : 0.5));
  stop = true;
  for (auto& th : t) th.join();
  // After the last swap (to 0.1), no answer from an older model remains.
  for (int n = 1; n <= 40; ++n) EXPECT_DOUBLE_EQ(live.Estimate(std::string(static_cast<size_t>(n), 'x')).edge, 0.1 + 0.001 * n);
}

}  // namespace
}  // namespace mec
