#pragma once
// llama.cpp's llama-server, read into an EngineLoad. Pure: no I/O. Endpoints (docs/engines.md cites
// tools/server/README.md and server-context.cpp for each):
//   GET /health   200 {"status":"ok"}; 503 {"error":{"code":503,"message":"Loading model",...}}
//   GET /slots    an array of slots, each with "is_processing" (off with --no-slots: 501)
//   GET /props    "total_slots" (--parallel)
//   GET /metrics  with --metrics only: llamacpp:requests_processing, llamacpp:requests_deferred
//                 (gauges) and, where a build exports it, llamacpp:kv_cache_usage_ratio

#include <optional>
#include <string_view>

#include "backend/engine_load.h"
#include "core/status.h"

namespace mec {

enum class LlamaHealth { kReady, kLoading };
// Error for any other answer (another status, a 503 that is not "Loading model", not JSON).
Result<LlamaHealth> ParseLlamaHealth(int http_status, std::string_view body);

struct LlamaSlots {
  int total = 0;
  int busy = 0;  // slots with is_processing true
};
Result<LlamaSlots> ParseLlamaSlots(std::string_view body);

// /props' total_slots.
Result<int> ParseLlamaPropsTotalSlots(std::string_view body);

struct LlamaMetrics {
  std::optional<double> processing;  // llamacpp:requests_processing
  std::optional<double> deferred;    // llamacpp:requests_deferred
  std::optional<double> kv_usage;    // llamacpp:kv_cache_usage_ratio, 0..1
};
// Error when the text is not Prometheus text or has neither requests gauge.
Result<LlamaMetrics> ParseLlamaMetrics(std::string_view text);

// One reading from what a poll got (each part optional but the health):
// waiting = deferred; running = processing, else the busy slots; slots from /slots, else
// total_slots from /props and processing as the busy ones; kv_usage from /metrics.
EngineLoad MergeLlamaCpp(LlamaHealth health, const std::optional<LlamaSlots>& slots,
                         std::optional<int> props_total_slots, const std::optional<LlamaMetrics>& metrics);

}  // namespace mec
