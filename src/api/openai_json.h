#pragma once
// Builders for OpenAI response bodies and stream chunks (used by the emulator and the response
// cache) and the few reads the gateway makes of upstream answers (usage).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/request.h"

namespace mec {

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

// Fields shared by a response and its chunks.
struct ResponseMeta {
  Endpoint endpoint = Endpoint::kChatCompletions;
  std::string id;
  int64_t created = 0;
  std::string model;
};

// A complete non-streamed chat.completion or text_completion.
std::string CompletionBody(const ResponseMeta& m, std::string_view text, std::string_view finish_reason, Usage u);
// One streamed chunk carrying `delta` (chat: the first chunk also carries the role). When
// `finish_reason` is non-empty the chunk carries it and an empty delta.
std::string CompletionChunk(const ResponseMeta& m, std::string_view delta, bool first, std::string_view finish_reason);
// The final usage-only chunk (choices: []) sent when stream_options.include_usage is set.
std::string UsageChunk(const ResponseMeta& m, Usage u);
// An embeddings list with one vector per input.
std::string EmbeddingsBody(std::string_view model, const std::vector<std::vector<float>>& vectors, Usage u);

// Reads "usage" from a response body or chunk; nullopt if absent or unreadable (a token count
// below 0 or above 2^40 is unreadable).
std::optional<Usage> ExtractUsage(std::string_view json);
// True for a chunk whose "choices" is an empty array (the usage-only chunk).
bool HasEmptyChoices(std::string_view json);

}  // namespace mec
