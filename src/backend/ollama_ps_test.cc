#include "backend/ollama_ps.h"

#include <gtest/gtest.h>

namespace mec {
namespace {

// ollama/ollama docs/api.md, "List Running Models", the response example.
const char* kPs = R"({
  "models": [
    {
      "name": "mistral:latest",
      "model": "mistral:latest",
      "size": 5137025024,
      "digest": "2ae6f6dd7a3dd734790bbbf58b8909a606e0e7e97e94b7604e0aa7ae4490e6d8",
      "details": {
        "parent_model": "",
        "format": "gguf",
        "family": "llama",
        "families": ["llama"],
        "parameter_size": "7.2B",
        "quantization_level": "Q4_0"
      },
      "expires_at": "2024-06-04T14:38:31.83753-07:00",
      "size_vram": 5137025024
    }
  ]
})";

TEST(OllamaPs, LoadedModels) {
  auto m = ParseOllamaPs(kPs);
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ((*m)[0].name, "mistral:latest");
  EXPECT_EQ((*m)[0].size_vram, 5137025024);
  EXPECT_EQ((*m)[0].expires_at, "2024-06-04T14:38:31.83753-07:00");
  const EngineLoad load = OllamaLoad(*m);
  EXPECT_EQ(load.loaded_models, std::vector<std::string>{"mistral:latest"});
  EXPECT_FALSE(load.waiting.has_value());
  EXPECT_FALSE(load.kv_usage.has_value());
}

TEST(OllamaPs, NothingLoaded) {
  auto m = ParseOllamaPs(R"({"models": []})");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_TRUE(m->empty());
  EXPECT_TRUE(OllamaLoad(*m).loaded_models.empty());
}

TEST(OllamaPs, ModelWithoutNameFallsBackToModel) {
  auto m = ParseOllamaPs(R"({"models": [{"model": "llama3.2:1b", "size_vram": 0}]})");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ((*m)[0].name, "llama3.2:1b");
}

TEST(OllamaPs, MalformedPayloadsAreErrors) {
  EXPECT_FALSE(ParseOllamaPs("").ok());
  EXPECT_FALSE(ParseOllamaPs("404 page not found").ok());
  EXPECT_FALSE(ParseOllamaPs(R"({"error": "server busy, please try again.  maximum pending requests exceeded"})").ok());
  EXPECT_FALSE(ParseOllamaPs(R"({"models": {}})").ok());
  EXPECT_FALSE(ParseOllamaPs(R"({"models": [{"size": 1}]})").ok());
  EXPECT_FALSE(ParseOllamaPs(R"({"models": [1]})").ok());
  EXPECT_FALSE(ParseOllamaPs(R"({"models": [{"name": "m")").ok());
}

}  // namespace
}  // namespace mec
