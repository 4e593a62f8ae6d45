#pragma once
// What a serving engine says about its own load, read off the request path (net/engine_poller.h)
// from vLLM, llama.cpp's llama-server or Ollama (docs/engines.md), in one shape whatever the
// engine. A field an engine does not report stays empty: Ollama reports no queue, llama.cpp no
// prefix-cache counters.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/options.h"
#include "core/clock.h"

namespace mec {

struct EngineLoad {
  TimePoint observed_at{};                // when the poll that produced it answered (gateway clock)
  std::optional<double> waiting;          // requests queued in the engine, not yet running
  std::optional<double> running;          // requests being decoded / prefilled
  std::optional<double> kv_usage;         // share of the KV cache in use, 0..1
  std::optional<double> prefix_hit_rate;  // prefix-cache hits / queries over a recent window, 0..1
  std::optional<int> total_slots;         // llama.cpp: parallel slots (--parallel)
  std::optional<int> busy_slots;          // llama.cpp: slots processing a request
  bool loading = false;                   // the engine is still loading its model
  std::vector<std::string> loaded_models; // Ollama: models in memory (warm)
};

// When an engine counts as saturated. max_waiting and max_kv_usage default to the Gateway API
// Inference Extension saturation detector's queue depth 5 and KV-cache use 0.8 (docs/engines.md,
// Sources); staleness is the backend's engine_stale_ms (default 2000, the figure; that
// detector uses 200 ms with a 50 ms poll).
struct SaturationThresholds {
  Duration stale_after = std::chrono::milliseconds(2000);
  double max_waiting = 5;     // saturated when more requests than this wait
  double max_kv_usage = 0.8;  // saturated at or above this KV-cache use
};

// Whether an engine that lists its loaded models (Ollama's /api/ps) holds `model`: the same name,
// or the same without Ollama's default tag (`mistral` is `mistral:latest`).
bool HoldsModel(const EngineLoad& load, std::string_view model);

// A backend's thresholds (engine_stale_ms, engine_max_waiting, engine_max_kv_usage).
SaturationThresholds ThresholdsOf(const EngineOptions& o);

// Whether an engine should be treated as full at `now`, from its latest reading (null: none yet,
// as EngineLoadBoard::Latest gives it):
// - no reading, or one older than `stale_after` (stale -> saturated: a silent engine is not trusted);
// - still loading its model;
// - waiting > max_waiting, or kv_usage >= max_kv_usage;
// - when the queue is unknown but the slots are (llama.cpp without --metrics): every slot busy.
// A reading that says nothing about load (Ollama) is saturated only when stale.
bool Saturated(const EngineLoad* load, TimePoint now, const SaturationThresholds& t);
// Why Saturated() says so, in a few ASCII words for X-MEC-Reason ("7 waiting > 5", "KV cache
// 0.93 >= 0.80", "loading its model", "every slot busy", "no engine reading", "engine reading
// 2.4s old"); "" when it is not saturated.
std::string SaturationReason(const EngineLoad* load, TimePoint now, const SaturationThresholds& t);

// Whether `load` is older than `stale_after` at `now`, or null.
bool Stale(const EngineLoad* load, TimePoint now, Duration stale_after);

}  // namespace mec
