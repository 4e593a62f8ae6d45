#include "telemetry/engine_metrics.h"

#include <gtest/gtest.h>

#include "telemetry/test_records.h"

namespace mec {
namespace {

using testing_util::PromtoolCheck;
using testing_util::Sample;

BackendOptions B(const std::string& name, EngineKind kind) {
  BackendOptions b;
  b.name = name;
  b.engine.kind = kind;
  b.engine.stale_ms = 2000;
  return b;
}

TimePoint At(double ms) { return TimePoint{} + FromMillis(ms); }

TEST(EngineMetrics, OneSamplePerPolledBackend) {
  const std::vector<BackendOptions> backends = {B("edge-1", EngineKind::kVllm), B("api", EngineKind::kOpenAI),
                                                B("phone", EngineKind::kOllama), B("edge-2", EngineKind::kLlamaCpp),
                                                B("edge-\"3\"", EngineKind::kVllm)};
  EngineLoadBoard board(backends.size());
  EngineLoad vllm;
  vllm.observed_at = At(1000);
  vllm.waiting = 3;
  vllm.running = 8;
  vllm.kv_usage = 0.42;
  board.Set(0, vllm);
  EngineLoad ollama;
  ollama.observed_at = At(1000);
  ollama.loaded_models = {"llama3.2:1b"};
  board.Set(2, ollama);
  EngineLoad old = vllm;
  old.observed_at = At(0);
  board.Set(4, old);
  // edge-2 (llamacpp) has no reading yet.
  const std::string t = EngineMetricsText(backends, board, At(2500));
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_queue_waiting{backend="edge-1"})"), 3) << t;
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_queue_running{backend="edge-1"})"), 8);
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_kv_cache_usage_ratio{backend="edge-1"})"), 0.42);
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_engine_stale{backend="edge-1"})"), 0);
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_engine_stale{backend="phone"})"), 0);
  EXPECT_EQ(t.find(R"(mecrouter_backend_queue_waiting{backend="phone"})"), std::string::npos);  // Ollama: no queue
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_engine_stale{backend="edge-2"})"), 1);                 // never read
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_engine_stale{backend="edge-\"3\""})"), 1);             // 2500 ms old
  EXPECT_EQ(Sample(t, R"(mecrouter_backend_queue_waiting{backend="edge-\"3\""})"), 3);            // still shown
  EXPECT_EQ(t.find("api"), std::string::npos);  // engine openai: nothing
  std::string out;
  EXPECT_EQ(PromtoolCheck(t, &out), 0) << out << "\n--- text ---\n" << t;
}

TEST(EngineMetrics, NoEngineNoText) {
  EngineLoadBoard board(1);
  EXPECT_EQ(EngineMetricsText({B("api", EngineKind::kOpenAI)}, board, At(0)), "");
}

}  // namespace
}  // namespace mec
