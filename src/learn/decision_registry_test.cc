#include "learn/decision_registry.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace mec
