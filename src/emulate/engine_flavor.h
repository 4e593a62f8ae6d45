#pragma once
// Which serving engine the emulator impersonates (`mecrouter emulate --flavor`): the OpenAI-
// compatible API is the same for all; each flavor adds that engine's own observability endpoints
// (docs/engines.md, "The emulator's flavors") and the engine model's features it needs.

#include <optional>
#include <string_view>

#include "emulate/engine_state.h"

namespace mec {

enum class EngineFlavor { kOpenAI, kVllm, kLlamaCpp, kOllama };

// "openai", "vllm", "llamacpp" or "ollama"; nullopt otherwise.
std::optional<EngineFlavor> ParseEngineFlavor(std::string_view name);
std::string_view FlavorName(EngineFlavor f);

// openai: none (the plain slot model). vllm: KV admission and the prefix cache, loads from start.
// llamacpp: slots only (each slot has its own context: no KV admission, no prefix cache counters),
// loads from start. ollama: slots, loads on demand and unloads after keep_alive_s.
EngineFeatures FeaturesOf(EngineFlavor f);

}  // namespace mec
