#include "gateway/request_flow.h"

#include <gtest/gtest.h>

#include "cache/prefix_index.h"
#include "gateway/gateway_stats.h"

namespace mec {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

BackendOptions Mk(std::string name, Tier t) {
  BackendOptions b;
  b.name = name;
  b.tier = t;
  b.url = "http://127.0.0.1:1/v1";
  b.models = {name + "-model"};
  b.max_concurrency = 4;
  b.price.input_per_1m = 1;
  return b;
}

// Decides what it is told to: the flow's steps are under test, not a policy.
class FixedRouter final : public Router {
 public:
  std::string_view name() const override { return "fixed"; }
  Result<Decision> Decide(const RequestContext&, const RouteEnv&) const override {
    ++calls;
    if (!status.ok()) return status;
    return decision;
  }
  Decision decision;
  Status status;
  mutable int calls = 0;
};

// A pool of edge-a, edge-b, cloud on a manual clock, with the gateway's counters.
struct FlowTest : ::testing::Test {
  FlowTest()
      : pool(std::vector<BackendOptions>{Mk("edge-a", Tier::kEdge), Mk("edge-b", Tier::kEdge), Mk("cloud", Tier::kCloud)}),
        monitor(pool, clock.Now()),
        names{"edge-a", "edge-b", "cloud"},
        engine{pool, monitor, lengths, clock, names, 3},
        rng(1) {
    engine.stats = &stats;
    ctx.model = "auto";
    ctx.task_class = "chat";
    ctx.input_tokens = 1000;
    router.decision.chain = {0, 1, 2};
    router.decision.policy = "fixed";
  }
  ManualClock clock{TimePoint{} + seconds(100)};
  BackendPool pool;
  BackendMonitor monitor;
  OutputTokenLearner lengths;
  std::vector<std::string> names;
  Engine engine;
  GatewayStats stats;
  Rng rng;
  RequestContext ctx;
  FixedRouter router;
};

TEST_F(FlowTest, FailsOverAlongTheChainAndLearnsFromEachAttempt) {
  const double length_before = lengths.Expected("chat");
  RequestFlow flow(engine, ctx, nullptr);
  ASSERT_EQ(flow.Decide(router, rng), RequestFlow::Verdict::kRoute);
  FailoverAction a = flow.Start();
  ASSERT_EQ(a.type, FailoverAction::kStartAttempt);
  EXPECT_EQ(a.backend, 0);
  const TimePoint sent = clock.Now();
  clock.Advance(milliseconds(40));
  a = flow.OnFailure(0, {AttemptResult::kServerError, 503, 0, "HTTP 503"}, sent);
  ASSERT_EQ(a.type, FailoverAction::kStartAttempt);
  EXPECT_EQ(a.backend, 1);
  const TimePoint sent2 = clock.Now();
  clock.Advance(milliseconds(200));
  EXPECT_TRUE(flow.OnFirstByte(1).empty());
  const TimePoint first = clock.Now();
  clock.Advance(milliseconds(990));  // 100 tokens, 10 ms apart
  flow.OnAttemptEnd(1, AttemptResult::kOk, {sent2, first, clock.Now(), 100, true});
  monitor.Publish(clock.Now());

  EXPECT_EQ(stats.upstream_attempts.load(), 2u);
  EXPECT_EQ(stats.failovers.load(), 1u);
  EXPECT_EQ(pool.at(0).failures.load(), 1u);
  EXPECT_EQ(pool.at(1).requests.load(), 1u);
  EXPECT_GT(monitor.Current().backends[0].error_rate, 0.0);  // the 503 counted against edge-a
  EXPECT_EQ(monitor.Current().backends[1].error_rate, 0.0);
  EXPECT_NEAR(monitor.Current().backends[1].tpot.Median(), 0.010, 0.004);  // learned from the stream
  ASSERT_GT(length_before, 100);
  EXPECT_LT(lengths.Expected("chat"), length_before);  // the 100-token answer moved the learner
}

TEST_F(FlowTest, AnEjectedBackendIsSkippedWithoutUsingAnAttempt) {
  ASSERT_TRUE(monitor.OnRemoteEjection(0, seconds(30), clock.Now()));
  engine.max_attempts = 1;
  RequestFlow flow(engine, ctx, nullptr);
  ASSERT_EQ(flow.Decide(router, rng), RequestFlow::Verdict::kRoute);
  FailoverAction a = flow.Start();
  ASSERT_EQ(a.type, FailoverAction::kStartAttempt);
  EXPECT_EQ(a.backend, 1);  // edge-a was skipped; the one allowed attempt went to edge-b
  EXPECT_EQ(flow.machine().attempt_count(), 1);
  EXPECT_EQ(pool.at(0).requests.load(), 0u);
}

// The gateway and the simulator used to disagree: a hedge now needs a positive delay in both.
TEST_F(FlowTest, HedgesOnlyWithAPositiveDelay) {
  router.decision.hedge = true;
  router.decision.hedge_delay_s = 0;
  {
    RequestFlow flow(engine, ctx, nullptr);
    ASSERT_EQ(flow.Decide(router, rng), RequestFlow::Verdict::kRoute);
    flow.Start();
    EXPECT_FALSE(flow.HedgeAt().has_value());
  }
  router.decision.hedge_delay_s = 0.2;
  RequestFlow flow(engine, ctx, nullptr);
  ASSERT_EQ(flow.Decide(router, rng), RequestFlow::Verdict::kRoute);
  const TimePoint sent = clock.Now();
  ASSERT_EQ(flow.Start().backend, 0);
  ASSERT_TRUE(flow.HedgeAt().has_value());
  EXPECT_EQ(*flow.HedgeAt(), sent + milliseconds(200));
  clock.Advance(milliseconds(200));
  const FailoverAction h = flow.OnHedgeTimer();
  ASSERT_EQ(h.type, FailoverAction::kStartAttempt);
  EXPECT_EQ(h.backend, 1);
  clock.Advance(milliseconds(50));
  const std::vector<int> losers = flow.OnFirstByte(1);  // the hedge answers first
  ASSERT_EQ(losers, std::vector<int>{0});
  flow.OnAttemptEnd(0, AttemptResult::kCancelled, {sent, std::nullopt, clock.Now(), 0, true});
  EXPECT_TRUE(flow.hedge_won());
  EXPECT_EQ(stats.hedges.load(), 1u);
  EXPECT_EQ(stats.hedge_wins.load(), 1u);
  EXPECT_EQ(stats.failovers.load(), 0u);  // a hedge is not a failover
  EXPECT_GT(stats.hedge_cost_nano_usd.load(), 0u);  // the loser's input was paid for
  monitor.Publish(clock.Now());
  EXPECT_EQ(monitor.Current().backends[0].error_rate, 0.0);  // losing a race is not failing
}

TEST_F(FlowTest, VerdictsBesidesRouting) {
  router.status = Status::NotFound("no such model");
  {
    RequestFlow flow(engine, ctx, nullptr);
    EXPECT_EQ(flow.Decide(router, rng), RequestFlow::Verdict::kNotFound);
  }
  router.status = Status::Unavailable("offline");
  {
    RequestFlow flow(engine, ctx, nullptr);
    EXPECT_EQ(flow.Decide(router, rng), RequestFlow::Verdict::kUnavailable);
    EXPECT_EQ(flow.status().message(), "offline");
  }
  router.status = Status();
  router.decision.shed = true;
  RequestFlow flow(engine, ctx, nullptr);
  EXPECT_EQ(flow.Decide(router, rng), RequestFlow::Verdict::kShed);
}

TEST_F(FlowTest, GivesUpPastTheDeadline) {
  ctx.deadline_ms = 100;
  RequestFlow flow(engine, ctx, nullptr);
  ASSERT_EQ(flow.Decide(router, rng), RequestFlow::Verdict::kRoute);
  const TimePoint sent = clock.Now();
  ASSERT_EQ(flow.Start().type, FailoverAction::kStartAttempt);
  clock.Advance(milliseconds(150));
  const FailoverAction a = flow.OnFailure(0, {AttemptResult::kTimeout, 0, 0, "no first byte"}, sent);
  ASSERT_EQ(a.type, FailoverAction::kGiveUp);
  EXPECT_EQ(a.error.http_status, 504);
  EXPECT_NE(a.error.message.find("edge-a"), std::string::npos);
}

TEST_F(FlowTest, TheShadowPolicyIsOnlyCounted) {
  FixedRouter shadow;
  shadow.decision.chain = {2, 0};
  RequestFlow flow(engine, ctx, nullptr);
  ASSERT_EQ(flow.Decide(router, rng, &shadow), RequestFlow::Verdict::kRoute);
  EXPECT_EQ(shadow.calls, 1);
  EXPECT_EQ(stats.shadow_disagree.load(), 1u);
  EXPECT_EQ(flow.decision().chain.front(), 0);
}


// Continuation: edge-a streams and is cut; edge-b cannot continue; cloud-a was filtered out (say,
// by privacy); cloud-b and device can continue, cloud-b scored higher.
struct ContinueTest : ::testing::Test {
  static std::vector<BackendOptions> Backends() {
    std::vector<BackendOptions> v{Mk("edge-a", Tier::kEdge), Mk("edge-b", Tier::kEdge), Mk("cloud-a", Tier::kCloud),
                                  Mk("cloud-b", Tier::kCloud), Mk("device", Tier::kDevice)};
    for (int i : {0, 2, 3, 4}) v[i].can_continue = true;
    return v;
  }
  ContinueTest()
      : pool(Backends()), monitor(pool, clock.Now()), names{"edge-a", "edge-b", "cloud-a", "cloud-b", "device"},
        engine{pool, monitor, lengths, clock, names, 3}, rng(1) {
    engine.stats = &stats;
    ctx.model = "auto";
    ctx.task_class = "chat";
    router.decision.chain = {0, 1, 2, 4, 3};
    for (int b = 0; b < 5; ++b) {
      Candidate c;
      c.backend = b;
      c.passed_filters = b != 2;
      c.score = b == 3 ? 0.9 : 0.1;
      router.decision.candidates.push_back(c);
    }
  }
  ManualClock clock{TimePoint{} + seconds(100)};
  BackendPool pool;
  BackendMonitor monitor;
  OutputTokenLearner lengths;
  std::vector<std::string> names;
  Engine engine;
  GatewayStats stats;
  Rng rng;
  RequestContext ctx;
  FixedRouter router;
};

TEST_F(ContinueTest, PicksACapableFilteredInBackendInTheDecisionsOrderAtMostTwice) {
  RequestFlow flow(engine, ctx, nullptr);
  ASSERT_EQ(flow.Decide(router, rng), RequestFlow::Verdict::kRoute);
  ASSERT_EQ(flow.Start().backend, 0);
  flow.OnFirstByte(0);
  AttemptTiming t;
  t.sent = clock.Now();
  t.first = clock.Now();
  t.end = clock.Now();
  flow.OnAttemptEnd(0, AttemptResult::kMidstreamCut, t);
  // Not edge-a (cut), not edge-b (cannot continue), not cloud-a (filtered): the device, next in the chain.
  EXPECT_EQ(flow.PickContinuation(0), 4);
  EXPECT_EQ(stats.continuations.load(), 0u);  // counted once it streams
  flow.OnContinued(4);
  EXPECT_EQ(stats.continuations.load(), 1u);
  flow.OnAttemptEnd(4, AttemptResult::kMidstreamCut, t);
  EXPECT_EQ(flow.PickContinuation(4), 3);  // then cloud-b
  EXPECT_EQ(flow.continuations(), 2);
  EXPECT_EQ(flow.PickContinuation(3), -1);  // no third continuation
}

TEST_F(ContinueTest, OnlyTheChainAndFailedOpensDoNotCount) {
  router.decision.chain = {0, 3};  // a policy that allows edge-a and cloud-b only
  RequestFlow flow(engine, ctx, nullptr);
  ASSERT_EQ(flow.Decide(router, rng), RequestFlow::Verdict::kRoute);
  ASSERT_EQ(flow.Start().backend, 0);
  flow.OnFirstByte(0);
  EXPECT_EQ(flow.PickContinuation(0, /*device_only=*/true), -1);  // offline: cloud-b is out of reach
  RequestFlow flow2(engine, ctx, nullptr);
  ASSERT_EQ(flow2.Decide(router, rng), RequestFlow::Verdict::kRoute);
  ASSERT_EQ(flow2.Start().backend, 0);
  flow2.OnFirstByte(0);
  EXPECT_EQ(flow2.PickContinuation(0), 3);
  AttemptTiming t;
  t.sent = t.end = clock.Now();
  flow2.OnContinuationFailure(3, AttemptResult::kConnect, t);
  EXPECT_EQ(flow2.PickContinuation(3), -1);  // the device is not in this chain, and cloud-b was tried
}

TEST_F(ContinueTest, SkipsAnEjectedBackendAndMayFindNone) {
  for (int i = 0; i < 20; ++i) {  // cloud-b fails until the outlier detector ejects it
    AttemptOutcome o;
    o.result = AttemptResult::kConnect;
    if (monitor.OnAttemptEnd(3, o, clock.Now())) monitor.Publish(clock.Now());
  }
  ASSERT_FALSE(monitor.AdmitAttempt(3, clock.Now()));
  router.decision.candidates[4].passed_filters = false;  // and the device may not take it
  RequestFlow flow(engine, ctx, nullptr);
  ASSERT_EQ(flow.Decide(router, rng), RequestFlow::Verdict::kRoute);
  ASSERT_EQ(flow.Start().backend, 0);
  flow.OnFirstByte(0);
  EXPECT_EQ(flow.PickContinuation(0), -1);
  EXPECT_EQ(stats.continuations.load(), 0u);
}

// Prefix affinity: every backend an attempt is sent to holds the prompt's blocks afterwards, and
// the next decision reads how much of a prompt each one holds.
TEST_F(FlowTest, RecordsThePromptBlocksWhereAttemptsGoAndShowsThemToTheNextDecision) {
  class Capturing final : public Router {
   public:
    std::string_view name() const override { return "capturing"; }
    Result<Decision> Decide(const RequestContext&, const RouteEnv& env) const override {
      seen.assign(env.prefix_tokens.begin(), env.prefix_tokens.end());
      return decision;
    }
    Decision decision;
    mutable std::vector<double> seen;
  } router2;
  router2.decision.chain = {0, 1, 2};
  PrefixIndex index(pool.size(), 1000);
  engine.prefix_index = &index;
  ctx.prompt_blocks = {11, 12, 13, 14};
  {
    RequestFlow flow(engine, ctx, nullptr);
    ASSERT_EQ(flow.Decide(router2, rng), RequestFlow::Verdict::kRoute);
    EXPECT_EQ(router2.seen, (std::vector<double>{0, 0, 0}));
    FailoverAction a = flow.Start();
    ASSERT_EQ(a.backend, 0);
    a = flow.OnFailure(0, {AttemptResult::kServerError, 503, 0, "HTTP 503"}, clock.Now());
    ASSERT_EQ(a.backend, 1);
  }
  EXPECT_EQ(index.Size(0), 4u) << "edge-a prefilled it before failing";
  EXPECT_EQ(index.Size(1), 4u);
  EXPECT_EQ(index.Size(2), 0u);
  // The conversation goes on: its first four blocks are held by edge-a and edge-b.
  ctx.prompt_blocks = {11, 12, 13, 14, 15, 16};
  RequestFlow next(engine, ctx, nullptr);
  ASSERT_EQ(next.Decide(router2, rng), RequestFlow::Verdict::kRoute);
  EXPECT_EQ(router2.seen, (std::vector<double>{64, 64, 0}));
  // A prompt without blocks shows the router nothing.
  ctx.prompt_blocks.clear();
  RequestFlow plain(engine, ctx, nullptr);
  ASSERT_EQ(plain.Decide(router2, rng), RequestFlow::Verdict::kRoute);
  EXPECT_TRUE(router2.seen.empty());
}

}  // namespace
}  // namespace mec
