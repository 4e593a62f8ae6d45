#include <gtest/gtest.h>

#include "emulate/text_generator.h"
#include "emulate/tier_model.h"

namespace mec {
namespace {

TierProfile Simple() {
  TierProfile p;
  p.name = "t";
  p.rtt_ms = 10;
  p.base_ms = 20;
  p.prefill_tokens_per_s = 1000;
  p.decode_tokens_per_s = 100;
  p.max_concurrency = 2;
  p.max_queue = 1;
  p.mean_output_tokens = 50;
  return p;
}

TEST(TierModel, TtftIsRttPlusBasePlusPrefill) {
  ManualClock clock;
  TierModel m(Simple(), Rng(1), clock.Now());
  ServicePlan plan;
  ASSERT_EQ(m.Arrive(clock.Now(), {1, 500, -1, 42}, &plan), Admission::kStarted);
  EXPECT_NEAR(ToMillis(plan.ttft), 10 + 20 + 500, 1e-6);
  EXPECT_NEAR(ToMillis(plan.per_token), 10, 1e-6);
  EXPECT_GE(plan.output_tokens, 1);
}

TEST(TierModel, QueuesBeyondConcurrencyAndRejectsBeyondQueue) {
  ManualClock clock;
  auto p = Simple();
  p.batch_slowdown_per_stream = 0.5;
  TierModel m(p, Rng(1), clock.Now());
  ServicePlan plan;
  EXPECT_EQ(m.Arrive(clock.Now(), {1, 10, -1, 1}, &plan), Admission::kStarted);
  EXPECT_EQ(m.Arrive(clock.Now(), {2, 10, -1, 2}, &plan), Admission::kStarted);
  EXPECT_NEAR(ToMillis(plan.per_token), 10 * 1.5, 1e-6);  // second concurrent stream is slower
  EXPECT_EQ(m.Arrive(clock.Now(), {3, 10, -1, 3}, &plan), Admission::kQueued);
  EXPECT_EQ(m.Arrive(clock.Now(), {4, 10, -1, 4}, &plan), Admission::kQueueFull);
  clock.Advance(FromMillis(100));
  auto started = m.Release(clock.Now(), 1);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].first.ticket, 3u);
  EXPECT_EQ(m.active(), 2);
  EXPECT_EQ(m.queued(), 0);
  // A queued request that leaves frees nothing.
  EXPECT_EQ(m.Arrive(clock.Now(), {5, 10, -1, 5}, &plan), Admission::kQueued);
  EXPECT_TRUE(m.Release(clock.Now(), 5).empty());
  EXPECT_EQ(m.active(), 2);
}

TEST(TierModel, SeveralGpusTakeRequestsLeastBusyFirstWithTheirOwnSlowdown) {
  ManualClock clock;
  auto p = Simple();
  p.batch_slowdown_per_stream = 0.5;
  p.gpus = 2;  // 2 x 2 slots
  TierModel m(p, Rng(1), clock.Now());
  ServicePlan plan;
  // One stream per GPU first: no batch slowdown for the second request.
  EXPECT_EQ(m.Arrive(clock.Now(), {1, 10, -1, 1}, &plan), Admission::kStarted);
  EXPECT_NEAR(ToMillis(plan.per_token), 10, 1e-6);
  EXPECT_EQ(m.Arrive(clock.Now(), {2, 10, -1, 2}, &plan), Admission::kStarted);
  EXPECT_NEAR(ToMillis(plan.per_token), 10, 1e-6);
  EXPECT_NEAR(ToMillis(m.ExpectedPlan({9, 10, -1, 9}).per_token), 15, 1e-6);  // the next one would share a GPU
  EXPECT_EQ(m.Arrive(clock.Now(), {3, 10, -1, 3}, &plan), Admission::kStarted);
  EXPECT_NEAR(ToMillis(plan.per_token), 15, 1e-6);
  EXPECT_EQ(m.Arrive(clock.Now(), {4, 10, -1, 4}, &plan), Admission::kStarted);
  EXPECT_EQ(m.active(), 4);
  EXPECT_EQ(m.Arrive(clock.Now(), {5, 10, -1, 5}, &plan), Admission::kQueued);
  EXPECT_EQ(m.Arrive(clock.Now(), {6, 10, -1, 6}, &plan), Admission::kQueueFull);
  // Ticket 2 was on the second GPU: the queued request starts there, beside ticket 4.
  auto started = m.Release(clock.Now(), 2);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].first.ticket, 5u);
  EXPECT_NEAR(ToMillis(started[0].second.per_token), 15, 1e-6);
  // Both of the first GPU's streams end: the next request goes there, alone.
  EXPECT_TRUE(m.Release(clock.Now(), 1).empty());
  EXPECT_TRUE(m.Release(clock.Now(), 3).empty());
  EXPECT_EQ(m.Arrive(clock.Now(), {7, 10, -1, 7}, &plan), Admission::kStarted);
  EXPECT_NEAR(ToMillis(plan.per_token), 10, 1e-6);
}

TEST(TierModel, FaultsAndSlowdown) {
  ManualClock clock;
  TierModel m(Simple(), Rng(1), clock.Now());
  ServicePlan plan;
  m.faults().slowdown = 3;
  ASSERT_EQ(m.Arrive(clock.Now(), {1, 500, -1, 1}, &plan), Admission::kStarted);
  EXPECT_NEAR(ToMillis(plan.ttft), 3 * 530, 1e-6);
  m.faults().outage = true;
  EXPECT_EQ(m.Arrive(clock.Now(), {2, 1, -1, 1}, &plan), Admission::kOutage);
  m.faults().outage = false;
  m.faults().error_rate = 1;
  EXPECT_EQ(m.Arrive(clock.Now(), {3, 1, -1, 1}, &plan), Admission::kError);
  m.faults().error_rate = 0;
  m.faults().hang_rate = 1;
  m.Release(clock.Now(), 1);
  ASSERT_EQ(m.Arrive(clock.Now(), {4, 1, -1, 1}, &plan), Admission::kStarted);
  EXPECT_TRUE(plan.hang);
}

TEST(TierModel, OutageWindowsFollowTheClock) {
  ManualClock clock;
  auto p = Simple();
  p.outage_windows = {{1.0, 2.0}};
  TierModel m(p, Rng(1), clock.Now());
  EXPECT_FALSE(m.InOutage(clock.Now()));
  clock.Advance(FromSeconds(1.5));
  EXPECT_TRUE(m.InOutage(clock.Now()));
  clock.Advance(FromSeconds(1.0));
  EXPECT_FALSE(m.InOutage(clock.Now()));
}

TEST(TierModel, RateLimitGives429) {
  ManualClock clock;
  auto p = Simple();
  p.rate_limit_rps = 2;
  p.max_concurrency = 100;
  TierModel m(p, Rng(1), clock.Now());
  ServicePlan plan;
  EXPECT_EQ(m.Arrive(clock.Now(), {1, 1, -1, 1}, &plan), Admission::kStarted);
  EXPECT_EQ(m.Arrive(clock.Now(), {2, 1, -1, 1}, &plan), Admission::kStarted);
  EXPECT_EQ(m.Arrive(clock.Now(), {3, 1, -1, 1}, &plan), Admission::kRateLimited);
  clock.Advance(FromMillis(500));
  EXPECT_EQ(m.Arrive(clock.Now(), {4, 1, -1, 1}, &plan), Admission::kStarted);
}

TEST(TierModel, OutputLengthIsDeterministicAndCapped) {
  bool cut = false;
  int64_t a = DrawOutputTokens(64, 99, -1, &cut);
  EXPECT_EQ(a, DrawOutputTokens(64, 99, -1, nullptr));
  EXPECT_FALSE(cut);
  EXPECT_EQ(DrawOutputTokens(64, 99, 1, &cut), 1);
  EXPECT_TRUE(cut);
}

TEST(BuiltinProfiles, MatchCalibrationRows) {
  auto d = BuiltinProfile("device");
  ASSERT_TRUE(d);
  // row 7: 0.3 s TTFT for a 64-token prompt on the phone.
  d->ttft_jitter_sigma = 0;
  TierModel exact(*d, Rng(3), TimePoint{});
  ServicePlan plan;
  ASSERT_EQ(exact.Arrive(TimePoint{}, {1, 64, -1, 1}, &plan), Admission::kStarted);
  EXPECT_NEAR(ToMillis(plan.ttft), 300, 1e-6);
  EXPECT_NEAR(1000.0 / ToMillis(plan.per_token), 50.2, 1e-4);
  auto e = BuiltinProfile("edge");
  ASSERT_TRUE(e);
  // row 29: 8 streams give 6.6x the single-stream throughput.
  const double per_stream_speed = 1.0 / (1.0 + e->batch_slowdown_per_stream * 7);
  EXPECT_NEAR(8 * per_stream_speed, 6.6, 1e-9);
  EXPECT_FALSE(BuiltinProfile("moon"));
}

TEST(TextGenerator, DeterministicWords) {
  TextGenerator a(5), b(5);
  std::string x, y;
  for (int i = 0; i < 10; ++i) {
    a.AppendNext(x);
    b.AppendNext(y);
  }
  EXPECT_EQ(x, y);
  EXPECT_EQ(std::count(x.begin(), x.end(), ' '), 9);
}

}  // namespace
}  // namespace mec
