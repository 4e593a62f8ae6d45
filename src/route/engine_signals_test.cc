// Routing on what serving engines say (docs/engines.md, "Routing on what the engines say"): the
// engine's queue in the prediction, saturated replicas skipped while another remains, overflow to
// another tier said in the reason line.

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "route/candidate_set.h"
#include "route/plugin_test_util.h"
#include "route/policies.h"
#include "route/predict.h"
#include "route/profile.h"
#include "route/saturation.h"

namespace mec {
namespace {

TimePoint At(double ms) { return TimePoint{} + FromMillis(ms); }

std::shared_ptr<const EngineLoad> Reading(double at_ms, double waiting, double running, double kv) {
  auto l = std::make_shared<EngineLoad>();
  l->observed_at = At(at_ms);
  l->waiting = waiting;
  l->running = running;
  l->kv_usage = kv;
  return l;
}

// Two vLLM edge replicas and a cloud without an engine; the edge is the cheaper.
struct EnginePool {
  EnginePool() {
    snap.backends.resize(3);
    for (int i = 0; i < 3; ++i) {
      auto& v = snap.backends[i];
      v.index = i;
      v.capacity = 4;
      v.ttft = {std::log(i < 2 ? 0.15 : 0.6), 0.2, 100};
      v.tpot = {std::log(0.012), 0.1, 100};
      v.rtt = {std::log(0.01), 0.2, 100};
    }
    snap.backends[0].engine = Reading(900, 0, 1, 0.2);
    snap.backends[1].engine = Reading(900, 0, 1, 0.2);
  }
  Result<Decision> Decide(std::string_view policy, double now_ms = 1000) {
    auto r = MakePolicy(policy, PolicyOptions{});
    EXPECT_TRUE(r) << policy;
    RouteEnv env{pool, snap, rng, At(now_ms)};
    return r->Decide(ctx, env);
  }
  BackendPool pool{[] {
    auto a = test::TierBackend("edge-a", Tier::kEdge);
    auto b = test::TierBackend("edge-b", Tier::kEdge);
    for (auto* e : {&a, &b}) {
      e->engine.kind = EngineKind::kVllm;
      e->price.gpu_per_hour = 1.0, e->price.gpu_tokens_per_second = 500;
    }
    auto c = test::TierBackend("cloud", Tier::kCloud);
    c.price.input_per_1m = 2.5, c.price.output_per_1m = 10;
    return std::vector<BackendOptions>{a, b, c};
  }()};
  PoolSnapshot snap;
  Rng rng{5};
  RequestContext ctx = [] {
    RequestContext c;
    c.model = "auto";
    c.input_tokens = 100;
    c.output_tokens = 50;
    c.tier_quality = {0.6, 1.0, 1.0};
    c.min_quality = 0.5;
    return c;
  }();
};

TEST(EngineSignals, TheEnginesQueueEntersThePrediction) {
  EnginePool w;
  const auto& o = w.pool.at(0).options();
  auto& v = w.snap.backends[0];
  Candidate plain, busy;
  PredictLatencyAndCost(w.ctx, TermsOf(w.ctx), o, v, plain, v.engine.get());
  EXPECT_EQ(plain.queue, 0);
  EXPECT_DOUBLE_EQ(plain.kv_usage, 0.2);
  EXPECT_DOUBLE_EQ(plain.load, 0.25);  // 1 running of 4 slots
  // 3 waiting with 4 slots running: (3 + 1) / 4 services ahead, load (4 + 3) / 4.
  auto queued = Reading(900, 3, 4, 0.5);
  PredictLatencyAndCost(w.ctx, TermsOf(w.ctx), o, v, busy, queued.get());
  const double service = plain.latency_s;
  EXPECT_NEAR(busy.ttft_s - plain.ttft_s, service, 1e-9);
  EXPECT_EQ(busy.queue, 3);
  EXPECT_DOUBLE_EQ(busy.load, 7.0 / 4);
  // The gateway's own in-flight queue counts when larger (they overlap, so not both).
  v.in_flight = 8;  // 5 beyond capacity
  Candidate own;
  PredictLatencyAndCost(w.ctx, TermsOf(w.ctx), o, v, own, queued.get());
  EXPECT_EQ(own.queue, 4);
  EXPECT_GT(own.ttft_s, busy.ttft_s);
  // llama.cpp without --metrics: every slot busy is one service shared by the slots.
  EngineLoad slots;
  slots.total_slots = 2;
  slots.busy_slots = 2;
  v.in_flight = 0;
  Candidate full;
  PredictLatencyAndCost(w.ctx, TermsOf(w.ctx), o, v, full, &slots);
  EXPECT_NEAR(full.ttft_s - plain.ttft_s, service / 2, 1e-9);
  EXPECT_DOUBLE_EQ(full.load, 1.0);
}

TEST(EngineSignals, AnOllamaWithoutTheModelLoadedIsCold) {
  EnginePool w;
  BackendOptions o = w.pool.at(0).options();
  o.engine.kind = EngineKind::kOllama;
  o.engine.cold_load_ms = 4000;
  o.models = {"llama3.2:1b", "qwen2.5:3b"};
  EngineLoad ps;
  ps.observed_at = At(900);
  ps.loaded_models = {"llama3.2:1b"};
  const auto& v = w.snap.backends[0];
  Candidate warm, cold, asked;
  PredictLatencyAndCost(w.ctx, TermsOf(w.ctx), o, v, warm, &ps);  // "auto": its first model, loaded
  EXPECT_FALSE(warm.cold);
  RequestContext other = w.ctx;
  other.model = "qwen2.5:3b";
  PredictLatencyAndCost(other, TermsOf(other), o, v, cold, &ps);
  EXPECT_TRUE(cold.cold);
  EXPECT_NEAR(cold.ttft_s - warm.ttft_s, 4.0, 1e-9);
  ps.loaded_models = {"qwen2.5:3b"};  // now that one is warm, and the first is not
  PredictLatencyAndCost(other, TermsOf(other), o, v, asked, &ps);
  EXPECT_FALSE(asked.cold);
  ps.loaded_models = {"mistral:latest"};
  EXPECT_TRUE(HoldsModel(ps, "mistral"));
  EXPECT_FALSE(HoldsModel(ps, "mistral:7b"));
  // vLLM lists no models: never cold.
  o.engine.kind = EngineKind::kVllm;
  Candidate vllm;
  PredictLatencyAndCost(other, TermsOf(other), o, v, vllm, &ps);
  EXPECT_FALSE(vllm.cold);
}

TEST(EngineSignals, ATightDeadlineDoesNotWaitForAColdLoad) {
  auto dev = test::TierBackend("phone", Tier::kDevice);
  dev.engine.kind = EngineKind::kOllama;
  dev.price.watts = 5, dev.price.usd_per_kwh = 0.15;
  auto edge = test::TierBackend("edge", Tier::kEdge);
  edge.price.gpu_per_hour = 1.0, edge.price.gpu_tokens_per_second = 500;
  BackendPool pool{std::vector<BackendOptions>{dev, edge}};
  PoolSnapshot snap;
  snap.backends.resize(2);
  for (int i = 0; i < 2; ++i) {
    snap.backends[i].index = i;
    snap.backends[i].capacity = 4;
    snap.backends[i].ttft = {std::log(0.2), 0.2, 100};
    snap.backends[i].tpot = {std::log(0.02), 0.1, 100};
  }
  auto ps = std::make_shared<EngineLoad>();
  ps->observed_at = At(900);
  snap.backends[0].engine = ps;  // nothing loaded
  RequestContext ctx;
  ctx.model = "auto";
  ctx.input_tokens = 50;
  ctx.output_tokens = 20;
  ctx.tier_quality = {1, 1, 1};
  ctx.min_quality = 0.5;
  ctx.deadline_ms = 2000;
  Rng rng{1};
  auto adaptive = MakePolicy("adaptive", PolicyOptions{});
  RouteEnv env{pool, snap, rng, At(1000)};
  auto d = adaptive->Decide(ctx, env);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->chain.front(), 1) << d->reason;  // the edge: the phone would load for 5 s
  EXPECT_TRUE(d->candidates[0].cold);
  auto loaded = std::make_shared<EngineLoad>(*ps);
  loaded->loaded_models = {"m-phone"};
  snap.backends[0].engine = loaded;
  d = adaptive->Decide(ctx, env);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->chain.front(), 0) << d->reason;  // warm and cheaper
  // Without a deadline the cheaper phone is chosen cold, and the reason says it will load.
  ctx.deadline_ms.reset();
  snap.backends[0].engine = ps;
  d = adaptive->Decide(ctx, env);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->chain.front(), 0) << d->reason;
  EXPECT_NE(d->reason.find("phone is cold (its engine loads the model, ~5.0s)"), std::string::npos) << d->reason;
}

TEST(EngineSignals, CandidatesAreSaturatedOnlyWithAnEngine) {
  EnginePool w;
  w.snap.backends[0].engine = Reading(900, 9, 4, 0.5);
  RouteEnv env{w.pool, w.snap, w.rng, At(1000)};
  CandidateSet cs = BuildCandidates(w.ctx, env);
  EXPECT_TRUE(cs.all[0].saturated);
  EXPECT_FALSE(cs.all[1].saturated);
  EXPECT_FALSE(cs.all[2].saturated);  // openai: nothing polled, never saturated
  EXPECT_EQ(cs.all[0].queue, 9);
  // A stale reading is saturated and is not predicted with.
  RouteEnv later{w.pool, w.snap, w.rng, At(3500)};
  cs = BuildCandidates(w.ctx, later);
  EXPECT_TRUE(cs.all[0].saturated && cs.all[1].saturated);
  EXPECT_EQ(cs.all[0].queue, 0);
  EXPECT_TRUE(std::isnan(cs.all[0].kv_usage));
}

TEST(EngineSignals, ASaturatedReplicaIsSkippedForItsSibling) {
  EnginePool w;
  auto d = w.Decide("cost-first");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->chain.front(), 0);  // edge-a: cheapest, first in pool order
  w.snap.backends[0].engine = Reading(900, 7, 4, 0.5);
  d = w.Decide("cost-first");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->chain, (std::vector<int>{1, 2, 0}));  // the saturated one last: a fallback of last resort
  EXPECT_NE(d->reason.find("skipped saturated edge-a: 7 waiting > 5"), std::string::npos) << d->reason;
  EXPECT_EQ(d->candidates[0].filtered_by, "saturated: 7 waiting > 5");
  // adaptive too.
  d = w.Decide("adaptive");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->chain.front(), 1) << d->reason;
  EXPECT_NE(d->reason.find("skipped saturated edge-a"), std::string::npos) << d->reason;
}

TEST(EngineSignals, EveryReplicaOfATierSaturatedOverflows) {
  EnginePool w;
  w.snap.backends[0].engine = Reading(900, 0, 4, 0.93);
  w.snap.backends[1].engine.reset();  // never answered a poll
  for (const char* policy : {"adaptive", "cost-first", "least-latency"}) {
    auto d = w.Decide(policy);
    ASSERT_TRUE(d.ok()) << policy;
    EXPECT_EQ(d->chain, (std::vector<int>{2, 0, 1})) << policy;  // the cloud, then the saturated edge
    EXPECT_NE(d->reason.find("overflow: every edge replica saturated (edge-a: KV cache 0.93 >= 0.80, edge-b: no engine reading)"),
              std::string::npos)
        << policy << ": " << d->reason;
  }
  // Pinned to the edge, nothing else may serve: the saturated replicas stay (a queue beats a refusal).
  auto d = w.Decide("edge-only");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->chain.size(), 2u);
  EXPECT_NE(d->reason.find("every candidate saturated"), std::string::npos) << d->reason;
  // They recover: the edge is chosen again.
  w.snap.backends[0].engine = Reading(1900, 0, 1, 0.3);
  w.snap.backends[1].engine = Reading(1900, 0, 1, 0.3);
  d = w.Decide("cost-first", 2000);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->chain.front(), 0);
  EXPECT_EQ(d->reason.find("saturated"), std::string::npos) << d->reason;
}

TEST(EngineSignals, SkipSaturatedKeepsOrderAndDropsNothingWithoutSaturation) {
  EnginePool w;
  RouteEnv env{w.pool, w.snap, w.rng, At(1000)};
  CandidateSet cs = BuildCandidates(w.ctx, env);
  std::vector<int> ids = {0, 1, 2}, aside;
  EXPECT_EQ(SkipSaturated(env, cs, ids, aside), "");
  EXPECT_EQ(ids, (std::vector<int>{0, 1, 2}));
  EXPECT_TRUE(aside.empty());
  cs.all[1].saturated = true;
  w.snap.backends[1].engine = Reading(900, 8, 4, 0.1);
  EXPECT_EQ(SkipSaturated(env, cs, ids, aside), "skipped saturated edge-b: 8 waiting > 5");
  EXPECT_EQ(ids, (std::vector<int>{0, 2}));
  EXPECT_EQ(aside, (std::vector<int>{1}));
}

// Prefix affinity: the replica whose KV cache probably holds the prompt's prefix skips its
// prefill, so a long prompt goes there under adaptive and least-latency, and the prefix scorer
// ranks by the share held; saturation still wins over affinity.
TEST(EngineSignals, PrefixAffinityPrefersTheReplicaThatHoldsThePrompt) {
  EnginePool w;
  w.ctx.input_tokens = 4000;
  w.ctx.prompt_blocks.assign(250, 0);  // 250 blocks of 16 tokens (their values are not read here)
  const std::vector<double> held = {0, 3200, 0};
  auto decide = [&](std::string_view policy, std::span<const double> prefix, double spread = 0) {
    PolicyOptions o;
    o.spread = spread;  // 0: the pool order between the alike replicas, below
    auto r = MakePolicy(policy, o);
    EXPECT_TRUE(r) << policy;
    RouteEnv env{w.pool, w.snap, w.rng, At(1000)};
    env.prefix_tokens = prefix;
    return r->Decide(w.ctx, env);
  };
  for (std::string_view policy : {"adaptive", "least-latency", "edge-only"}) {
    auto none = decide(policy, {});
    ASSERT_TRUE(none.ok()) << policy;
    EXPECT_EQ(none->chain.front(), 0) << policy << ": pool order without affinity";
    EXPECT_EQ(none->reason.find("prefix cache"), std::string::npos) << none->reason;
    auto d = decide(policy, held);
    ASSERT_TRUE(d.ok()) << policy;
    if (policy == "edge-only") continue;  // it has no latency preference between replicas
    EXPECT_EQ(d->chain.front(), 1) << policy << ": " << d->reason;
    EXPECT_NE(d->reason.find("edge-b holds ~3200 of 4000 prompt tokens (prefix cache)"), std::string::npos) << d->reason;
    EXPECT_LT(d->candidates[1].ttft_s, d->candidates[0].ttft_s);
    EXPECT_EQ(d->candidates[1].prefix_tokens, 3200);
  }
  // adaptive's spread over alike replicas does not take the lead from the one holding the prompt.
  for (int k = 0; k < 50; ++k) {
    auto d = decide("adaptive", held, PolicyOptions{}.spread);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->chain.front(), 1) << d->reason;
  }
  // The prefix scorer alone, in a profile.
  ProfileOptions p;
  p.name = "affine";
  p.scorers = {{"prefix", 3}, {"queue", 2}, {"kv-cache", 2}};
  p.picker = "max-score";
  auto prof = MakeProfile(p, PolicyOptions{});
  ASSERT_TRUE(prof.ok()) << prof.status().message();
  RouteEnv env{w.pool, w.snap, w.rng, At(1000)};
  env.prefix_tokens = held;
  auto d = (*prof)->Decide(w.ctx, env);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->chain.front(), 1) << d->reason;
  EXPECT_NE(d->reason.find("~3200 prompt tokens cached"), std::string::npos) << d->reason;
  // Held, but saturated: set aside all the same.
  w.snap.backends[1].engine = Reading(900, 9, 4, 0.3);
  d = decide("adaptive", held);
  ASSERT_TRUE(d.ok());
  EXPECT_NE(d->chain.front(), 1) << d->reason;
  EXPECT_NE(d->reason.find("skipped saturated edge-b"), std::string::npos) << d->reason;
  // A prefix longer than the prompt is read as the whole prompt, never more.
  w.snap.backends[1].engine = Reading(900, 0, 1, 0.2);
  const std::vector<double> too_much = {0, 1e9, 0};
  d = decide("least-latency", too_much);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->candidates[1].prefix_tokens, 4000);
}

}  // namespace
}  // namespace mec
