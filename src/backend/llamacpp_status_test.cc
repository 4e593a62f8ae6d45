#include "backend/llamacpp_status.h"

#include <gtest/gtest.h>

namespace mec {
namespace {

// Bodies shaped as ggml-org/llama.cpp tools/server/README.md documents them (the /slots example
// trimmed of most "params"), and /metrics as server-context.cpp's get_metrics writes it.
const char* kSlots = R"([
  {"id": 0, "id_task": 135, "n_ctx": 65536, "speculative": false, "is_processing": true,
   "params": {"n_predict": -1, "seed": 4294967295, "temperature": 0.800000011920929, "samplers": ["penalties", "dry"]},
   "next_token": {"has_next_token": true, "has_new_line": false, "n_remain": -1, "n_decoded": 0}},
  {"id": 1, "id_task": 0, "n_ctx": 65536, "speculative": false, "is_processing": false,
   "params": {"n_predict": -1},
   "next_token": {"has_next_token": true, "has_new_line": true, "n_remain": -1, "n_decoded": 136}}
])";

const char* kProps = R"json({
  "default_generation_settings": {"id": 0, "id_task": -1, "n_ctx": 1024, "speculative": false, "is_processing": false,
                                  "params": {"n_predict": -1}, "prompt": ""},
  "total_slots": 4,
  "model_path": "../models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf",
  "chat_template": "...",
  "modalities": {"vision": false},
  "build_info": "b(build number)-(build commit hash)"
})json";

const char* kMetrics = R"(# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total 6886
# HELP llamacpp:prompt_seconds_total Prompt process time
# TYPE llamacpp:prompt_seconds_total counter
llamacpp:prompt_seconds_total 2903.63
# HELP llamacpp:n_busy_slots_per_decode Average number of busy slots per llama_decode() call
# TYPE llamacpp:n_busy_slots_per_decode counter
llamacpp:n_busy_slots_per_decode 1.87
# HELP llamacpp:prompt_tokens_seconds Average prompt throughput in tokens/s.
# TYPE llamacpp:prompt_tokens_seconds gauge
llamacpp:prompt_tokens_seconds 2.37151
# HELP llamacpp:requests_processing Number of requests processing.
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing 2
# HELP llamacpp:requests_deferred Number of requests deferred.
# TYPE llamacpp:requests_deferred gauge
llamacpp:requests_deferred 6
)";

TEST(LlamaCpp, Health) {
  auto ok = ParseLlamaHealth(200, R"({"status": "ok" })");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(*ok, LlamaHealth::kReady);
  auto loading = ParseLlamaHealth(503, R"({"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}})");
  ASSERT_TRUE(loading.ok()) << loading.status().message();
  EXPECT_EQ(*loading, LlamaHealth::kLoading);
  auto other = ParseLlamaHealth(500, R"({"error": {"code": 500, "message": "boom", "type": "server_error"}})");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("HTTP 500: boom"), std::string::npos) << other.status().message();
  EXPECT_FALSE(ParseLlamaHealth(200, "OK").ok());
  EXPECT_FALSE(ParseLlamaHealth(200, R"({"status": "loading"})").ok());
  EXPECT_FALSE(ParseLlamaHealth(503, "").ok());
}

TEST(LlamaCpp, Slots) {
  auto s = ParseLlamaSlots(kSlots);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->total, 2);
  EXPECT_EQ(s->busy, 1);
  auto empty = ParseLlamaSlots("[]");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->total, 0);
  EXPECT_FALSE(ParseLlamaSlots(R"({"error": {"code": 501, "message": "This server does not support slots endpoint.", "type": "not_supported_error"}})").ok());
  EXPECT_FALSE(ParseLlamaSlots(R"([{"id": 0, "is_processing": "yes"}])").ok());
  EXPECT_FALSE(ParseLlamaSlots(R"([{"id": 0}])").ok());
  EXPECT_FALSE(ParseLlamaSlots(R"([1, 2])").ok());
  EXPECT_FALSE(ParseLlamaSlots(R"([{"id": 0, "is_processing": true)").ok());  // truncated
}

TEST(LlamaCpp, Props) {
  auto t = ParseLlamaPropsTotalSlots(kProps);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(*t, 4);
  EXPECT_FALSE(ParseLlamaPropsTotalSlots(R"({"total_slots": "four"})").ok());
  EXPECT_FALSE(ParseLlamaPropsTotalSlots(R"({"total_slots": -1})").ok());
  EXPECT_FALSE(ParseLlamaPropsTotalSlots("[]").ok());
}

TEST(LlamaCpp, Metrics) {
  auto m = ParseLlamaMetrics(kMetrics);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->processing, 2);
  EXPECT_EQ(m->deferred, 6);
  EXPECT_FALSE(m->kv_usage.has_value());  // this build writes no kv_cache_usage_ratio
  auto kv = ParseLlamaMetrics(std::string(kMetrics) + "# TYPE llamacpp:kv_cache_usage_ratio gauge\nllamacpp:kv_cache_usage_ratio 0.31\n");
  ASSERT_TRUE(kv.ok()) << kv.status().message();
  EXPECT_DOUBLE_EQ(*kv->kv_usage, 0.31);
  // Without --metrics the endpoint answers 501 with a JSON error: not Prometheus text.
  EXPECT_FALSE(ParseLlamaMetrics(R"({"error": {"code": 501, "message": "This server does not support metrics endpoint.", "type": "not_supported_error"}})").ok());
  EXPECT_FALSE(ParseLlamaMetrics("vllm:num_requests_waiting 1\n").ok());
  EXPECT_FALSE(ParseLlamaMetrics("llamacpp:requests_processing two\n").ok());
}

TEST(LlamaCpp, MergePrefersSlotsAndMetrics) {
  auto all = MergeLlamaCpp(LlamaHealth::kReady, LlamaSlots{2, 1}, 4, LlamaMetrics{2, 6, 0.5});
  EXPECT_FALSE(all.loading);
  EXPECT_EQ(all.total_slots, 2);
  EXPECT_EQ(all.busy_slots, 1);
  EXPECT_EQ(all.waiting, 6);
  EXPECT_EQ(all.running, 2);
  EXPECT_EQ(all.kv_usage, 0.5);
  // --no-slots: the slot count from /props, the busy ones from /metrics.
  auto no_slots = MergeLlamaCpp(LlamaHealth::kReady, std::nullopt, 4, LlamaMetrics{3, 0, std::nullopt});
  EXPECT_EQ(no_slots.total_slots, 4);
  EXPECT_EQ(no_slots.busy_slots, 3);
  EXPECT_EQ(no_slots.running, 3);
  // No --metrics: running from the slots, the queue unknown.
  auto no_metrics = MergeLlamaCpp(LlamaHealth::kReady, LlamaSlots{4, 4}, std::nullopt, std::nullopt);
  EXPECT_EQ(no_metrics.running, 4);
  EXPECT_FALSE(no_metrics.waiting.has_value());
  auto loading = MergeLlamaCpp(LlamaHealth::kLoading, std::nullopt, std::nullopt, std::nullopt);
  EXPECT_TRUE(loading.loading);
  EXPECT_FALSE(loading.total_slots.has_value());
}

}  // namespace
}  // namespace mec
