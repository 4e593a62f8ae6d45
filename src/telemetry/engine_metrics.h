#pragma once
// Prometheus text for what polled engines report (backend/engine_load_board.h), appended to
// GET /metrics; one sample per backend whose engine is vllm, llamacpp or ollama, labelled
// backend="<name>":
//
//   mecrouter_backend_queue_waiting          requests waiting in the engine (when it reports them)
//   mecrouter_backend_queue_running          requests running in the engine (when it reports them)
//   mecrouter_backend_kv_cache_usage_ratio   KV-cache use, 0..1 (when it reports it)
//   mecrouter_backend_engine_stale           1 when no reading is younger than engine_stale_ms
//                                            (the backend then counts as saturated), else 0
//
// The first three show the latest reading, however old; a backend with no reading yet has only
// the stale gauge (1). No backend with an engine: empty text.

#include <string>
#include <vector>

#include "backend/engine_load_board.h"
#include "config/options.h"
#include "core/clock.h"

namespace mec {

// REQUIRES: board.size() == backends.size() (indexed alike).
std::string EngineMetricsText(const std::vector<BackendOptions>& backends, const EngineLoadBoard& board, TimePoint now);

}  // namespace mec
