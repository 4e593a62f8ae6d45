#include "learn/decision_registry.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace mec {
namespace {

DecisionRecord Rec(std::string backend, double q) {
  DecisionRecord r;
  r.backend = std::move(backend);
  r.tier = Tier::kEdge;
  r.task_class = "math";
  r.predicted_quality = q;
  r.time = TimePoint{} + FromMillis(5);
  return r;
}

TEST(DecisionRegistry, RecordsAndLooksUp) {
  DecisionRegistry reg;
  EXPECT_EQ(reg.capacity(), DecisionRegistry::kDefaultCapacity);
  reg.Record("d1", Rec("edge-a", 0.8));
  const auto r = reg.Lookup("d1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->backend, "edge-a");
  EXPECT_EQ(r->tier, Tier::kEdge);
  EXPECT_EQ(r->task_class, "math");
  EXPECT_DOUBLE_EQ(r->predicted_quality, 0.8);
  EXPECT_EQ(r->time, TimePoint{} + FromMillis(5));
  EXPECT_FALSE(reg.Lookup("d2").has_value());
}

TEST(DecisionRegistry, EvictsFirstInFirstOut) {
  DecisionRegistry reg(3);
  reg.Record("d1", Rec("a", 0.1));
  reg.Record("d2", Rec("b", 0.2));
  reg.Record("d3", Rec("c", 0.3));
  reg.Record("d1", Rec("a2", 0.15));  // replaces, keeps its place
  EXPECT_EQ(reg.size(), 3u);
  EXPECT_EQ(reg.Lookup("d1")->backend, "a2");
  reg.Record("d4", Rec("d", 0.4));  // evicts d1, the oldest
  EXPECT_EQ(reg.size(), 3u);
  EXPECT_FALSE(reg.Lookup("d1").has_value());
  EXPECT_TRUE(reg.Lookup("d2").has_value());
  EXPECT_TRUE(reg.Lookup("d4").has_value());
}

TEST(DecisionRegistry, StaysBoundedUnderConcurrentUse) {
  DecisionRegistry reg(1000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&reg, t] {
      for (int i = 0; i < 5000; ++i) {
        const std::string id = std::to_string(t) + "-" + std::to_string(i);
        reg.Record(id, Rec("b", 0.5));
        (void)reg.Lookup(id);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(reg.size(), 1000u);
  // The last decision recorded of all is still there (threads finish at different times, so an
  // early finisher's newest decisions may have been evicted since).
  int newest_present = 0;
  for (int t = 0; t < 4; ++t) newest_present += reg.Lookup(std::to_string(t) + "-4999").has_value();
  EXPECT_GE(newest_present, 1);
}

// The ring and its open-addressing index (backward-shift deletion) against a plain model: a map and
// a first-in-first-out order, over random records, replacements and lookups, at capacities where
// the index's runs collide and wrap around.
TEST(DecisionRegistry, AgreesWithAPlainModelUnderRandomUse) {
  for (const size_t capacity : {1u, 2u, 3u, 7u, 64u}) {
    DecisionRegistry reg(capacity);
    std::map<std::string, double> model;
    std::deque<std::string> order;
    std::mt19937 rng(static_cast<unsigned>(capacity));
    std::uniform_int_distribution<int> pick(0, static_cast<int>(3 * capacity + 5));
    for (int step = 0; step < 20000; ++step) {
      // Some ids in the gateway's form (hashed by their counter), some not, some nearly.
      const int n = pick(rng);
      const std::string id = step % 3 == 0   ? fmt::format("dec-{:08x}{:08x}", n % 3, n)
                             : step % 3 == 1 ? "x" + std::to_string(n)
                                             : fmt::format("dec-{:08x}{:07x}g", 0, n);
      if (rng() % 3 == 0) {
        const auto got = reg.Lookup(id);
        const auto it = model.find(id);
        ASSERT_EQ(got.has_value(), it != model.end()) << "capacity " << capacity << " step " << step << " id " << id;
        if (got) {
          EXPECT_DOUBLE_EQ(got->predicted_quality, it->second);
        }
        continue;
      }
      const double q = static_cast<double>(step);
      reg.Record(id, Rec("b" + std::to_string(step % 5), q));
      if (auto it = model.find(id); it != model.end()) {
        it->second = q;
      } else {
        if (model.size() == capacity) {
          model.erase(order.front());
          order.pop_front();
        }
        model.emplace(id, q);
        order.push_back(id);
      }
      ASSERT_EQ(reg.size(), model.size());
    }
    for (const auto& [id, q] : model) {
      const auto got = reg.Lookup(id);
      ASSERT_TRUE(got.has_value()) << id;
      EXPECT_DOUBLE_EQ(got->predicted_quality, q);
    }
  }
}

// The gateway's ids hash to their counter and fill one long run of the index; evicting from it
// must not walk the run (it did: a million decisions would take hours, not a second).
TEST(DecisionRegistry, TakesAMillionOfTheGatewaysIdsAtFullCapacity) {
  DecisionRegistry reg;  // 100,000
  const auto id = [](uint32_t n) { return fmt::format("dec-{:08x}{:08x}", 0xabcdu, n); };
  for (uint32_t n = 0; n < 1000000; ++n) reg.Record(id(n), Rec("b", n));
  EXPECT_EQ(reg.size(), DecisionRegistry::kDefaultCapacity);
  EXPECT_FALSE(reg.Lookup(id(899999)).has_value());
  ASSERT_TRUE(reg.Lookup(id(900000)).has_value());
  EXPECT_DOUBLE_EQ(reg.Lookup(id(999999))->predicted_quality, 999999.0);
}

TEST(DecisionRegistry, KeepsLongPromptsAndReplacesShorterOnes) {
  DecisionRegistry reg(2);
  DecisionRecord r = Rec("edge-a", 0.5);
  r.prompt = std::string(1000, 'p');
  reg.Record("d1", r);
  reg.Record("d2", Rec("edge-b", 0.6));
  reg.Record("d3", Rec("edge-c", 0.7));  // takes d1's slot, and a prompt of its own (empty)
  EXPECT_FALSE(reg.Lookup("d1").has_value());
  EXPECT_EQ(reg.Lookup("d3")->prompt, "");
  EXPECT_EQ(reg.Lookup("d3")->backend, "edge-c");
}

}  // namespace
}  // namespace mec
