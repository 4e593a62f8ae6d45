#include "telemetry/telemetry.h"

#include <gtest/gtest.h>

#include "context/request_context.h"
#include "route/router.h"
#include "telemetry/decision_query.h"
#include "telemetry/test_records.h"

namespace mec {
namespace {

using testing_util::MakeRecord;
using testing_util::PromtoolCheck;
using testing_util::Sample;
using testing_util::TempPath;

std::vector<BackendOptions> Backends() {
  BackendOptions edge;
  edge.name = "mec-1";
  edge.tier = Tier::kEdge;
  edge.url = "http://127.0.0.1:1/v1";
  edge.models = {"m"};
  BackendOptions cloud = edge;
  cloud.name = "api";
  cloud.tier = Tier::kCloud;
  cloud.price.input_per_1m = 2.5;
  cloud.price.output_per_1m = 10;
  return {edge, cloud};
}

RequestContext Context() {
  RequestContext ctx;
  ctx.model = "auto";
  ctx.input_tokens = 1000;
  ctx.output_tokens = 120;
  ctx.task_class = "code";
  ctx.deadline_ms = 2000;
  ctx.min_quality = 0.8;
  ctx.privacy = Privacy::kAny;
  ctx.network.link = LinkType::k5g;
  ctx.network.rtt_edge_ms = 12;
  ctx.stream = true;
  return ctx;
}

Decision MakeDecision() {
  Decision d;
  d.chain = {0, 1};
  d.policy = "adaptive";
  d.reason = "edge meets quality";
  d.candidates = MakeRecord("x", 0).candidates;
  return d;
}

class TelemetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = TempPath(std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".db");
    TelemetryOptions o;
    o.decision_log.path = path_;
    o.decision_log.flush_ms = 60000;
    auto t = Telemetry::Create(o, pool_, {"adaptive", "cloud-only"}, clock_);
    ASSERT_TRUE(t.ok()) << t.status().message();
    tel_ = std::move(*t);
  }
  std::string Query(const std::string& sql) {
    tel_->Flush();
    auto db = SqliteDb::Open(path_, true);
    auto v = (*db)->QueryText(sql);
    EXPECT_TRUE(v.ok()) << v.status().message();
    return v.ok() ? *v : "<error>";
  }

  ManualClock clock_;
  BackendPool pool_{Backends()};
  std::string path_;
  std::unique_ptr<Telemetry> tel_;
};

// The primary's connect fails, the fallback answers a stream: every figure lands once.
TEST_F(TelemetryTest, FailoverRequestEndToEnd) {
  RequestRecord r = tel_->Begin("dec-1");
  clock_.Advance(FromMillis(0.02));
  tel_->OnDecision(r, Context(), MakeDecision(), FromMillis(0.02));
  clock_.Advance(FromMillis(100));
  tel_->OnAttempt(r, 0, AttemptResult::kConnect, false, false);
  clock_.Advance(FromMillis(300));
  tel_->OnFirstByte(r);
  clock_.Advance(FromMillis(500));
  tel_->OnFirstByte(r);  // only the first counts
  clock_.Advance(FromMillis(500));
  tel_->OnAttempt(r, 1, AttemptResult::kOk, false, true);
  r.output_tokens = 100;  // from the upstream's usage; input left to the estimate
  r.upstream_s = 1.4;     // the gateway's own share: 1.40002 - 1.4 = 20 us
  tel_->OnOutcome(std::move(r), RequestStatus::kOk, 200);

  const std::string t = tel_->MetricsText(nullptr);
  EXPECT_EQ(Sample(t, R"(mecrouter_requests_total{backend="api",policy="adaptive",status="ok",tier="cloud"})"), 1) << t;
  EXPECT_EQ(Sample(t, R"(mecrouter_attempts_total{backend="mec-1",result="connect",tier="edge"})"), 1);
  EXPECT_EQ(Sample(t, R"(mecrouter_attempts_total{backend="api",result="ok",tier="cloud"})"), 1);
  EXPECT_EQ(Sample(t, "mecrouter_retries_total"), 1);
  EXPECT_EQ(Sample(t, "mecrouter_hedges_total"), 0);
  EXPECT_EQ(Sample(t, R"(mecrouter_fallbacks_total{backend="api",tier="cloud"})"), 1);
  EXPECT_NEAR(*Sample(t, R"(mecrouter_ttft_seconds_sum{backend="api",tier="cloud"})"), 0.40002, 1e-9);
  EXPECT_NEAR(*Sample(t, R"(mecrouter_request_duration_seconds_sum{backend="api",tier="cloud"})"), 1.40002, 1e-9);
  EXPECT_EQ(Sample(t, R"(mecrouter_tokens_total{backend="api",direction="input",tier="cloud"})"), 1000);
  EXPECT_EQ(Sample(t, R"(mecrouter_tokens_total{backend="api",direction="output",tier="cloud"})"), 100);
  EXPECT_NEAR(*Sample(t, R"(mecrouter_cost_usd_total{backend="api",tier="cloud"})"), 1000 * 2.5e-6 + 100 * 10e-6, 1e-12);
  EXPECT_EQ(Sample(t, R"(mecrouter_decision_seconds_count{policy="adaptive"})"), 1);
  EXPECT_EQ(Sample(t, "mecrouter_gateway_overhead_seconds_count"), 1);
  EXPECT_NEAR(*Sample(t, "mecrouter_gateway_overhead_seconds_sum"), 2e-5, 1e-9);
  EXPECT_EQ(Sample(t, R"(mecrouter_gateway_overhead_seconds_bucket{le="2.5e-05"})"), 1);
  EXPECT_EQ(Sample(t, "mecrouter_decision_log_rows_written_total"), 0);  // not flushed yet (flush_ms 60 s)

  EXPECT_EQ(Query("SELECT backend || ' ' || tier || ' ' || attempts || ' ' || hedges || ' ' || status || ' ' || http_status FROM decisions"),
            "api cloud 2 0 ok 200");
  EXPECT_EQ(Query("SELECT ttft_s || ' ' || latency_s || ' ' || input_tokens || ' ' || output_tokens || ' ' || cost_usd FROM decisions"),
            "0.40002 1.40002 1000 100 0.0035");
  EXPECT_EQ(Query("SELECT pred_ttft_s || ' ' || pred_latency_s || ' ' || chain || ' ' || primary_backend FROM decisions"),
            "0.5 2.0 mec-1,api mec-1");
  EXPECT_EQ(Query("SELECT task_class || ' ' || input_tokens_est || ' ' || deadline_ms || ' ' || network || ' ' || stream || ' ' || decision_us FROM decisions"),
            "code 1000 2000.0 link=5g; rtt-edge=12 1 20.0");
  EXPECT_EQ(Query("SELECT ts FROM decisions"), "1700000000.0");  // ManualClock's Unix origin

  EXPECT_EQ(Sample(tel_->MetricsText(nullptr), "mecrouter_decision_log_rows_written_total"), 1);
  tel_->OnFeedback("dec-1", 0.9);
  EXPECT_EQ(Query("SELECT feedback FROM decisions WHERE id = 'dec-1'"), "0.9");
  EXPECT_EQ(Sample(tel_->MetricsText(nullptr), "mecrouter_feedback_total"), 1);
}

TEST_F(TelemetryTest, HedgeWinsAndLoserIsCancelled) {
  RequestRecord r = tel_->Begin("dec-h");
  tel_->OnDecision(r, Context(), MakeDecision(), FromMillis(0.01));
  clock_.Advance(FromMillis(250));
  tel_->OnFirstByte(r);
  tel_->OnAttempt(r, 0, AttemptResult::kCancelled, false, false);  // the primary lost
  clock_.Advance(FromMillis(250));
  tel_->OnAttempt(r, 1, AttemptResult::kOk, true, false);
  tel_->OnOutcome(std::move(r), RequestStatus::kOk, 200);
  const std::string t = tel_->MetricsText(nullptr);
  EXPECT_EQ(Sample(t, "mecrouter_hedges_total"), 1) << t;
  EXPECT_EQ(Sample(t, "mecrouter_retries_total"), 0);
  EXPECT_EQ(Sample(t, R"(mecrouter_requests_total{backend="api",policy="adaptive",status="ok",tier="cloud"})"), 1);
  EXPECT_EQ(Query("SELECT backend || ' ' || attempts || ' ' || hedges FROM decisions"), "api 2 1");
}

TEST_F(TelemetryTest, UndecidedRequestsReachMetricsNotTheLog) {
  RequestRecord rejected = tel_->Begin("dec-r");
  tel_->OnOutcome(std::move(rejected), RequestStatus::kRejected, 400);
  RequestRecord none = tel_->Begin("dec-n");
  tel_->OnNoDecision(none, Context(), "cloud-only", "no backend can take it", FromMillis(0.005));
  tel_->OnOutcome(std::move(none), RequestStatus::kFailed, 503);
  RequestRecord shed = tel_->Begin("dec-s");
  Decision d = MakeDecision();
  d.shed = true;
  tel_->OnDecision(shed, Context(), d, FromMillis(0.005));
  tel_->OnOutcome(std::move(shed), RequestStatus::kShed, 429);
  const std::string t = tel_->MetricsText(nullptr);
  EXPECT_EQ(Sample(t, R"(mecrouter_requests_total{backend="none",policy="other",status="rejected",tier="none"})"), 1) << t;
  EXPECT_EQ(Sample(t, R"(mecrouter_requests_total{backend="none",policy="cloud-only",status="failed",tier="none"})"), 1);
  EXPECT_EQ(Sample(t, R"(mecrouter_requests_total{backend="none",policy="adaptive",status="shed",tier="none"})"), 1);
  EXPECT_EQ(Query("SELECT group_concat(id || ':' || status || ':' || COALESCE(backend, '-') || ':' || chain, ' ') FROM decisions"),
            "dec-n:failed:-: dec-s:shed:-:mec-1,api");
  EXPECT_EQ(Query("SELECT reason FROM decisions WHERE id = 'dec-n'"), "no backend can take it");
}

TEST_F(TelemetryTest, MetricsTextWithSnapshotPassesPromtool) {
  RequestRecord r = tel_->Begin("dec-p");
  tel_->OnDecision(r, Context(), MakeDecision(), FromMillis(0.01));
  tel_->OnAttempt(r, 0, AttemptResult::kOk, false, false);
  tel_->OnOutcome(std::move(r), RequestStatus::kOk, 200);
  tel_->OnCacheLookup(CacheLookup::kMiss);
  PoolSnapshot snap;
  snap.backends.resize(2);
  snap.backends[1].health = HealthState::kHalfOpen;
  const std::string t = tel_->MetricsText(&snap);
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_health_state{backend="api",state="half_open",tier="cloud"})"), 1) << t;
  EXPECT_EQ(Sample(t, R"(mecrouter_cache_lookups_total{result="miss"})"), 1);
  EXPECT_EQ(Sample(t, "mecrouter_decision_log_rows_dropped_total"), 0);
  EXPECT_TRUE(Sample(t, "mecrouter_decision_log_queue_length"));
  std::string out;
  EXPECT_EQ(PromtoolCheck(t, &out), 0) << out;
  EXPECT_EQ(out.find_first_not_of(" \n"), std::string::npos) << out;
}

TEST_F(TelemetryTest, CloseFlushesEverything) {
  for (int i = 0; i < 300; ++i) {
    RequestRecord r = tel_->Begin("dec-" + std::to_string(i));
    tel_->OnDecision(r, Context(), MakeDecision(), FromMillis(0.01));
    tel_->OnAttempt(r, 0, AttemptResult::kOk, false, false);
    tel_->OnOutcome(std::move(r), RequestStatus::kOk, 200);
  }
  tel_->Close();
  tel_->Close();  // idempotent
  auto db = SqliteDb::Open(path_, true);
  EXPECT_EQ(*(*db)->QueryText("SELECT COUNT(*) FROM decisions"), "300");
}

TEST(TelemetryOff, MetricsOffAndNoLogs) {
  ManualClock clock;
  BackendPool pool(Backends());
  TelemetryOptions o;
  o.metrics = false;
  auto t = Telemetry::Create(o, pool, {"adaptive"}, clock);
  ASSERT_TRUE(t.ok());
  RequestRecord r = (*t)->Begin("x");
  (*t)->OnOutcome(std::move(r), RequestStatus::kRejected, 400);
  EXPECT_EQ((*t)->MetricsText(nullptr), "");
  EXPECT_EQ((*t)->decision_log(), nullptr);
  o.decision_log.path = "/nonexistent-dir/d.db";
  auto bad = Telemetry::Create(o, pool, {"adaptive"}, clock);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("/nonexistent-dir/d.db"), std::string::npos);
}

// The cloud-only counterfactual (EMF CloudOnlyCostUSD, docs/deploy-aws.md): an answer from the
// edge is priced at the first cloud backend's rates for the same tokens; a cloud answer counts its
// own cost; a request that got no answer counts nothing.
TEST_F(TelemetryTest, CloudOnlyCounterfactualCost) {
  struct Keep : OutcomeObserver {
    std::vector<RequestRecord> seen;
    void OnOutcome(const RequestRecord& r) override { seen.push_back(r); }
  } keep;
  tel_->set_outcome_observer(&keep);
  auto serve = [&](int backend, RequestStatus status) {
    RequestRecord r = tel_->Begin("dec");
    tel_->OnDecision(r, Context(), MakeDecision(), FromMillis(0.02));
    clock_.Advance(FromMillis(200));
    tel_->OnAttempt(r, backend, AttemptResult::kOk, false, true);
    r.input_tokens = 1000;
    r.output_tokens = 100;
    tel_->OnOutcome(std::move(r), status, status == RequestStatus::kOk ? 200 : 503);
  };
  serve(0, RequestStatus::kOk);      // the edge (free in this pool) answered
  serve(1, RequestStatus::kOk);      // the cloud answered
  serve(0, RequestStatus::kFailed);  // nothing delivered
  ASSERT_EQ(keep.seen.size(), 3u);
  const double cloud_price = 1000 * 2.5 / 1e6 + 100 * 10 / 1e6;
  EXPECT_DOUBLE_EQ(keep.seen[0].cost_usd, 0);
  EXPECT_DOUBLE_EQ(keep.seen[0].cloud_only_usd, cloud_price);
  EXPECT_DOUBLE_EQ(keep.seen[1].cost_usd, cloud_price);
  EXPECT_DOUBLE_EQ(keep.seen[1].cloud_only_usd, keep.seen[1].cost_usd);
  EXPECT_DOUBLE_EQ(keep.seen[2].cloud_only_usd, 0);
  tel_->set_outcome_observer(nullptr);
}

}  // namespace
}  // namespace mec
