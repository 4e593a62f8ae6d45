#include "dashboard/live_stats.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include <gtest/gtest.h>

#include "dashboard/sample_quantiles.h"
#include "route/predict.h"
#include "telemetry/request_record.h"

namespace mec {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// device (energy), edge (per token), cloud (per token): config order 0, 1, 2.
std::vector<LiveBackend> Backends() {
  PriceOptions device, edge, cloud;
  device.watts = 5;
  device.usd_per_kwh = 0.15;
  edge.input_per_1m = 0.2;
  edge.output_per_1m = 0.6;
  cloud.input_per_1m = 2.5;
  cloud.output_per_1m = 10;
  return {{"phone", Tier::kDevice, device}, {"mec", Tier::kEdge, edge}, {"api", Tier::kCloud, cloud}};
}

RequestRecord Record(std::string id, int backend, RequestStatus status, double latency_s, std::optional<double> ttft_s,
                     double cost_usd, int64_t in = 100, int64_t out = 50) {
  RequestRecord r;
  r.id = std::move(id);
  r.unix_s = 1700000000.5;
  r.policy = "adaptive";
  r.reason = "edge meets quality 0.84>=0.80 and p(meet)=0.99 at $0.000006";
  r.backend = backend;
  r.status = status;
  r.http_status = status == RequestStatus::kOk ? 200 : 503;
  r.latency_s = latency_s;
  r.ttft_s = ttft_s;
  r.cost_usd = cost_usd;
  r.input_tokens = in;
  r.output_tokens = out;
  r.attempts = 1;
  return r;
}

LiveStatsOptions Small() {
  LiveStatsOptions o;
  o.decisions = 3;
  o.window_s = 60;
  o.step_s = 5;
  o.samples_per_second = 16;
  return o;
}

TEST(LiveStats, CountsPerTierAndSecondAndEndsAtTheLastCompleteSecond) {
  ManualClock clock(TimePoint(seconds(1000)));
  LiveStats live(Small(), Backends(), clock);
  clock.Advance(milliseconds(200));  // second 1000
  live.OnOutcome(Record("a", 1, RequestStatus::kOk, 0.5, 0.1, 0.001));
  live.OnOutcome(Record("b", 1, RequestStatus::kOk, 0.7, 0.2, 0.001));
  live.OnOutcome(Record("c", 0, RequestStatus::kOk, 0.3, 0.05, 0.0001));
  live.OnOutcome(Record("d", -1, RequestStatus::kFailed, 0.01, std::nullopt, 0));
  clock.Advance(seconds(1));  // second 1001
  live.OnOutcome(Record("e", 2, RequestStatus::kOk, 1.5, 0.6, 0.01));

  // During second 1001 only second 1000 is complete.
  LiveView v = live.View(clock.Now(), 10);
  ASSERT_EQ(v.seconds.size(), 60u);
  EXPECT_EQ(v.seconds.back() - v.seconds.front(), 59);
  EXPECT_EQ(v.requests[static_cast<int>(Tier::kEdge)].back(), 2);
  EXPECT_EQ(v.requests[static_cast<int>(Tier::kDevice)].back(), 1);
  EXPECT_EQ(v.requests[kNoTier].back(), 1);
  EXPECT_EQ(v.requests[static_cast<int>(Tier::kCloud)].back(), 0);
  EXPECT_EQ(v.errors.back(), 1);
  // The totals count everything, the current second too.
  EXPECT_EQ(v.totals[static_cast<int>(Tier::kCloud)].requests, 1);
  EXPECT_EQ(v.totals[kNoTier].errors, 1);

  clock.Advance(seconds(1));  // second 1002: 1001 is complete
  v = live.View(clock.Now(), 10);
  EXPECT_EQ(v.requests[static_cast<int>(Tier::kCloud)].back(), 1);
  EXPECT_EQ(v.requests[static_cast<int>(Tier::kEdge)][58], 2);
  EXPECT_EQ(v.end_unix_s, v.seconds.back());
  EXPECT_EQ(v.end_unix_s, clock.UnixSeconds() - 1);
}

TEST(LiveStats, DecisionRingKeepsTheNewestFirst) {
  ManualClock clock;
  LiveStats live(Small(), Backends(), clock);
  EXPECT_TRUE(live.View(clock.Now(), 10).decisions.empty());
  for (const char* id : {"1", "2", "3", "4", "5"}) live.OnOutcome(Record(id, 2, RequestStatus::kOk, 1, 0.5, 0.01));
  std::vector<DecisionRow> d = live.Decisions(10);
  ASSERT_EQ(d.size(), 3u);  // the ring holds 3
  EXPECT_EQ(d[0].id, "5");
  EXPECT_EQ(d[1].id, "4");
  EXPECT_EQ(d[2].id, "3");
  EXPECT_EQ(d[0].backend, "api");
  EXPECT_EQ(d[0].tier, static_cast<int>(Tier::kCloud));
  EXPECT_EQ(d[0].status, "ok");
  EXPECT_EQ(d[0].policy, "adaptive");
  EXPECT_NE(d[0].reason.find("p(meet)=0.99"), std::string::npos);
  EXPECT_EQ(live.Decisions(2).size(), 2u);
  EXPECT_EQ(live.View(clock.Now(), 1).decisions.size(), 1u);
}

TEST(LiveStats, CloudOnlyCounterfactualPricesTheSameTokensAtTheCloudBackend) {
  ManualClock clock;
  LiveStats live(Small(), Backends(), clock);
  const auto b = Backends();
  // An edge answer: 1000 in, 500 out. A cloud answer counts its own cost. A failure costs nothing.
  live.OnOutcome(Record("e", 1, RequestStatus::kOk, 0.8, 0.2, 0.0005, 1000, 500));
  live.OnOutcome(Record("c", 2, RequestStatus::kOk, 1.2, 0.5, 0.0123, 10, 10));
  live.OnOutcome(Record("f", 1, RequestStatus::kFailed, 0.1, std::nullopt, 0, 1000, 0));
  clock.Advance(seconds(61));
  LiveView v = live.View(clock.Now(), 0);
  const double edge_cf = ExpectedCost(b[2].price, 1000, 500, 0.8);
  EXPECT_NEAR(edge_cf, 1000 * 2.5e-6 + 500 * 10e-6, 1e-12);
  EXPECT_NEAR(v.totals[1].cloud_only_usd, edge_cf, 1e-12);
  EXPECT_NEAR(v.totals[1].cost_usd, 0.0005, 1e-12);
  EXPECT_NEAR(v.totals[2].cloud_only_usd, 0.0123, 1e-12);
  EXPECT_EQ(v.totals[1].errors, 1);
  EXPECT_EQ(v.cloud_reference, "api");
}

TEST(LiveStats, CostPerMinuteIsTheSumOverTheSixtySecondsEndingAtEachStep) {
  ManualClock clock(TimePoint(seconds(500)));
  LiveStatsOptions o = Small();
  o.window_s = 120;
  LiveStats live(o, Backends(), clock);
  // 0.01 USD of cloud traffic in each of 10 seconds.
  for (int i = 0; i < 10; ++i) {
    live.OnOutcome(Record("c", 2, RequestStatus::kOk, 1, 0.5, 0.01));
    clock.Advance(seconds(1));
  }
  clock.Advance(seconds(30));
  LiveView v = live.View(clock.Now(), 0);
  ASSERT_EQ(v.steps.size(), 24u);
  ASSERT_EQ(v.cost_per_min.size(), 24u);
  EXPECT_NEAR(v.cost_per_min.back(), 0.10, 1e-9);
  EXPECT_NEAR(v.cloud_only_per_min.back(), 0.10, 1e-9);
  // The first 11 steps end less than 60 s into the window: no full minute to sum yet.
  EXPECT_TRUE(std::isnan(v.cost_per_min.front()));
  EXPECT_FALSE(std::isnan(v.cost_per_min[11]));
  EXPECT_NEAR(v.last_min[2].cost_usd, 0.10, 1e-9);
  // Steps are 5 s apart and end with the last complete second.
  EXPECT_EQ(v.steps.back(), v.end_unix_s + 1);
  EXPECT_EQ(v.steps[1] - v.steps[0], 5);
  // 70 s later the traffic has left the last minute.
  clock.Advance(seconds(70));
  v = live.View(clock.Now(), 0);
  EXPECT_NEAR(v.cost_per_min.back(), 0, 1e-12);
  EXPECT_EQ(v.last_min[2].requests, 0);
  EXPECT_EQ(v.totals[2].requests, 10);
}

TEST(LiveStats, PercentilesPerStepAndLastMinute) {
  ManualClock clock(TimePoint(seconds(100)));
  LiveStats live(Small(), Backends(), clock);
  // 100 edge answers with latencies 0.01 .. 1.00 s over 4 seconds; TTFT a tenth of it.
  for (int i = 1; i <= 100; ++i) {
    live.OnOutcome(Record("e", 1, RequestStatus::kOk, i / 100.0, i / 1000.0, 0));
    if (i % 25 == 0) clock.Advance(seconds(1));
  }
  // A failed request's latency is not an answer's latency.
  live.OnOutcome(Record("f", 1, RequestStatus::kFailed, 50, std::nullopt, 0));
  clock.Advance(seconds(1));
  LiveView v = live.View(clock.Now(), 0);
  const Percentiles& lat = v.latency_last_min[1];
  // 16 samples kept per second (reservoir) x 4 seconds.
  EXPECT_EQ(lat.n, 64);
  EXPECT_GT(lat.p50, 0.25);
  EXPECT_LT(lat.p50, 0.75);
  EXPECT_GT(lat.p95, 0.80);
  EXPECT_LE(lat.p99, 1.0 + 1e-6);
  EXPECT_LE(lat.p50, lat.p95);
  EXPECT_LE(lat.p95, lat.p99);
  EXPECT_EQ(v.ttft_last_min[1].n, 64);
  EXPECT_LT(v.ttft_last_min[1].p99, 0.11);
  EXPECT_EQ(v.latency_last_min[0].n, 0);
  // The step series has a value where there were answers, NaN elsewhere.
  int with = 0;
  for (double x : v.latency_p95[1]) with += std::isnan(x) ? 0 : 1;
  EXPECT_GE(with, 1);
  EXPECT_LE(with, 2);  // 4 seconds fall in one or two 5-s steps
  for (double x : v.latency_p95[0]) EXPECT_TRUE(std::isnan(x));
}

TEST(LiveStats, OldSecondsAreForgottenWhenTheWindowWraps) {
  ManualClock clock(TimePoint(seconds(10)));
  LiveStats live(Small(), Backends(), clock);
  live.OnOutcome(Record("old", 1, RequestStatus::kOk, 0.5, 0.1, 0));
  clock.Advance(seconds(60));  // same slot of the 60-s ring
  live.OnOutcome(Record("new", 2, RequestStatus::kOk, 0.5, 0.1, 0));
  clock.Advance(seconds(1));
  LiveView v = live.View(clock.Now(), 0);
  int64_t edge = 0, cloud = 0;
  for (int64_t x : v.requests[1]) edge += x;
  for (int64_t x : v.requests[2]) cloud += x;
  EXPECT_EQ(edge, 0);
  EXPECT_EQ(cloud, 1);
  EXPECT_EQ(v.totals[1].requests, 1);  // still in the totals
}

TEST(LiveStats, ConcurrentWritersAndReaders) {
  SystemClock clock;
  LiveStats live(LiveStatsOptions{}, Backends(), clock);
  constexpr int kThreads = 4, kEach = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&live, t] {
      for (int i = 0; i < kEach; ++i) live.OnOutcome(Record(std::to_string(i), i % 3, RequestStatus::kOk, 0.1 * t, 0.01, 0.001));
    });
  }
  threads.emplace_back([&live, &clock] {
    for (int i = 0; i < 50; ++i) (void)live.View(clock.Now(), 50);
  });
  for (auto& th : threads) th.join();
  LiveView v = live.View(clock.Now(), 50);
  int64_t total = 0;
  for (const auto& t : v.totals) total += t.requests;
  EXPECT_EQ(total, kThreads * kEach);
  EXPECT_NEAR(v.totals[0].cost_usd + v.totals[1].cost_usd + v.totals[2].cost_usd, kThreads * kEach * 0.001, 1e-6);
  EXPECT_EQ(v.decisions.size(), 50u);
}

TEST(SampleQuantiles, InterpolatesBetweenOrderStatistics) {
  std::vector<float> v = {4, 1, 3, 2, 5};
  Percentiles p = Summarize(v);
  EXPECT_EQ(p.n, 5);
  EXPECT_FLOAT_EQ(p.p50, 3);
  EXPECT_NEAR(p.p95, 4.8, 1e-6);
  EXPECT_NEAR(p.p99, 4.96, 1e-6);
  EXPECT_FLOAT_EQ(SortedQuantile(v, 0), 1);
  EXPECT_FLOAT_EQ(SortedQuantile(v, 1), 5);
  EXPECT_TRUE(std::isnan(SortedQuantile({}, 0.5)));
  std::vector<float> none;
  EXPECT_EQ(Summarize(none).n, 0);
}

TEST(SampleQuantiles, SelectionAgreesWithSorting) {
  std::vector<float> none;
  EXPECT_TRUE(std::isnan(SelectQuantile(none, 0.95)));
  uint64_t x = 12345;
  for (int n : {1, 2, 3, 7, 64, 333}) {
    std::vector<float> v;
    for (int i = 0; i < n; ++i) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      v.push_back(static_cast<float>((x >> 40) % 1000) / 10.0f);
    }
    std::vector<float> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    for (double q : {0.0, 0.5, 0.95, 0.99, 1.0}) {
      std::vector<float> work = v;
      EXPECT_DOUBLE_EQ(SelectQuantile(work, q), SortedQuantile(sorted, q)) << "n=" << n << " q=" << q;
    }
  }
}

}  // namespace
}  // namespace mec
