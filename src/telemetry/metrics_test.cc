#include "telemetry/metrics.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "telemetry/test_records.h"

namespace mec {
namespace {

using testing_util::Sample;
using testing_util::PromtoolCheck;
using testing_util::TempPath;

Metrics MakeMetrics() {
  return Metrics({{"phone", "device"}, {"mec-1", "edge"}, {"api", "cloud"}}, {"adaptive", "cloud-only"});
}

TEST(Metrics, RequestsByTierBackendPolicyStatus) {
  Metrics m = MakeMetrics();
  const int adaptive = m.PolicyIndex("adaptive");
  EXPECT_EQ(adaptive, 0);
  EXPECT_EQ(m.PolicyIndex("cloud-only"), 1);
  EXPECT_EQ(m.PolicyIndex("nonsense"), 2);  // "other"
  m.CountRequest(1, adaptive, RequestStatus::kOk);
  m.CountRequest(1, adaptive, RequestStatus::kOk);
  m.CountRequest(2, m.PolicyIndex("cloud-only"), RequestStatus::kFailed);
  m.CountRequest(-1, adaptive, RequestStatus::kRejected);
  m.CountRequest(-1, m.PolicyIndex("nonsense"), RequestStatus::kShed);
  const std::string t = m.Text();
  EXPECT_EQ(Sample(t, R"(mecrouter_requests_total{backend="mec-1",policy="adaptive",status="ok",tier="edge"})"), 2) << t;
  EXPECT_EQ(Sample(t, R"(mecrouter_requests_total{backend="api",policy="cloud-only",status="failed",tier="cloud"})"), 1);
  EXPECT_EQ(Sample(t, R"(mecrouter_requests_total{backend="none",policy="adaptive",status="rejected",tier="none"})"), 1);
  EXPECT_EQ(Sample(t, R"(mecrouter_requests_total{backend="none",policy="other",status="shed",tier="none"})"), 1);
  // Children exist only once used: no zero series for every combination.
  EXPECT_FALSE(Sample(t, R"(mecrouter_requests_total{backend="phone",policy="adaptive",status="ok",tier="device"})"));
}

TEST(Metrics, LatencyTokensCostAttempts) {
  Metrics m = MakeMetrics();
  m.ObserveTtft(1, 0.15);
  m.ObserveTtft(1, 0.4);
  m.ObserveDuration(1, 1.2);
  m.ObserveTtft(-1, 0.01);
  m.AddTokens(1, 100, 250);
  m.AddTokens(1, 10, 5);
  m.AddCost(2, 0.0025);
  m.AddCost(2, 0.0005);
  m.CountAttempt(0, AttemptResult::kConnect, false, false);
  m.CountAttempt(1, AttemptResult::kOk, true, false);
  m.CountAttempt(2, AttemptResult::kOk, false, true);
  m.CountAttempt(0, AttemptResult::kSkipped, false, false);
  m.CountFallback(1);
  m.ObserveDecision(0, 3e-6);
  m.ObserveDecision(7, 1e-3);  // out of range: "other"
  m.CountCache(CacheLookup::kHit);
  m.CountCache(CacheLookup::kHit);
  m.CountCache(CacheLookup::kMiss);
  m.CountFeedback();
  const std::string t = m.Text();
  EXPECT_EQ(Sample(t, R"(mecrouter_ttft_seconds_count{backend="mec-1",tier="edge"})"), 2) << t;
  EXPECT_DOUBLE_EQ(*Sample(t, R"(mecrouter_ttft_seconds_sum{backend="mec-1",tier="edge"})"), 0.55);
  EXPECT_EQ(Sample(t, R"(mecrouter_ttft_seconds_bucket{backend="mec-1",tier="edge",le="0.2"})"), 1);
  EXPECT_EQ(Sample(t, R"(mecrouter_ttft_seconds_bucket{backend="mec-1",tier="edge",le="+Inf"})"), 2);
  EXPECT_EQ(Sample(t, R"(mecrouter_ttft_seconds_count{backend="none",tier="none"})"), 1);
  EXPECT_EQ(Sample(t, R"(mecrouter_request_duration_seconds_count{backend="mec-1",tier="edge"})"), 1);
  EXPECT_EQ(Sample(t, R"(mecrouter_request_duration_seconds_count{backend="api",tier="cloud"})"), 0);
  EXPECT_EQ(Sample(t, R"(mecrouter_tokens_total{backend="mec-1",direction="input",tier="edge"})"), 110);
  EXPECT_EQ(Sample(t, R"(mecrouter_tokens_total{backend="mec-1",direction="output",tier="edge"})"), 255);
  EXPECT_DOUBLE_EQ(*Sample(t, R"(mecrouter_cost_usd_total{backend="api",tier="cloud"})"), 0.003);
  EXPECT_EQ(Sample(t, R"(mecrouter_attempts_total{backend="phone",result="connect",tier="device"})"), 1);
  EXPECT_EQ(Sample(t, R"(mecrouter_attempts_total{backend="phone",result="skipped",tier="device"})"), 1);
  EXPECT_EQ(Sample(t, R"(mecrouter_attempts_total{backend="mec-1",result="ok",tier="edge"})"), 1);
  EXPECT_EQ(Sample(t, "mecrouter_retries_total"), 1);
  EXPECT_EQ(Sample(t, "mecrouter_hedges_total"), 1);
  EXPECT_EQ(Sample(t, R"(mecrouter_fallbacks_total{backend="mec-1",tier="edge"})"), 1);
  EXPECT_EQ(Sample(t, R"(mecrouter_fallbacks_total{backend="api",tier="cloud"})"), 0);
  EXPECT_EQ(Sample(t, R"(mecrouter_decision_seconds_count{policy="adaptive"})"), 1);
  EXPECT_EQ(Sample(t, R"(mecrouter_decision_seconds_bucket{policy="adaptive",le="5e-06"})"), 1);
  EXPECT_EQ(Sample(t, R"(mecrouter_decision_seconds_count{policy="other"})"), 1);
  EXPECT_EQ(Sample(t, R"(mecrouter_cache_lookups_total{result="hit"})"), 2);
  EXPECT_EQ(Sample(t, R"(mecrouter_cache_lookups_total{result="miss"})"), 1);
  EXPECT_EQ(Sample(t, R"(mecrouter_cache_lookups_total{result="bypass"})"), 0);
  EXPECT_EQ(Sample(t, "mecrouter_feedback_total"), 1);
}

TEST(Metrics, BackendGaugesFromSnapshot) {
  Metrics m = MakeMetrics();
  PoolSnapshot snap;
  snap.backends.resize(3);
  for (int i = 0; i < 3; ++i) snap.backends[i].index = i;
  snap.backends[1].health = HealthState::kEjected;
  snap.backends[1].routable = false;
  snap.backends[1].ejections = 2;
  snap.backends[1].ejected_for_s = 12.5;
  snap.backends[2].in_flight = 3;
  snap.backends[2].capacity = 8;
  snap.backends[2].error_rate = 0.25;
  snap.backends[2].ttft.mu = std::log(0.6);
  m.RefreshBackends(snap);
  std::string t = m.Text();
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_routable{backend="mec-1",tier="edge"})"), 0) << t;
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_routable{backend="api",tier="cloud"})"), 1);
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_health_state{backend="mec-1",state="ejected",tier="edge"})"), 1);
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_health_state{backend="mec-1",state="healthy",tier="edge"})"), 0);
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_health_state{backend="phone",state="healthy",tier="device"})"), 1);
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_ejection_remaining_seconds{backend="mec-1",tier="edge"})"), 12.5);
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_ejections_total{backend="mec-1",tier="edge"})"), 2);
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_in_flight{backend="api",tier="cloud"})"), 3);
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_capacity{backend="api",tier="cloud"})"), 8);
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_error_ratio{backend="api",tier="cloud"})"), 0.25);
  EXPECT_NEAR(*Sample(t, R"(mecrouter_backend_ttft_estimate_seconds{backend="api",tier="cloud"})"), 0.6, 1e-9);
  // Recovered, one more ejection since: the counter adds only the new one.
  snap.backends[1].health = HealthState::kHealthy;
  snap.backends[1].routable = true;
  snap.backends[1].ejections = 3;
  snap.backends[1].ejected_for_s = 0;
  m.RefreshBackends(snap);
  m.RefreshBackends(snap);
  t = m.Text();
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_ejections_total{backend="mec-1",tier="edge"})"), 3);
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_health_state{backend="mec-1",state="ejected",tier="edge"})"), 0);
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_routable{backend="mec-1",tier="edge"})"), 1);
}

TEST(Metrics, ConcurrentUpdatesAreAllCounted) {
  Metrics m = MakeMetrics();
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&m, k] {
      for (int i = 0; i < 2000; ++i) {
        m.CountRequest(i % 3, k % 2, static_cast<RequestStatus>(i % kRequestStatusCount));
        m.CountAttempt(i % 3, AttemptResult::kOk, false, false);
        m.ObserveTtft(i % 3, 0.1);
      }
    });
  }
  for (auto& t : threads) t.join();
  const std::string t = m.Text();
  double requests = 0, attempts = 0, ttft = 0;
  std::istringstream in(t);
  std::string line;
  while (std::getline(in, line)) {
    const double v = line.empty() || line[0] == '#' ? 0 : std::stod(line.substr(line.rfind(' ') + 1));
    if (line.rfind("mecrouter_requests_total{", 0) == 0) requests += v;
    if (line.rfind("mecrouter_attempts_total{", 0) == 0) attempts += v;
    if (line.rfind("mecrouter_ttft_seconds_count{", 0) == 0) ttft += v;
  }
  EXPECT_EQ(requests, 8000);
  EXPECT_EQ(attempts, 8000);
  EXPECT_EQ(ttft, 8000);
}

TEST(Metrics, TextPassesPromtool) {
  Metrics m = MakeMetrics();
  m.CountRequest(1, 0, RequestStatus::kOk);
  m.CountRequest(-1, 1, RequestStatus::kRejected);
  m.ObserveTtft(1, 0.3);
  m.ObserveDuration(1, 0.9);
  m.AddTokens(1, 5, 7);
  m.AddCost(1, 1e-5);
  m.CountAttempt(1, AttemptResult::kOk, false, false);
  m.ObserveDecision(0, 1e-5);
  PoolSnapshot snap;
  snap.backends.resize(3);
  m.RefreshBackends(snap);
  prometheus::MetricFamily extra;
  extra.name = "mecrouter_extra_total";
  extra.help = "An extra family.";
  extra.type = prometheus::MetricType::Counter;
  extra.metric.emplace_back();
  extra.metric.back().counter.value = 4;
  const std::string text = m.Text({extra});
  EXPECT_EQ(Sample(text, "mecrouter_extra_total"), 4);
  std::string out;
  const int rc = PromtoolCheck(text, &out);
  EXPECT_EQ(rc, 0) << "promtool check metrics:\n" << out << "\n--- text ---\n" << text;
  EXPECT_EQ(out.find_first_not_of(" \n"), std::string::npos) << "promtool lint findings:\n" << out;
}

// promtool itself must reject bad text, or the check above proves nothing.
TEST(Metrics, PromtoolRejectsMalformedText) {
  std::string out;
  const int rc = PromtoolCheck("# TYPE x counter\nx{a=\"1\" 3\n", &out);
  EXPECT_NE(rc, 0) << out;
}

}  // namespace
}  // namespace mec
