#pragma once
// vLLM's GET /metrics (Prometheus text) read into an EngineLoad. Pure: no I/O.
// Names (docs/engines.md cites where each was confirmed):
//   vllm:num_requests_waiting, vllm:num_requests_running          gauges -> waiting, running
//   vllm:kv_cache_usage_perc (older vllm:gpu_cache_usage_perc)     gauge 0..1 -> kv_usage
//   vllm:prefix_cache_queries_total / vllm:prefix_cache_hits_total counters (older
//     vllm:gpu_prefix_cache_queries_total / _hits_total) -> PrefixCacheCounters
// Every sample is labelled (model_name, engine); counts and counters are summed over the label
// sets, the KV-cache share is their mean (one share per engine of a data-parallel server: a sum
// could pass 1). Where both the current and the older name are present, the current one is read.

#include <optional>
#include <string_view>

#include "backend/engine_load.h"
#include "backend/prefix_hit_window.h"
#include "core/status.h"

namespace mec {

struct VllmMetrics {
  EngineLoad load;                            // observed_at and prefix_hit_rate left for the caller
  std::optional<PrefixCacheCounters> prefix;  // cumulative, when the engine exports them
};

// Error when the text is not Prometheus text, or has neither num_requests_waiting nor
// num_requests_running (not a vLLM /metrics).
Result<VllmMetrics> ParseVllmMetrics(std::string_view text);

}  // namespace mec
