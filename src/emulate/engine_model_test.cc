// The continuous-batching engine model behind `emulate --flavor` (tier_model.h, engine_state.h).
#include <gtest/gtest.h>

#include "emulate/engine_flavor.h"
#include "emulate/tier_model.h"

namespace mec {
namespace {

TierProfile Engine() {
  TierProfile p;
  p.name = "e";
  p.base_ms = 10;
  p.prefill_tokens_per_s = 1000;  // 1 ms per prompt token
  p.decode_tokens_per_s = 100;    // 10 ms per token
  p.max_concurrency = 4;
  p.max_queue = 100;
  p.kv_capacity_tokens = 1000;
  p.load_ms = 0;
  return p;
}

WorkItem Item(uint64_t ticket, int64_t in, int64_t out) {
  WorkItem w;
  w.ticket = ticket;
  w.input_tokens = in;
  w.output_tokens = out;
  w.content_hash = ticket;
  return w;
}

TEST(EngineModel, WaitingRisesWhenEverySlotIsBusyAndDrains) {
  ManualClock clock;
  TierModel m(Engine(), Rng(1), clock.Now(), FeaturesOf(EngineFlavor::kVllm));
  ServicePlan plan;
  for (uint64_t t = 1; t <= 6; ++t) {
    const Admission a = m.Arrive(clock.Now(), Item(t, 10, 5), &plan);
    EXPECT_EQ(a, t <= 4 ? Admission::kStarted : Admission::kQueued) << t;
  }
  EngineSnapshot s = m.Engine(clock.Now(), false);
  EXPECT_EQ(s.running, 4);
  EXPECT_EQ(s.waiting, 2);
  clock.Advance(FromMillis(100));
  EXPECT_EQ(m.Release(clock.Now(), 1).size(), 1u);
  EXPECT_EQ(m.Release(clock.Now(), 2).size(), 1u);
  s = m.Engine(clock.Now(), false);
  EXPECT_EQ(s.running, 4);
  EXPECT_EQ(s.waiting, 0);
  for (uint64_t t = 3; t <= 6; ++t) m.Release(clock.Now(), t);
  s = m.Engine(clock.Now(), false);
  EXPECT_EQ(s.running, 0);
  EXPECT_EQ(s.kv_usage, 0);
}

TEST(EngineModel, KvHoldsPromptPlusGeneratedTokens) {
  ManualClock clock;
  TierModel m(Engine(), Rng(1), clock.Now(), FeaturesOf(EngineFlavor::kVllm));
  ServicePlan plan;
  ASSERT_EQ(m.Arrive(clock.Now(), Item(1, 200, 50), &plan), Admission::kStarted);
  EXPECT_NEAR(ToMillis(plan.ttft), 10 + 200, 1e-6);
  EXPECT_EQ(m.Engine(clock.Now(), false).kv_tokens, 200);  // before the first token
  clock.Advance(plan.ttft + plan.per_token * 9);             // 10 tokens out
  EngineSnapshot s = m.Engine(clock.Now(), false);
  EXPECT_EQ(s.kv_tokens, 210);
  EXPECT_NEAR(s.kv_usage, 0.21, 1e-9);
  clock.Advance(FromSeconds(10));  // every token out: held until the sequence ends
  EXPECT_EQ(m.Engine(clock.Now(), false).kv_tokens, 250);
  m.Release(clock.Now(), 1);
  s = m.Engine(clock.Now(), false);
  EXPECT_EQ(s.kv_tokens, 0);
  EXPECT_EQ(s.tokens_predicted, 50);
}

TEST(EngineModel, ConcurrentLongPromptsFillTheKvAndWaitWithAFreeSlot) {
  ManualClock clock;
  TierModel m(Engine(), Rng(1), clock.Now(), FeaturesOf(EngineFlavor::kVllm));
  ServicePlan plan;
  EXPECT_EQ(m.Arrive(clock.Now(), Item(1, 400, 10), &plan), Admission::kStarted);
  EXPECT_EQ(m.Arrive(clock.Now(), Item(2, 400, 10), &plan), Admission::kStarted);
  EXPECT_NEAR(m.Engine(clock.Now(), false).kv_usage, 0.8, 1e-9);
  // 800 held + 400 > 1000: waits although 2 of 4 slots are free; a short one behind it waits too (FIFO).
  EXPECT_EQ(m.Arrive(clock.Now(), Item(3, 400, 10), &plan), Admission::kQueued);
  EXPECT_EQ(m.Arrive(clock.Now(), Item(4, 10, 10), &plan), Admission::kQueued);
  EngineSnapshot s = m.Engine(clock.Now(), false);
  EXPECT_EQ(s.running, 2);
  EXPECT_EQ(s.waiting, 2);
  auto started = m.Release(clock.Now(), 1);
  ASSERT_EQ(started.size(), 2u);  // 400 held: both fit now
  EXPECT_EQ(started[0].first.ticket, 3u);
  EXPECT_EQ(started[1].first.ticket, 4u);
  // Without KV admission (llama.cpp: each slot has its own context) the slots decide alone.
  TierModel l(Engine(), Rng(1), clock.Now(), FeaturesOf(EngineFlavor::kLlamaCpp));
  for (uint64_t t = 1; t <= 3; ++t) EXPECT_EQ(l.Arrive(clock.Now(), Item(t, 400, 10), &plan), Admission::kStarted);
}

TEST(EngineModel, ARepeatedPrefixIsAHitAndSkipsItsPrefill) {
  ManualClock clock;
  TierModel m(Engine(), Rng(1), clock.Now(), FeaturesOf(EngineFlavor::kVllm));
  const std::string shared(640, 'a');  // 10 blocks of 64 bytes (16 tokens)
  WorkItem first = Item(1, 200, 5);
  first.prefix_blocks = PromptBlockHashes(shared + std::string(160, 'b'), 200);
  ASSERT_EQ(first.prefix_blocks.size(), 12u);
  ServicePlan plan;
  ASSERT_EQ(m.Arrive(clock.Now(), first, &plan), Admission::kStarted);
  EXPECT_NEAR(ToMillis(plan.ttft), 10 + 200, 1e-6);
  WorkItem second = Item(2, 200, 5);
  second.prefix_blocks = PromptBlockHashes(shared + std::string(160, 'c'), 200);
  ASSERT_EQ(m.Arrive(clock.Now(), second, &plan), Admission::kStarted);
  EXPECT_NEAR(ToMillis(plan.ttft), 10 + 200 - 160, 1e-6);  // 10 blocks x 16 tokens cached
  EngineSnapshot s = m.Engine(clock.Now(), false);
  EXPECT_EQ(s.prefix_queries, 400);
  EXPECT_EQ(s.prefix_hits, 160);
  EXPECT_EQ(s.prompt_tokens, 240);
  EXPECT_EQ(s.prompt_tokens_seen, 400);
  // The whole prompt again: all but its last token is a hit.
  WorkItem third = Item(3, 192, 5);
  third.prefix_blocks = PromptBlockHashes(shared + std::string(160, 'b'), 192);
  ASSERT_EQ(m.Arrive(clock.Now(), third, &plan), Admission::kStarted);
  EXPECT_EQ(m.Engine(clock.Now(), false).prefix_hits, 160 + 191);
}

TEST(EngineModel, LoadsFromStartAndRefusesMeanwhile) {
  ManualClock clock;
  auto p = Engine();
  p.load_ms = 500;
  TierModel m(p, Rng(1), clock.Now(), FeaturesOf(EngineFlavor::kLlamaCpp));
  ServicePlan plan;
  EXPECT_TRUE(m.Engine(clock.Now(), false).loading);
  EXPECT_EQ(m.Arrive(clock.Now(), Item(1, 10, 5), &plan), Admission::kLoading);
  clock.Advance(FromMillis(500));
  EngineSnapshot s = m.Engine(clock.Now(), true);
  EXPECT_FALSE(s.loading);
  EXPECT_TRUE(s.loaded);
  ASSERT_EQ(s.slots.size(), 4u);
  EXPECT_EQ(m.Arrive(clock.Now(), Item(2, 10, 5), &plan), Admission::kStarted);
  s = m.Engine(clock.Now(), true);
  EXPECT_TRUE(s.slots[0].processing);
  EXPECT_EQ(s.slots[0].task, 2u);
  EXPECT_FALSE(s.slots[1].processing);
  EXPECT_EQ(s.slots[1].task, 0u);
}

TEST(EngineModel, OllamaLoadsOnDemandAndUnloadsAfterKeepAlive) {
  ManualClock clock;
  auto p = Engine();
  p.load_ms = 300;
  p.keep_alive_s = 60;
  TierModel m(p, Rng(1), clock.Now(), FeaturesOf(EngineFlavor::kOllama));
  EXPECT_FALSE(m.Engine(clock.Now(), false).loaded);  // nothing loaded before the first request
  ServicePlan plan;
  ASSERT_EQ(m.Arrive(clock.Now(), Item(1, 100, 5), &plan), Admission::kStarted);
  EXPECT_NEAR(ToMillis(plan.ttft), 300 + 10 + 100, 1e-6);  // the cold start is in its TTFT
  EXPECT_TRUE(m.Engine(clock.Now(), false).loading);
  clock.Advance(FromMillis(300));
  ASSERT_EQ(m.Arrive(clock.Now(), Item(2, 100, 5), &plan), Admission::kStarted);
  EXPECT_NEAR(ToMillis(plan.ttft), 10 + 100, 1e-6);  // warm
  clock.Advance(FromSeconds(1));
  m.Release(clock.Now(), 1);
  m.Release(clock.Now(), 2);
  const TimePoint idle = clock.Now();
  EngineSnapshot s = m.Engine(clock.Now(), false);
  EXPECT_TRUE(s.loaded);
  EXPECT_EQ(s.expires_at, idle + FromSeconds(60));
  clock.Advance(FromSeconds(60));
  EXPECT_FALSE(m.Engine(clock.Now(), false).loaded);  // idle for keep_alive: unloaded
  ASSERT_EQ(m.Arrive(clock.Now(), Item(3, 100, 5), &plan), Admission::kStarted);
  EXPECT_NEAR(ToMillis(plan.ttft), 300 + 10 + 100, 1e-6);  // cold again
}

TEST(EngineModel, OffByDefaultKeepsThePlainSlotModel) {
  ManualClock clock;
  auto p = Engine();
  p.load_ms = 1000;
  p.max_concurrency = 2;
  TierModel m(p, Rng(1), clock.Now());
  ServicePlan plan;
  EXPECT_EQ(m.Arrive(clock.Now(), Item(1, 900, 5), &plan), Admission::kStarted);  // no load, no KV limit
  EXPECT_EQ(m.Arrive(clock.Now(), Item(2, 900, 5), &plan), Admission::kStarted);
  EXPECT_EQ(m.Arrive(clock.Now(), Item(3, 900, 5), &plan), Admission::kQueued);
  EXPECT_FALSE(m.engine().enabled);
}

TEST(EngineFlavor, ParsesNames) {
  EXPECT_EQ(ParseEngineFlavor("vllm"), EngineFlavor::kVllm);
  EXPECT_EQ(ParseEngineFlavor("llamacpp"), EngineFlavor::kLlamaCpp);
  EXPECT_EQ(ParseEngineFlavor("ollama"), EngineFlavor::kOllama);
  EXPECT_EQ(ParseEngineFlavor("openai"), EngineFlavor::kOpenAI);
  EXPECT_FALSE(ParseEngineFlavor("sglang"));
  EXPECT_FALSE(FeaturesOf(EngineFlavor::kOpenAI).enabled);
}

}  // namespace
}  // namespace mec
