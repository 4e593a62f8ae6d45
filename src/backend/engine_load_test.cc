#include "backend/engine_load.h"

#include <gtest/gtest.h>

namespace mec {
namespace {

TimePoint At(double ms) { return TimePoint{} + FromMillis(ms); }

EngineLoad Idle(double at_ms) {
  EngineLoad l;
  l.observed_at = At(at_ms);
  l.waiting = 0;
  l.running = 1;
  l.kv_usage = 0.1;
  return l;
}

TEST(EngineLoad, StaleOrMissingIsSaturated) {
  const SaturationThresholds t;  // stale after 2000 ms
  const EngineLoad idle = Idle(1000);
  EXPECT_TRUE(Saturated(nullptr, At(0), t));
  EXPECT_FALSE(Saturated(&idle, At(3000), t));  // exactly 2000 ms old: still fresh
  EXPECT_TRUE(Saturated(&idle, At(3001), t));
  EXPECT_TRUE(Stale(&idle, At(3001), t.stale_after));
  EXPECT_FALSE(Stale(&idle, At(1500), t.stale_after));
  EXPECT_TRUE(Stale(nullptr, At(0), t.stale_after));
}

TEST(EngineLoad, QueueKvLoadingAndSlots) {
  const SaturationThresholds t;  // waiting > 5, kv >= 0.8
  EngineLoad l = Idle(0);
  EXPECT_FALSE(Saturated(&l, At(0), t));
  l.waiting = 5;
  EXPECT_FALSE(Saturated(&l, At(0), t));
  l.waiting = 6;
  EXPECT_TRUE(Saturated(&l, At(0), t));
  l = Idle(0);
  l.kv_usage = 0.8;
  EXPECT_TRUE(Saturated(&l, At(0), t));
  l = Idle(0);
  l.loading = true;
  EXPECT_TRUE(Saturated(&l, At(0), t));
  // llama.cpp without --metrics: the queue is unknown, every slot busy counts as full.
  EngineLoad slots;
  slots.total_slots = 2;
  slots.busy_slots = 1;
  EXPECT_FALSE(Saturated(&slots, At(0), t));
  slots.busy_slots = 2;
  EXPECT_TRUE(Saturated(&slots, At(0), t));
  // Ollama: loaded models only, never saturated while fresh.
  EngineLoad ollama;
  ollama.loaded_models = {"llama3.2:1b"};
  EXPECT_FALSE(Saturated(&ollama, At(100), t));
}

}  // namespace
}  // namespace mec
