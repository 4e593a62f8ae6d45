#include "sim/event_queue.h"

#include <gtest/gtest.h>

#include "core/clock.h"

namespace mec::sim {
namespace {

TimePoint At(double s) { return TimePoint{} + FromSeconds(s); }

TEST(EventQueue, PopsInTimeOrderThenInsertionOrder) {
  EventQueue<int> q;
  q.Push(At(2), 1);
  q.Push(At(1), 2);
  q.Push(At(2), 3);
  q.Push(At(1), 4);
  q.Push(At(0.5), 5);
  std::vector<int> order;
  while (!q.empty()) order.push_back(q.Pop().payload);
  EXPECT_EQ(order, (std::vector<int>{5, 2, 4, 1, 3}));
}

TEST(EventQueue, NowFollowsPoppedEventsAndNeverGoesBack) {
  EventQueue<int> q;
  q.Push(At(3), 1);
  EXPECT_EQ(q.Pop().at, At(3));
  EXPECT_EQ(q.now(), At(3));
  // An event scheduled in the past is clamped to the present.
  q.Push(At(1), 2);
  auto e = q.Pop();
  EXPECT_EQ(e.payload, 2);
  EXPECT_EQ(e.at, At(3));
  EXPECT_EQ(q.now(), At(3));
}

TEST(EventQueue, ManyEqualTimesKeepInsertionOrder) {
  EventQueue<int> q;
  for (int i = 0; i < 1000; ++i) q.Push(At(1), i);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(q.Pop().payload, i);
}

TEST(SimulatedClock, ManualClockDrivenByTheQueueIsAClock) {
  // The simulator's clock is core's ManualClock, set from each popped event: the same Clock
  // interface the gateway's code reads.
  ManualClock clock;
  const Clock& as_clock = clock;
  EventQueue<int> q;
  q.Push(At(0.25), 1);
  q.Push(At(0.75), 2);
  clock.Set(q.Pop().at);
  EXPECT_DOUBLE_EQ(ToSeconds(as_clock.Now() - TimePoint{}), 0.25);
  clock.Set(q.Pop().at);
  EXPECT_DOUBLE_EQ(ToSeconds(as_clock.Now() - TimePoint{}), 0.75);
}

}  // namespace
}  // namespace mec::sim
