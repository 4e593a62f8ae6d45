#include "backend/engine_load.h"

#include <gtest/gtest.h>

namespace mec {
namespace {

TimePoint AtMs(double ms) { return TimePoint{} + FromMillis(ms); }

EngineLoad Idle(double at_ms) {
  EngineLoad l;
  l.observed_at = AtMs(at_ms);
  l.waiting = 0;
  l.running = 1;
  l.kv_usage = 0.1;
  return l;
}

TEST(EngineLoad, StaleOrMissingIsSaturated) {
  const SaturationThresholds t;  // stale after 2000 ms
  const EngineLoad idle = Idle(1000);
  EXPECT_TRUE(Saturated(nullptr, AtMs(0), t));
  EXPECT_FALSE(Saturated(&idle, AtMs(3000), t));  // exactly 2000 ms old: still fresh
  EXPECT_TRUE(Saturated(&idle, AtMs(3001), t));
  EXPECT_TRUE(Stale(&idle, AtMs(3001), t.stale_after));
  EXPECT_FALSE(Stale(&idle, AtMs(1500), t.stale_after));
  EXPECT_TRUE(Stale(nullptr, AtMs(0), t.stale_after));
}

TEST(EngineLoad, QueueKvLoadingAndSlots) {
  const SaturationThresholds t;  // waiting > 5, kv >= 0.8
  EngineLoad l = Idle(0);
  EXPECT_FALSE(Saturated(&l, AtMs(0), t));
  l.waiting = 5;
  EXPECT_FALSE(Saturated(&l, AtMs(0), t));
  l.waiting = 6;
  EXPECT_TRUE(Saturated(&l, AtMs(0), t));
  l = Idle(0);
  l.kv_usage = 0.8;
  EXPECT_TRUE(Saturated(&l, AtMs(0), t));
  l = Idle(0);
  l.loading = true;
  EXPECT_TRUE(Saturated(&l, AtMs(0), t));
  // llama.cpp without --metrics: the queue is unknown, every slot busy counts as full.
  EngineLoad slots;
  slots.total_slots = 2;
  slots.busy_slots = 1;
  EXPECT_FALSE(Saturated(&slots, AtMs(0), t));
  slots.busy_slots = 2;
  EXPECT_TRUE(Saturated(&slots, AtMs(0), t));
  // Ollama: loaded models only, never saturated while fresh.
  EngineLoad ollama;
  ollama.loaded_models = {"llama3.2:1b"};
  EXPECT_FALSE(Saturated(&ollama, AtMs(100), t));
}

TEST(EngineLoad, SaturationReasonSaysWhy) {
  const SaturationThresholds t;
  EngineLoad l = Idle(0);
  EXPECT_EQ(SaturationReason(&l, AtMs(0), t), "");
  EXPECT_EQ(SaturationReason(nullptr, AtMs(0), t), "no engine reading");
  EXPECT_EQ(SaturationReason(&l, AtMs(2500), t), "engine reading 2.5s old");
  l.waiting = 7;
  EXPECT_EQ(SaturationReason(&l, AtMs(0), t), "7 waiting > 5");
  l = Idle(0);
  l.kv_usage = 0.93;
  EXPECT_EQ(SaturationReason(&l, AtMs(0), t), "KV cache 0.93 >= 0.80");
  l.loading = true;
  EXPECT_EQ(SaturationReason(&l, AtMs(0), t), "loading its model");
  EngineLoad slots;
  slots.total_slots = 2;
  slots.busy_slots = 2;
  EXPECT_EQ(SaturationReason(&slots, AtMs(0), t), "every slot busy (2/2)");
  // The backend's own thresholds.
  EngineOptions o;
  o.stale_ms = 500;
  o.max_waiting = 10;
  o.max_kv_usage = 0.95;
  const SaturationThresholds mine = ThresholdsOf(o);
  l = Idle(0);
  l.waiting = 7;
  l.kv_usage = 0.9;
  EXPECT_FALSE(Saturated(&l, AtMs(0), mine));
  EXPECT_EQ(SaturationReason(&l, AtMs(600), mine), "engine reading 0.6s old");
}

}  // namespace
}  // namespace mec
