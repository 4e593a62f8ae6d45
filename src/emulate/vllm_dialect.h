#pragma once
// vLLM's GET /metrics as the emulator writes it (emulate --flavor vllm), from an EngineSnapshot.
// Pure: no I/O. Names, HELP texts, label names and number format as vLLM's PrometheusStatLogger
// (vllm/v1/metrics/loggers.py) writes them through prometheus_client's text exposition (a counter
// `x` is exposed as `x_total`; labels sorted by name; values as Python floats, "8.0");
// docs/engines.md cites both. Written: vllm:num_requests_running, vllm:num_requests_waiting,
// vllm:kv_cache_usage_perc (0..1), vllm:prefix_cache_queries_total, vllm:prefix_cache_hits_total
// (in tokens), vllm:prompt_tokens_total, vllm:generation_tokens_total, each labelled
// {engine="0",model_name="<model>"}. Not written: the deprecated gpu_* names, histograms, the
// counters' _created samples.

#include <string>
#include <string_view>

#include "emulate/engine_state.h"

namespace mec {

std::string VllmMetricsText(const EngineSnapshot& s, std::string_view model_name);

// A value as prometheus_client writes it (floatToGoString): Python's repr of a float ("8.0",
// "0.25"), with Go's exponent form from 7 digits before the point ("1.234567e+06").
std::string PrometheusPythonFloat(double v);

}  // namespace mec
