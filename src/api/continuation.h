#pragma once
// Mid-stream continuation (DESIGN.md §8, docs/continuation.md): when an upstream fails after the
// client has received part of a streamed answer, another backend is asked to continue that very
// answer, and its events are spliced into the client's stream. This file holds the pure parts:
// what the stream said so far (StreamTranscript), the continuation request for the next backend
// (BuildContinuationBody), and the relabelling of the continuation's events (Splice). No I/O.
//
// How a backend is asked (ContinueStyle), each checked against the engine's own code and docs:
//   kContinueFinalMessage  vLLM's chat extension: the partial answer as the final assistant
//                          message with "continue_final_message": true and
//                          "add_generation_prompt": false (also llama.cpp's server since PR 23012).
//   kPrefill               llama.cpp's server (PR 13174) and Ollama: a final assistant message is
//                          continued as it is; nothing else is sent.
//   kPrefix                "prefix": true on the final assistant message (Mistral's and DeepSeek's
//                          chat prefix completion).
// /v1/completions continues the same way for every engine: the prompt with the partial text
// appended.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/continue_style.h"
#include "api/openai_json.h"
#include "api/request.h"

namespace mec {

// What a stream has told the client so far, read from each event's data as it is passed on.
struct StreamTranscript {
  Endpoint endpoint = Endpoint::kChatCompletions;
  ResponseMeta meta;            // id, created and model of the first event (the ids the client saw)
  bool has_meta = false;
  std::string text;             // choice 0's text deltas, concatenated
  int64_t content_events = 0;   // events that carried text (about one token each)
  bool tool_calls = false;      // a delta carried tool_calls / function_call: not continued as text
  bool other_choice = false;    // a choice other than index 0 (n > 1): not continued
  bool finished = false;        // a finish_reason was seen: the answer itself was complete

  // Reads one event's data (not "[DONE]"). Unreadable JSON is ignored.
  void Note(std::string_view data);
  // Whether the text so far can be handed to another backend to continue.
  bool continuable() const { return has_meta && !tool_calls && !other_choice; }
};

// The request that asks a backend to continue `t.text`, or nullopt when this request cannot be
// continued (n > 1, a completions prompt that is not one string, an embeddings request). Every
// other field is kept; max_tokens / max_completion_tokens are reduced by the events already sent
// (at least 1 remains). `force_usage` as in BuildUpstreamBody.
std::optional<std::string> BuildContinuationBody(const ParsedRequest& req, std::string_view upstream_model,
                                                 bool force_usage, const StreamTranscript& t, ContinueStyle style);

// Ends a stream whose answer is complete although its upstream broke (its finish_reason came, or
// the request's max_tokens were all sent): the finish chunk when `finish_reason` is non-empty,
// the usage chunk when `usage` is set, then [DONE], framed as SSE events.
std::string FinishedTail(const StreamTranscript& t, std::string_view finish_reason, std::optional<Usage> usage);

// Relabels the continuation's events for the client: the id, created and model of the stream it
// continues, and a usage chunk that counts the whole answer (completion tokens plus the events
// sent before the seam; the prompt as the continuation's upstream counted it).
class Splice {
 public:
  explicit Splice(const StreamTranscript& before) : meta_(before.meta), sent_before_(before.content_events) {}
  // The event to pass on in place of `data` (not "[DONE]").
  std::string Relabel(std::string_view data) const;
  // The SSE comment line that marks the seam in the client's stream.
  static std::string SeamComment(std::string_view failed, std::string_view next, int64_t sent_events);
  int64_t sent_before() const { return sent_before_; }

 private:
  ResponseMeta meta_;
  int64_t sent_before_;
};

}  // namespace mec
