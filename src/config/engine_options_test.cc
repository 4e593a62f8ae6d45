// The engine keys of a backend: engine, engine_poll_ms, engine_stale_ms (docs/engines.md).

#include <gtest/gtest.h>

#include "config/loader.h"

namespace mec {
namespace {

const std::string kHead = "backends:\n  - name: a\n    tier: edge\n    url: http://10.0.0.2:8000/v1\n    models: [m]\n";

void ExpectEngineError(const std::string& yaml, const std::string& needle) {
  auto o = LoadOptionsFromString(yaml, "c.yaml");
  ASSERT_FALSE(o.ok()) << yaml;
  EXPECT_NE(o.status().message().find(needle), std::string::npos) << o.status().message();
}

TEST(EngineOptions, DefaultIsOpenAINothingPolled) {
  auto o = LoadOptionsFromString(kHead, "c.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  const EngineOptions& e = o->backends[0].engine;
  EXPECT_EQ(e.kind, EngineKind::kOpenAI);
  EXPECT_EQ(e.poll_ms, 100);
  EXPECT_EQ(e.stale_ms, 2000);
  EXPECT_EQ(DescribeOptions(*o).find("engine:"), std::string::npos);
}

TEST(EngineOptions, ParsesEachEngine) {
  for (const char* name : {"vllm", "llamacpp", "ollama", "openai"}) {
    auto o = LoadOptionsFromString(kHead + "    engine: " + name + "\n", "c.yaml");
    ASSERT_TRUE(o.ok()) << o.status().message();
    EXPECT_EQ(EngineKindName(o->backends[0].engine.kind), name);
  }
  auto o = LoadOptionsFromString(kHead + "    engine: vllm\n    engine_poll_ms: 50\n    engine_stale_ms: 1500\n", "c.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->backends[0].engine.kind, EngineKind::kVllm);
  EXPECT_EQ(o->backends[0].engine.poll_ms, 50);
  EXPECT_EQ(o->backends[0].engine.stale_ms, 1500);
  const std::string d = DescribeOptions(*o);
  EXPECT_NE(d.find("engine: vllm, polled every 50 ms at the url's origin, stale after 1500 ms"), std::string::npos) << d;
}

TEST(EngineOptions, ErrorsNameTheKeyAndLine) {
  ExpectEngineError(kHead + "    engine: sglang\n", "c.yaml:6: backends[0].engine: expected vllm, llamacpp, ollama or openai, got 'sglang'");
  ExpectEngineError(kHead + "    engine: [vllm]\n", "c.yaml:6: backends[0].engine: expected a string");
  ExpectEngineError(kHead + "    engine_poll_ms: 10\n", "c.yaml:6: backends[0].engine_poll_ms: must be between 50 and 5000");
  ExpectEngineError(kHead + "    engine_poll_ms: 6000\n", "backends[0].engine_poll_ms: must be between 50 and 5000");
  ExpectEngineError(kHead + "    engine_poll_ms: often\n", "backends[0].engine_poll_ms: expected a number");
  ExpectEngineError(kHead + "    engine_stale_ms: 50\n", "c.yaml:6: backends[0].engine_stale_ms: must be between");
  ExpectEngineError(kHead + "    engine_poll_ms: 1000\n    engine_stale_ms: 500\n",
                    "c.yaml:7: backends[0].engine_stale_ms: must be at least engine_poll_ms");
  ExpectEngineError(kHead + "    engine_poll: 100\n", "c.yaml:6: backends[0].engine_poll: unknown key");
}

}  // namespace
}  // namespace mec
