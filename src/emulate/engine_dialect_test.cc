// What the emulator's flavors write reads back through mecrouter's own engine parsers
// (src/backend: vllm_metrics.h, llamacpp_status.h, ollama_ps.h) into the expected EngineLoad.
#include <gtest/gtest.h>

#include "backend/llamacpp_status.h"
#include "backend/ollama_ps.h"
#include "backend/prometheus_text.h"
#include "backend/vllm_metrics.h"
#include "emulate/engine_flavor.h"
#include "emulate/llamacpp_dialect.h"
#include "emulate/ollama_dialect.h"
#include "emulate/tier_model.h"
#include "emulate/vllm_dialect.h"

namespace mec {
namespace {

TierProfile Small() {
  TierProfile p;
  p.name = "t";
  p.model = "llama-3.1-8b-instruct";
  p.base_ms = 10;
  p.prefill_tokens_per_s = 1000;
  p.decode_tokens_per_s = 100;
  p.max_concurrency = 2;
  p.max_queue = 10;
  p.kv_capacity_tokens = 1000;
  p.context_window = 4096;
  p.model_bytes = 123456789;
  return p;
}

WorkItem Item(uint64_t ticket, int64_t in) {
  WorkItem w;
  w.ticket = ticket;
  w.input_tokens = in;
  w.output_tokens = 20;
  w.content_hash = ticket;
  return w;
}

// Two running (300 + 200 prompt tokens), one waiting.
template <typename Fn>
void Load(TierModel& m, TimePoint now, Fn&& prefix) {
  ServicePlan plan;
  WorkItem a = Item(1, 300), b = Item(2, 200), c = Item(3, 100);
  prefix(a, b, c);
  ASSERT_EQ(m.Arrive(now, a, &plan), Admission::kStarted);
  ASSERT_EQ(m.Arrive(now, b, &plan), Admission::kStarted);
  ASSERT_EQ(m.Arrive(now, c, &plan), Admission::kQueued);
}

TEST(VllmDialect, ParsesBackIntoTheLoad) {
  ManualClock clock;
  TierModel m(Small(), Rng(1), clock.Now(), FeaturesOf(EngineFlavor::kVllm));
  const std::string text(64 * 20, 'x');
  Load(m, clock.Now(), [&](WorkItem& a, WorkItem& b, WorkItem&) {
    a.prefix_blocks = PromptBlockHashes(text, a.input_tokens);
    b.prefix_blocks = PromptBlockHashes(text, b.input_tokens);  // its 12 blocks were a's first 12
  });
  const std::string out = VllmMetricsText(m.Engine(clock.Now(), false), "llama-3.1-8b-instruct");
  auto v = ParseVllmMetrics(out);
  ASSERT_TRUE(v.ok()) << v.status().message() << "\n" << out;
  EXPECT_EQ(v->load.running, 2);
  EXPECT_EQ(v->load.waiting, 1);
  EXPECT_NEAR(*v->load.kv_usage, 0.5, 1e-9);
  ASSERT_TRUE(v->prefix);
  EXPECT_EQ(v->prefix->queries, 500);
  EXPECT_EQ(v->prefix->hits, 192);
  // vLLM's own words: HELP/TYPE as prometheus_client writes them, sorted labels, Python floats.
  EXPECT_NE(out.find("# HELP vllm:num_requests_waiting Number of requests waiting to be processed.\n"
                     "# TYPE vllm:num_requests_waiting gauge\n"
                     "vllm:num_requests_waiting{engine=\"0\",model_name=\"llama-3.1-8b-instruct\"} 1.0\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("# TYPE vllm:prefix_cache_hits_total counter\n"), std::string::npos);
  EXPECT_NE(out.find("vllm:kv_cache_usage_perc{engine=\"0\",model_name=\"llama-3.1-8b-instruct\"} 0.5\n"), std::string::npos);
}

TEST(VllmDialect, PythonFloats) {
  EXPECT_EQ(PrometheusPythonFloat(8), "8.0");
  EXPECT_EQ(PrometheusPythonFloat(0), "0.0");
  EXPECT_EQ(PrometheusPythonFloat(0.25), "0.25");
  EXPECT_EQ(PrometheusPythonFloat(123456), "123456.0");
  EXPECT_EQ(PrometheusPythonFloat(1234567), "1.234567e+06");  // 7 digits before the point: Go's form
  EXPECT_EQ(PrometheusPythonFloat(12345678), "1.2345678e+07");
  EXPECT_EQ(PrometheusPythonFloat(1e7), "1e+07");
}

TEST(LlamaCppDialect, ParsesBackIntoTheLoad) {
  ManualClock clock;
  TierModel m(Small(), Rng(1), clock.Now(), FeaturesOf(EngineFlavor::kLlamaCpp));
  Load(m, clock.Now(), [](WorkItem&, WorkItem&, WorkItem&) {});
  const EngineSnapshot s = m.Engine(clock.Now(), true);
  auto health = ParseLlamaHealth(200, kLlamaHealthOkBody);
  ASSERT_TRUE(health.ok());
  auto slots = ParseLlamaSlots(LlamaSlotsJson(s, 4096));
  ASSERT_TRUE(slots.ok()) << slots.status().message();
  EXPECT_EQ(slots->total, 2);
  EXPECT_EQ(slots->busy, 2);
  auto props = ParseLlamaPropsTotalSlots(LlamaPropsJson(2, "m", 4096));
  ASSERT_TRUE(props.ok());
  EXPECT_EQ(*props, 2);
  const std::string text = LlamaMetricsText(s);
  auto metrics = ParseLlamaMetrics(text);
  ASSERT_TRUE(metrics.ok()) << metrics.status().message() << "\n" << text;
  const EngineLoad load = MergeLlamaCpp(*health, *slots, *props, *metrics);
  EXPECT_EQ(load.waiting, 1);
  EXPECT_EQ(load.running, 2);
  EXPECT_EQ(load.total_slots, 2);
  EXPECT_EQ(load.busy_slots, 2);
  EXPECT_FALSE(load.loading);
  EXPECT_NE(text.find("# HELP llamacpp:requests_deferred Number of requests deferred.\n"
                      "# TYPE llamacpp:requests_deferred gauge\nllamacpp:requests_deferred 1\n"),
            std::string::npos)
      << text;
  // While loading: the 503 the poller reads as loading.
  auto loading = ParseLlamaHealth(503, kLlamaLoadingBody);
  ASSERT_TRUE(loading.ok());
  EXPECT_EQ(*loading, LlamaHealth::kLoading);
}

TEST(OllamaDialect, ParsesBackIntoTheLoadedModels) {
  ManualClock clock;
  auto p = Small();
  p.load_ms = 100;
  TierModel m(p, Rng(1), clock.Now(), FeaturesOf(EngineFlavor::kOllama));
  const OllamaPsModel model{p.model, p.model_bytes, p.context_window};
  auto none = ParseOllamaPs(OllamaPsJson(m.Engine(clock.Now(), false), model, 0));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());  // cold
  ServicePlan plan;
  ASSERT_EQ(m.Arrive(clock.Now(), Item(1, 10), &plan), Admission::kStarted);
  clock.Advance(FromMillis(100));
  const std::string body = OllamaPsJson(m.Engine(clock.Now(), false), model, 1765062600250);
  auto ps = ParseOllamaPs(body);
  ASSERT_TRUE(ps.ok()) << ps.status().message();
  const EngineLoad load = OllamaLoad(*ps);
  EXPECT_EQ(load.loaded_models, std::vector<std::string>{"llama-3.1-8b-instruct:latest"});
  ASSERT_EQ(ps->size(), 1u);
  EXPECT_EQ((*ps)[0].size_vram, 123456789);
  EXPECT_EQ((*ps)[0].expires_at, "2025-12-06T23:10:00.25Z");
}

TEST(OllamaDialect, NamesAndTimes) {
  EXPECT_EQ(OllamaModelName("mistral"), "mistral:latest");
  EXPECT_EQ(OllamaModelName("llama3.2:1b"), "llama3.2:1b");
  EXPECT_EQ(Rfc3339UtcMillis(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(Rfc3339UtcMillis(1500), "1970-01-01T00:00:01.5Z");
}

}  // namespace
}  // namespace mec
