#pragma once
// How a backend is asked to continue a partial answer (api/continuation.h, docs/continuation.md).

namespace mec {

enum class ContinueStyle {
  kContinueFinalMessage,  // vLLM: "continue_final_message": true, "add_generation_prompt": false
  kPrefill,               // llama.cpp's server, Ollama: a final assistant message is continued as it is
  kPrefix,                // "prefix": true on the final assistant message (Mistral, DeepSeek)
};

}  // namespace mec
