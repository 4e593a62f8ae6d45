#pragma once
// Server-sent events as OpenAI streams them: "data: <json>\n\n" per chunk, "data: [DONE]\n\n" last.

#include <functional>
#include <string>
#include <string_view>

#include "api/error.h"

namespace mec {

// Incremental parser for an upstream SSE stream. Feed() takes bytes as they arrive, in any
// split, and calls on_data(payload) once per complete event that has data lines (multi-line data
// joined with '\n'). Comments and other fields (event:, id:, retry:) are ignored. Not thread-safe.
class SseParser {
 public:
  using OnData = std::function<void(std::string_view data)>;
  // Returns false if the pending buffer would exceed `max_event_bytes` (a malformed or hostile stream).
  bool Feed(std::string_view bytes, const OnData& on_data);
  size_t max_event_bytes = 8 << 20;

 private:
  void Line(std::string_view line, const OnData& on_data);
  std::string pending_;  // bytes of an incomplete line
  std::string data_;     // data lines of the current event
  bool has_data_ = false;
};

// Appends one event: "data: <payload>\n\n". REQUIRES: payload has no newline.
void AppendSseEvent(std::string& out, std::string_view payload);
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";
// An error event in OpenAI's error format, ending a stream that failed after its first byte.
std::string SseErrorEvent(const ApiError& e);

}  // namespace mec
