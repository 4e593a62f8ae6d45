#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "context/tier_quality.h"
#include "learn/quality_feedback.h"
#include "route/filters.h"
#include "route/policies.h"
#include "route/predict.h"

namespace mec {
namespace {

double DeviceQualityFromEdgeForTest(double q, double r) { return DeviceQualityFromEdge(q, {r, 0.764}); }

BackendOptions Mk(std::string name, Tier t, std::string model) {
  BackendOptions b;
  b.name = std::move(name);
  b.tier = t;
  b.url = "http://127.0.0.1:1/v1";
  b.models = {std::move(model)};
  b.max_concurrency = 4;
  return b;
}

// device (energy-priced), edge (GPU-hour), cloud (per token); views with known latencies.
struct World {
  World() : pool([] {
      auto d = Mk("dev", Tier::kDevice, "small");
      d.price.watts = 5;
      d.price.usd_per_kwh = 0.15;
      d.context_window = 4096;
      auto e = Mk("edge", Tier::kEdge, "mid");
      e.price.gpu_per_hour = 1.0;
      e.price.gpu_tokens_per_second = 500;
      e.json_schema = true;
      auto c = Mk("cloud", Tier::kCloud, "big");
      c.price.input_per_1m = 2.5;
      c.price.output_per_1m = 10;
      c.tools = c.json_schema = true;
      c.context_window = 128000;
      return std::vector<BackendOptions>{d, e, c};
    }()) {
    snap.backends.resize(3);
    Set(0, 0.30, 1.0 / 50, 0.001);   // device: 300 ms TTFT, 50 tok/s, no network
    Set(1, 0.15, 1.0 / 70, 0.020);   // edge
    Set(2, 0.60, 1.0 / 100, 0.100);  // cloud
  }
  void Set(int i, double ttft, double tpot, double rtt) {
    auto& v = snap.backends[i];
    v.index = i;
    v.capacity = 4;
    v.ttft = {std::log(ttft), 0.2, 100};
    v.tpot = {std::log(tpot), 0.1, 100};
    v.rtt = {std::log(rtt), 0.2, 100};
  }
  RequestContext Ctx(double weak = 0.8) const {
    RequestContext c;
    c.model = "auto";
    c.input_tokens = 100;
    c.output_tokens = 50;
    c.min_quality = 0.6;
    c.tier_quality = {weak * 0.8, weak, 1.0};
    c.weak_as_good = weak;
    return c;
  }
  Result<Decision> Decide(const std::string& policy, const RequestContext& ctx) {
    auto r = MakePolicy(policy, opts);
    EXPECT_TRUE(r) << policy;
    RouteEnv env{pool, snap, rng};
    return r->Decide(ctx, env);
  }
  BackendPool pool;
  PoolSnapshot snap;
  Rng rng{1};
  PolicyOptions opts;
};

TEST(Filters, PrivacyModelCapabilitiesContextHealthOffline) {
  World w;
  auto ctx = w.Ctx();
  ctx.privacy = Privacy::kDevice;
  EXPECT_EQ(FilterPrivacy(ctx, w.pool.at(0)), "");
  EXPECT_NE(FilterPrivacy(ctx, w.pool.at(1)), "");
  ctx.privacy = Privacy::kEdge;
  EXPECT_EQ(FilterPrivacy(ctx, w.pool.at(1)), "");
  EXPECT_NE(FilterPrivacy(ctx, w.pool.at(2)), "");
  ctx = w.Ctx();
  ctx.model = "edge";
  EXPECT_NE(FilterModel(ctx, w.pool.at(0)), "");
  EXPECT_EQ(FilterModel(ctx, w.pool.at(1)), "");
  ctx.model = "big";
  EXPECT_EQ(FilterModel(ctx, w.pool.at(2)), "");
  EXPECT_NE(FilterModel(ctx, w.pool.at(1)), "");
  ctx = w.Ctx();
  ctx.needs_tools = true;
  EXPECT_NE(FilterCapabilities(ctx, w.pool.at(1)), "");
  EXPECT_EQ(FilterCapabilities(ctx, w.pool.at(2)), "");
  ctx = w.Ctx();
  ctx.input_tokens = 5000;
  EXPECT_NE(FilterContextWindow(ctx, w.pool.at(0)), "");
  EXPECT_EQ(FilterContextWindow(ctx, w.pool.at(1)), "");
  BackendView v;
  v.routable = false;
  v.health = HealthState::kEjected;
  EXPECT_NE(FilterHealth(v), "");
  ctx = w.Ctx();
  ctx.network.link = LinkType::kOffline;
  EXPECT_EQ(FilterReachable(ctx, w.pool.at(0)), "");
  EXPECT_NE(FilterReachable(ctx, w.pool.at(2)), "");
}

TEST(Predict, LatencyCostAndDeadlineProbability) {
  World w;
  auto ctx = w.Ctx();
  Candidate c;
  PredictLatencyAndCost(ctx, w.pool.at(2).options(), w.snap.backends[2], c);
  EXPECT_NEAR(c.latency_s, 0.60 + 50 * 0.01, 1e-6);
  EXPECT_NEAR(c.cost_usd, (100 * 2.5 + 50 * 10) / 1e6, 1e-12);
  EXPECT_DOUBLE_EQ(c.p_meet, 1.0);  // no deadline
  ctx.deadline_ms = 1100;           // exactly the median: p ~ 0.5
  PredictLatencyAndCost(ctx, w.pool.at(2).options(), w.snap.backends[2], c);
  EXPECT_NEAR(c.p_meet, 0.5, 0.01);
  ctx.deadline_ms = 300;
  PredictLatencyAndCost(ctx, w.pool.at(2).options(), w.snap.backends[2], c);
  EXPECT_LT(c.p_meet, 0.01);
  // The client's reported RTT replaces the measured network part.
  ctx.deadline_ms.reset();
  ctx.network.rtt_cloud_ms = 400;
  PredictLatencyAndCost(ctx, w.pool.at(2).options(), w.snap.backends[2], c);
  EXPECT_NEAR(c.ttft_s, 0.60 - 0.10 + 0.40, 1e-6);
  // Energy pricing: watts x seconds.
  PredictLatencyAndCost(w.Ctx(), w.pool.at(0).options(), w.snap.backends[0], c);
  EXPECT_NEAR(c.cost_usd, 5 * c.latency_s / 3.6e6 * 0.15, 1e-15);
  EXPECT_GT(c.cost_usd, 0);
}

TEST(Predict, DeviceStateMakesTheDeviceDearerOrUnavailable) {
  World w;
  auto ctx = w.Ctx();
  Candidate plain, low, hot;
  PredictLatencyAndCost(ctx, w.pool.at(0).options(), w.snap.backends[0], plain);
  ctx.device = DeviceState{0.25, false, Thermal::kOk};
  PredictLatencyAndCost(ctx, w.pool.at(0).options(), w.snap.backends[0], low);
  EXPECT_NEAR(low.cost_usd, plain.cost_usd * 4, plain.cost_usd * 1e-9);
  ctx.device = DeviceState{std::nullopt, std::nullopt, Thermal::kSerious};
  PredictLatencyAndCost(ctx, w.pool.at(0).options(), w.snap.backends[0], hot);
  EXPECT_GT(hot.latency_s, plain.latency_s * 1.4);
  ctx.device->thermal = Thermal::kCritical;
  EXPECT_NE(FilterReachable(ctx, w.pool.at(0)), "");
}

TEST(Predict, QueueWhenFull) {
  World w;
  Candidate idle, full;
  PredictLatencyAndCost(w.Ctx(), w.pool.at(1).options(), w.snap.backends[1], idle);
  w.snap.backends[1].in_flight = 6;
  PredictLatencyAndCost(w.Ctx(), w.pool.at(1).options(), w.snap.backends[1], full);
  EXPECT_GT(full.latency_s, idle.latency_s);
  EXPECT_DOUBLE_EQ(full.load, 1.5);
}

TEST(Adaptive, CheapestThatMeetsQualityAndDeadline) {
  World w;
  auto d = w.Decide("adaptive", w.Ctx(0.9));  // device quality 0.72 >= 0.6: cheapest is the device
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->chain.front(), 0);
  EXPECT_EQ(d->chain.size(), 3u);
  EXPECT_NE(d->reason.find("device meets quality"), std::string::npos) << d->reason;
  auto hard = w.Ctx(0.5);  // device 0.4, edge 0.5: only the cloud meets 0.6
  d = w.Decide("adaptive", hard);
  EXPECT_EQ(d->chain.front(), 2);
  EXPECT_NE(d->reason.find("quality"), std::string::npos);
}

TEST(Adaptive, TightDeadlineRulesOutSlowTiers) {
  World w;
  auto ctx = w.Ctx(0.9);
  ctx.output_tokens = 2;
  ctx.deadline_ms = 250;  // edge (~180 ms) fits; device (~340 ms) and cloud do not
  ctx.min_quality = 0.5;
  auto d = w.Decide("adaptive", ctx);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->chain.front(), 1) << d->reason;
  EXPECT_NE(d->reason.find("rules out"), std::string::npos) << d->reason;
}

TEST(Adaptive, DegradesInDocumentedOrder) {
  World w;
  auto ctx = w.Ctx(0.5);
  ctx.deadline_ms = 400;  // only the edge is fast enough, but its quality 0.5 < 0.6
  ctx.output_tokens = 2;
  auto d = w.Decide("adaptive", ctx);
  ASSERT_TRUE(d.ok());
  EXPECT_NE(d->reason.find("degraded: no tier meets quality"), std::string::npos) << d->reason;
  EXPECT_EQ(d->chain.front(), 1);
  ctx.deadline_ms = 50;  // nothing meets it; cloud is the only one with the quality
  d = w.Decide("adaptive", ctx);
  EXPECT_NE(d->reason.find("degraded: no tier meets the deadline"), std::string::npos) << d->reason;
  EXPECT_EQ(d->chain.front(), 2);
}

TEST(Adaptive, EjectedBackendsAreSkippedAndPrivacyErrorsAreClear) {
  World w;
  w.snap.backends[0].routable = false;
  w.snap.backends[0].health = HealthState::kEjected;
  auto d = w.Decide("adaptive", w.Ctx(0.9));
  ASSERT_TRUE(d.ok());
  EXPECT_NE(d->chain.front(), 0);
  auto ctx = w.Ctx(0.9);
  ctx.privacy = Privacy::kDevice;
  d = w.Decide("adaptive", ctx);
  EXPECT_EQ(d.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(d.status().message().find("device"), std::string::npos);
  ctx = w.Ctx();
  ctx.model = "nonexistent";
  EXPECT_EQ(w.Decide("adaptive", ctx).status().code(), StatusCode::kNotFound);
}

TEST(Adaptive, ShedsWhenEverythingIsFullAndLate) {
  World w;
  for (auto& v : w.snap.backends) v.in_flight = 40;
  auto ctx = w.Ctx(0.9);
  ctx.deadline_ms = 500;
  auto d = w.Decide("adaptive", ctx);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->shed);
  EXPECT_GE(d->retry_after_s, 1);
}

TEST(Adaptive, HedgesWhenThePrimaryIsUnlikelyToMakeIt) {
  World w;
  w.opts.hedge = true;
  auto ctx = w.Ctx(0.5);
  ctx.deadline_ms = 50;
  auto d = w.Decide("adaptive", ctx);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->hedge);
  EXPECT_GT(d->hedge_delay_s, 0);
}

// A configured quality_ratio changes what the policy thinks a backend can do: a device running a
// stronger model (ratio 0.914, Llama-3.2-3B over the edge model) reaches a minimum quality that the
// default device (the tier's 1B assumption) cannot, and takes the request as the cheapest.
TEST(Adaptive, PerBackendQualityRatio) {
  auto ctx_for = [](const World& w) {
    auto c = w.Ctx(0.9);
    c.tier_quality[0] = DeviceQualityFromEdgeForTest(0.9, 0.710);
    c.joint_success_share = 0.764;
    c.min_quality = 0.85;
    return c;
  };
  World plain;
  auto d = plain.Decide("adaptive", ctx_for(plain));
  ASSERT_TRUE(d.ok());
  EXPECT_NE(d->chain.front(), 0) << d->reason;  // 0.9 x (1 - 0.764 x 0.29) = 0.70 < 0.85
  EXPECT_NEAR(d->candidates[0].quality, 0.9 * (1 - 0.764 * (1 - 0.710)), 1e-9);

  World strong;
  BackendOptions o = strong.pool.at(0).options();
  o.quality_ratio = 0.995;
  std::vector<BackendOptions> all{o, strong.pool.at(1).options(), strong.pool.at(2).options()};
  strong.pool = BackendPool(all);
  auto s = strong.Decide("adaptive", ctx_for(strong));
  ASSERT_TRUE(s.ok());
  EXPECT_NEAR(s->candidates[0].quality, 0.9 * (1 - 0.764 * 0.005), 1e-9);
  EXPECT_EQ(s->chain.front(), 0) << s->reason;  // the device now meets 0.85 and is cheapest

  // Edge and cloud ratios scale their own tier's quality.
  o = strong.pool.at(1).options();
  o.quality_ratio = 0.5;
  EXPECT_NEAR(BackendQuality(ctx_for(strong), Backend(1, o)), 0.9 * (1 - 0.764 * 0.5), 1e-9);
}

TEST(Baselines, EachOrdersByItsOwnRule) {
  World w;
  auto ctx = w.Ctx(0.9);
  EXPECT_EQ(w.Decide("cloud-only", ctx)->chain, std::vector<int>{2});
  EXPECT_EQ(w.Decide("edge-only", ctx)->chain, std::vector<int>{1});
  EXPECT_EQ(w.Decide("device-only", ctx)->chain, std::vector<int>{0});
  EXPECT_EQ(w.Decide("cost-first", ctx)->chain.front(), 0);  // energy is cheapest here
  EXPECT_EQ(w.Decide("least-latency", ctx)->chain.front(), 1);
  w.snap.backends[1].in_flight = 3;
  w.snap.backends[0].in_flight = 2;
  EXPECT_EQ(w.Decide("least-busy", ctx)->chain.front(), 2);
  auto s = ctx;
  s.use_case = "vehicle.traffic";
  s.static_tier = "edge";
  EXPECT_EQ(w.Decide("static", s)->chain.front(), 1);
  EXPECT_EQ(w.Decide("static", ctx)->chain.front(), 2);  // no use case: cloud
  // round-robin rotates the primary; random is a permutation.
  auto r = MakePolicy("round-robin", w.opts);
  RouteEnv env{w.pool, w.snap, w.rng};
  std::set<int> firsts;
  for (int i = 0; i < 3; ++i) firsts.insert(r->Decide(ctx, env)->chain.front());
  EXPECT_EQ(firsts.size(), 3u);
  auto rnd = w.Decide("random", ctx);
  auto chain = rnd->chain;
  std::sort(chain.begin(), chain.end());
  EXPECT_EQ(chain, (std::vector<int>{0, 1, 2}));
  w.opts.auto_order = {Tier::kCloud, Tier::kEdge};
  EXPECT_EQ(w.Decide("preference", ctx)->chain, (std::vector<int>{2, 1}));
  EXPECT_EQ(MakePolicy("nope", w.opts), nullptr);
  EXPECT_EQ(PolicyNames().front(), "adaptive");
}

TEST(Baselines, ShareTheHardFilters) {
  World w;
  auto ctx = w.Ctx(0.9);
  ctx.privacy = Privacy::kEdge;
  for (const auto& name : PolicyNames()) {
    auto d = w.Decide(name, ctx);
    if (!d.ok()) continue;  // e.g. cloud-only has nothing left
    for (int b : d->chain) EXPECT_NE(b, 2) << name;
  }
}

}  // namespace
}  // namespace mec

namespace mec {
namespace {

// The minimum quality as a class average (learn/quality_budget.h): adaptive reads the class's
// gate, the caller charges what it acted on.
TEST(Adaptive, MinimumQualityHeldAsTheClassAverage) {
  World w;
  w.opts.min_quality_per_request = false;  // routing.min_quality_per: class
  QualityBudget budget;
  auto ctx = w.Ctx(0.8);  // edge 0.8, device 0.64, cloud 1
  ctx.min_quality = 0.9;
  ctx.use_case = "vehicle.traffic";
  auto decide = [&](const RequestContext& c) {
    auto r = MakePolicy("adaptive", w.opts);
    RouteEnv env{w.pool, w.snap, w.rng};
    env.quality_budget = &budget;
    auto d = r->Decide(c, env);
    EXPECT_TRUE(d.ok());
    ChargeQuality(env, *d);
    return *d;
  };
  // No credit yet: the edge (0.8 < 0.9) is ruled out, as with a per-request floor.
  Decision d = decide(ctx);
  EXPECT_EQ(w.pool.at(d.chain[0]).tier(), Tier::kCloud);
  EXPECT_GE(d.quality_gate.slot, 0);
  EXPECT_DOUBLE_EQ(d.primary_quality, 1.0);
  // Cloud answers build credit; then the class affords the cheaper edge some of the time, and
  // its mean predicted quality stays at or above the target (0.925).
  int edge = 0;
  double sum = d.primary_quality;
  for (int i = 0; i < 200; ++i) {
    d = decide(ctx);
    sum += d.primary_quality;
    if (w.pool.at(d.chain[0]).tier() == Tier::kEdge) {
      ++edge;
      EXPECT_NE(d.reason.find("class mean >= 0.93"), std::string::npos) << d.reason;
    }
  }
  EXPECT_GT(edge, 40);
  EXPECT_GE(sum / 201, budget.TargetFor(0.9) - 1e-9);
  // Per request (the hint's per=request, or the option): the floor, whatever the class's credit.
  auto strict = ctx;
  strict.min_quality_per_request = true;
  for (int i = 0; i < 5; ++i) {
    d = decide(strict);
    EXPECT_EQ(w.pool.at(d.chain[0]).tier(), Tier::kCloud);
    EXPECT_EQ(d.quality_gate.slot, -1);
  }
  // Another minimum is another class, which starts strict.
  auto other = ctx;
  other.min_quality = 0.85;
  EXPECT_EQ(w.pool.at(decide(other).chain[0]).tier(), Tier::kCloud);
  // A pinned model is the client's choice: no class average.
  auto pinned = ctx;
  pinned.model = "edge";
  EXPECT_EQ(decide(pinned).quality_gate.slot, -1);
}

// The default (routing.min_quality_per: request) is a floor on every request, even with the class
// controller present; a request's "per=class" asks for the class average.
TEST(Adaptive, ByDefaultTheMinimumIsAFloorPerRequest) {
  World w;
  ASSERT_TRUE(PolicyOptions{}.min_quality_per_request);
  QualityBudget budget;
  auto ctx = w.Ctx(0.8);  // edge 0.8 < 0.9
  ctx.min_quality = 0.9;
  ctx.use_case = "vehicle.traffic";
  auto r = MakePolicy("adaptive", w.opts);
  RouteEnv env{w.pool, w.snap, w.rng};
  env.quality_budget = &budget;
  for (int i = 0; i < 200; ++i) {
    auto d = r->Decide(ctx, env);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(w.pool.at(d->chain[0]).tier(), Tier::kCloud);
    EXPECT_EQ(d->quality_gate.slot, -1);
    ChargeQuality(env, *d);
  }
  auto per_class = ctx;
  per_class.min_quality_per_request = false;  // X-MEC-Min-Quality: 0.9; per=class
  int edge = 0;
  for (int i = 0; i < 200; ++i) {
    auto d = r->Decide(per_class, env);
    ASSERT_TRUE(d.ok());
    EXPECT_GE(d->quality_gate.slot, 0);
    edge += w.pool.at(d->chain[0]).tier() == Tier::kEdge;
    ChargeQuality(env, *d);
  }
  EXPECT_GT(edge, 40);
}

TEST(Adaptive, WithoutAControllerTheMinimumIsAFloor) {
  World w;
  auto ctx = w.Ctx(0.8);
  ctx.min_quality = 0.9;
  for (int i = 0; i < 50; ++i) {
    auto d = w.Decide("adaptive", ctx);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(w.pool.at(d->chain[0]).tier(), Tier::kCloud);
    EXPECT_EQ(d->quality_gate.slot, -1);
  }
}

// The feedback table read once per decision (RouteEnv::quality_feedback) decides exactly as the
// per-backend adjuster over the same table (RouteEnv::adjust_quality), and takes precedence.
TEST(Adaptive, FeedbackTableEqualsPerBackendAdjuster) {
  World w;
  QualityFeedback feedback;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(feedback.Observe("dev", "chat", 0.0).ok());
  ASSERT_TRUE(feedback.Observe("edge", "chat", 1.0).ok());
  std::function<double(int, const std::string&, double)> adjust = [&](int b, const std::string& task, double q) {
    return feedback.Adjusted(w.pool.at(b).name(), task, q);
  };
  std::function<double(int, const std::string&, double)> wrong = [](int, const std::string&, double) { return 0.0; };
  auto policy = MakePolicy("adaptive", w.opts);
  for (const char* task : {"chat", "math"}) {
    auto ctx = w.Ctx(0.9);
    ctx.task_class = task;
    RouteEnv per_backend{w.pool, w.snap, w.rng, TimePoint{}, &adjust};
    RouteEnv table{w.pool, w.snap, w.rng, TimePoint{}, &wrong};
    table.quality_feedback = &feedback;
    auto a = policy->Decide(ctx, per_backend);
    auto b = policy->Decide(ctx, table);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->chain, b->chain) << task;
    EXPECT_EQ(a->reason, b->reason) << task;
    ASSERT_EQ(a->candidates.size(), b->candidates.size());
    for (size_t i = 0; i < a->candidates.size(); ++i) EXPECT_EQ(a->candidates[i].quality, b->candidates[i].quality) << task << i;
  }
  // The device's bad feedback moves the chat request off the device.
  auto ctx = w.Ctx(0.9);
  ctx.task_class = "chat";
  RouteEnv table{w.pool, w.snap, w.rng, TimePoint{}};
  table.quality_feedback = &feedback;
  auto d = policy->Decide(ctx, table);
  ASSERT_TRUE(d.ok());
  EXPECT_NE(d->chain.front(), 0) << d->reason;
}

}  // namespace
}  // namespace mec
