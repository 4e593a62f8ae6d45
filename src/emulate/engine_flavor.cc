#include "emulate/engine_flavor.h"

namespace mec {

std::optional<EngineFlavor> ParseEngineFlavor(std::string_view name) {
  if (name == "openai") return EngineFlavor::kOpenAI;
  if (name == "vllm") return EngineFlavor::kVllm;
  if (name == "llamacpp") return EngineFlavor::kLlamaCpp;
  if (name == "ollama") return EngineFlavor::kOllama;
  return std::nullopt;
}

std::string_view FlavorName(EngineFlavor f) {
  switch (f) {
    case EngineFlavor::kOpenAI: return "openai";
    case EngineFlavor::kVllm: return "vllm";
    case EngineFlavor::kLlamaCpp: return "llamacpp";
    case EngineFlavor::kOllama: return "ollama";
  }
  return "openai";
}

EngineFeatures FeaturesOf(EngineFlavor f) {
  EngineFeatures e;
  switch (f) {
    case EngineFlavor::kOpenAI: break;
    case EngineFlavor::kVllm:
      e.enabled = e.kv_admission = e.prefix_cache = true;
      break;
    case EngineFlavor::kLlamaCpp: e.enabled = true; break;
    case EngineFlavor::kOllama:
      e.enabled = e.load_on_demand = true;
      break;
  }
  return e;
}

}  // namespace mec
