#pragma once
// Ollama's endpoints as the emulator writes them (emulate --flavor ollama). Pure: no I/O. Shapes
// from ollama/ollama (docs/engines.md cites them): GET /api/ps lists the models in memory,
// {"models":[{"name","model","size","digest","details":{...},"expires_at","size_vram",
// "context_length"}]}; a full queue (more than OLLAMA_MAX_QUEUE waiting) answers 503 with
// ErrMaxQueue's text, {"error":"<text>"} on Ollama's own API and in the OpenAI error shape
// ({"error":{"message","type":"api_error",...}}) on /v1.

#include <cstdint>
#include <string>
#include <string_view>

#include "emulate/engine_state.h"

namespace mec {

inline constexpr std::string_view kOllamaMaxQueueMessage =
    "server busy, please try again.  maximum pending requests exceeded";

// The name Ollama lists a model under: `model` with ":latest" when it has no tag.
std::string OllamaModelName(std::string_view model);

struct OllamaPsModel {
  std::string model;          // as served (OllamaModelName applies)
  int64_t size_bytes = 0;     // the weights, all in VRAM
  int64_t context_length = 0;
};
// /api/ps at `now` (a model appears only while s.loaded); `expires_unix_ms` is s.expires_at on
// the wall clock. expires_at is written in UTC (Go's RFC 3339 with nanoseconds, trailing zeros cut).
std::string OllamaPsJson(const EngineSnapshot& s, const OllamaPsModel& m, int64_t expires_unix_ms);

// RFC 3339 UTC with milliseconds, trailing zeros cut: 2026-12-06T23:10:00.25Z.
std::string Rfc3339UtcMillis(int64_t unix_ms);

}  // namespace mec
