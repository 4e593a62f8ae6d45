#include "backend/vllm_metrics.h"

#include <gtest/gtest.h>

namespace mec {
namespace {

// Shaped like vLLM's own /metrics: prometheus_client output of vllm/v1/metrics/loggers.py
// (labels model_name and engine, counters with _total and _created samples, float values), as in
// docs/design/metrics.md's example output.
const char* kVllm = R"(# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 8.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 3.0
# HELP vllm:gpu_cache_usage_perc GPU KV-cache usage. 1 means 100 percent usage.DEPRECATED: Use vllm:kv_cache_usage_perc instead.
# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.5
# HELP vllm:gpu_prefix_cache_queries_total GPU prefix cache queries, in terms of number of queriedtokens. DEPRECATED: Use vllm:prefix_cache_queries instead.
# TYPE vllm:gpu_prefix_cache_queries_total counter
vllm:gpu_prefix_cache_queries_total{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 999.0
vllm:gpu_prefix_cache_queries_created{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 1.7356e+09
# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.42
# HELP vllm:prefix_cache_queries_total Prefix cache queries, in terms of number of queried tokens.
# TYPE vllm:prefix_cache_queries_total counter
vllm:prefix_cache_queries_total{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 4096.0
vllm:prefix_cache_queries_created{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 1.7356e+09
# HELP vllm:prefix_cache_hits_total Prefix cache hits, in terms of number of cached tokens.
# TYPE vllm:prefix_cache_hits_total counter
vllm:prefix_cache_hits_total{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 1024.0
vllm:prefix_cache_hits_created{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 1.7356e+09
# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.001",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="meta-llama/Llama-3.1-8B-Instruct"} 140.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 140.0
)";

TEST(VllmMetrics, ReadsCurrentNamesBeforeOlderOnes) {
  auto m = ParseVllmMetrics(kVllm);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->load.waiting, 3);
  EXPECT_EQ(m->load.running, 8);
  EXPECT_DOUBLE_EQ(*m->load.kv_usage, 0.42);  // not the deprecated gauge's 0.5
  ASSERT_TRUE(m->prefix.has_value());
  EXPECT_EQ(m->prefix->queries, 4096);
  EXPECT_EQ(m->prefix->hits, 1024);
  EXPECT_FALSE(m->load.prefix_hit_rate.has_value());  // needs two readings (PrefixHitWindow)
  EXPECT_FALSE(m->load.loading);
}

// An older release (before 0.9): only vllm:gpu_cache_usage_perc and vllm:gpu_prefix_cache_*.
TEST(VllmMetrics, ReadsOlderNames) {
  const char* old = R"(# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="m"} 1.0
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="m"} 0.0
# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{model_name="m"} 0.25
# TYPE vllm:gpu_prefix_cache_queries_total counter
vllm:gpu_prefix_cache_queries_total{model_name="m"} 10.0
# TYPE vllm:gpu_prefix_cache_hits_total counter
vllm:gpu_prefix_cache_hits_total{model_name="m"} 5.0
)";
  auto m = ParseVllmMetrics(old);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->load.waiting, 0);
  EXPECT_EQ(m->load.running, 1);
  EXPECT_DOUBLE_EQ(*m->load.kv_usage, 0.25);
  ASSERT_TRUE(m->prefix.has_value());
  EXPECT_EQ(m->prefix->queries, 10);
  EXPECT_EQ(m->prefix->hits, 5);
}

// Data parallel: one label set per engine. Counts add up; the KV share is the engines' mean.
TEST(VllmMetrics, SumsCountsAndAveragesKvOverEngines) {
  const char* dp = R"(vllm:num_requests_waiting{engine="0",model_name="m"} 2.0
vllm:num_requests_waiting{engine="1",model_name="m"} 5.0
vllm:num_requests_running{engine="0",model_name="m"} 4.0
vllm:num_requests_running{engine="1",model_name="m"} 4.0
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.9
vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.7
)";
  auto m = ParseVllmMetrics(dp);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->load.waiting, 7);
  EXPECT_EQ(m->load.running, 8);
  EXPECT_DOUBLE_EQ(*m->load.kv_usage, 0.8);
  EXPECT_FALSE(m->prefix.has_value());
}

TEST(VllmMetrics, NaNGaugeIsUnknown) {
  auto m = ParseVllmMetrics("vllm:num_requests_waiting{model_name=\"m\"} 1.0\nvllm:kv_cache_usage_perc{model_name=\"m\"} NaN\n");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_FALSE(m->load.running.has_value());
  EXPECT_FALSE(m->load.kv_usage.has_value());
}

TEST(VllmMetrics, MalformedOrForeignPayloadsAreErrors) {
  EXPECT_FALSE(ParseVllmMetrics("").ok());
  EXPECT_FALSE(ParseVllmMetrics("llamacpp:requests_processing 0\n").ok());  // another engine's
  EXPECT_FALSE(ParseVllmMetrics("{\"detail\":\"Not Found\"}").ok());
  auto m = ParseVllmMetrics("vllm:num_requests_waiting{model_name=\"m} 1.0\n");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("vLLM /metrics: line 1"), std::string::npos) << m.status().message();
  std::string truncated(kVllm);
  truncated.resize(truncated.find("vllm:kv_cache_usage_perc{") + 30);
  EXPECT_FALSE(ParseVllmMetrics(truncated).ok());
}

}  // namespace
}  // namespace mec
