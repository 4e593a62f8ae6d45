#pragma once
// A parsed and validated OpenAI request. Parsing keeps every top-level field's JSON as the client
// wrote it, so that fields the gateway does not use are forwarded unchanged (BuildUpstreamBody).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "api/error.h"
#include "api/hints.h"
#include "core/status.h"

namespace mec {

enum class Endpoint { kChatCompletions, kCompletions, kEmbeddings };
std::string_view EndpointPath(Endpoint e);

struct ParsedRequest {
  Endpoint endpoint = Endpoint::kChatCompletions;
  std::string model;
  bool stream = false;
  bool include_usage = false;                 // stream_options.include_usage
  std::optional<int64_t> max_tokens;          // max_tokens or max_completion_tokens
  std::optional<double> temperature;
  std::optional<int64_t> seed;
  int64_t n = 1;
  // Capabilities the request needs from a backend.
  bool needs_tools = false;
  bool needs_json_schema = false;
  bool needs_image_input = false;
  // The user-visible text (messages' text joined by newlines, or the prompt / input), for token
  // estimates and the complexity model.
  std::string text;
  std::string last_user_text;  // the last user message (chat) or the prompt (completions)
  int message_count = 0;
  Hints body_hints;            // from the body's "mec" object

  // Each top-level field as (key, JSON value), in order, excluding "model" and "mec". A value is
  // the client's own text without the whitespace between tokens (api/json_members.h): strings
  // keep their escapes and numbers their spelling.
  std::vector<std::pair<std::string, std::string>> fields;
};

// Parses and validates a request body for `endpoint`. Errors are OpenAI-style 400s naming the field.
std::variant<ParsedRequest, ApiError> ParseRequest(Endpoint endpoint, std::string_view body);

// Serializes the body to send upstream: every field unchanged, "model" set to `upstream_model`,
// "mec" dropped; when `force_usage` and the request streams, stream_options.include_usage is set
// so the gateway can account tokens (the extra usage chunk is then not shown to a client that did
// not ask for it).
std::string BuildUpstreamBody(const ParsedRequest& req, std::string_view upstream_model, bool force_usage);

}  // namespace mec
