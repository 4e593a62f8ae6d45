#pragma once
// llama.cpp's llama-server endpoints as the emulator writes them (emulate --flavor llamacpp), from
// an EngineSnapshot. Pure: no I/O. Shapes from tools/server (docs/engines.md cites the files):
//   GET /health   200 {"status":"ok"}; while loading 503 {"error":{"code":503,"message":
//                 "Loading model","type":"unavailable_error"}} (which every endpoint but the model
//                 lists answers while loading)
//   GET /slots    one object per slot: id, n_ctx, speculative, is_processing, and for a slot that
//                 has served a task: id_task, next_token [{has_next_token, has_new_line, n_remain,
//                 n_decoded}] (not written: params, prompt, generated)
//   GET /props    default_generation_settings {n_ctx}, total_slots, model_alias, model_path,
//                 modalities, endpoint_slots / _props / _metrics, build_info (a subset)
//   GET /metrics  `# HELP` / `# TYPE` / `llamacpp:<name> <value>`, counters then gauges, values as
//                 a C++ stream writes a double: prompt_tokens_total, tokens_predicted_total,
//                 n_tokens_max (counters), requests_processing, requests_deferred (gauges)

#include <cstdint>
#include <string>
#include <string_view>

#include "emulate/engine_state.h"

namespace mec {

inline constexpr std::string_view kLlamaLoadingBody =
    R"({"error":{"code":503,"message":"Loading model","type":"unavailable_error"}})";
inline constexpr std::string_view kLlamaHealthOkBody = R"({"status":"ok"})";

// REQUIRES: `s` was taken with slots.
std::string LlamaSlotsJson(const EngineSnapshot& s, int64_t n_ctx);
std::string LlamaPropsJson(int total_slots, std::string_view model, int64_t n_ctx);
std::string LlamaMetricsText(const EngineSnapshot& s);

}  // namespace mec
