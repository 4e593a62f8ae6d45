#pragma once
// Ollama's GET /api/ps (the models loaded in memory), read into an EngineLoad's loaded_models.
// Pure: no I/O. Shape (ollama/ollama docs/api.md "List Running Models", api/types.go
// ProcessResponse): {"models": [{"name", "model", "size", "digest", "details", "expires_at",
// "size_vram", ...}]}. Ollama reports no queue here (a full queue answers requests with 503).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backend/engine_load.h"
#include "core/status.h"

namespace mec {

struct OllamaLoadedModel {
  std::string name;        // e.g. "mistral:latest"; "model" when "name" is absent
  int64_t size_vram = 0;   // bytes of the model in GPU memory (0: on the CPU)
  std::string expires_at;  // RFC 3339, when Ollama unloads it if idle
};

// Error when the body is not JSON, has no "models" array, or a model has no name.
Result<std::vector<OllamaLoadedModel>> ParseOllamaPs(std::string_view body);

// loaded_models = the names, in Ollama's order.
EngineLoad OllamaLoad(const std::vector<OllamaLoadedModel>& models);

}  // namespace mec
