#include "backend/prefix_hit_window.h"

#include <gtest/gtest.h>

namespace mec {
namespace {

TimePoint AtS(double s) { return TimePoint{} + FromSeconds(s); }

TEST(PrefixHitWindow, RateFromDeltasOverTheWindow) {
  PrefixHitWindow w(std::chrono::seconds(10));
  EXPECT_FALSE(w.Add(AtS(0), {1000, 900}).has_value());  // one reading: no delta yet
  EXPECT_DOUBLE_EQ(*w.Add(AtS(1), {1100, 950}), 0.5);   // 50 hits of 100 new queries
  EXPECT_DOUBLE_EQ(*w.Add(AtS(5), {1400, 1100}), 0.5);  // 200 of 400 since t=0
  // AtS t=12 the base is the newest reading at least 10 s old (t=1): 2100-1100 queries, 1350-950 hits.
  EXPECT_DOUBLE_EQ(*w.Add(AtS(12), {2100, 1350}), 400.0 / 1000.0);
  // AtS t=30 the base is t=12: no earlier history weighs in.
  EXPECT_DOUBLE_EQ(*w.Add(AtS(30), {2200, 1450}), 1.0);
}

TEST(PrefixHitWindow, NoQueriesNoRate) {
  PrefixHitWindow w;
  w.Add(AtS(0), {10, 5});
  EXPECT_FALSE(w.Add(AtS(1), {10, 5}).has_value());
}

TEST(PrefixHitWindow, CounterResetStartsOver) {
  PrefixHitWindow w;
  w.Add(AtS(0), {1000, 500});
  EXPECT_FALSE(w.Add(AtS(1), {20, 10}).has_value());  // the engine restarted
  EXPECT_DOUBLE_EQ(*w.Add(AtS(2), {40, 30}), 1.0);
}

}  // namespace
}  // namespace mec
