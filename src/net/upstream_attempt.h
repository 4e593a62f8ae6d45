#pragma once
// One upstream attempt, up to the moment it has something for the client: the request is sent,
// then read until the whole body is in (not streamed, or a non-2xx status) or the first complete
// SSE event is (a stream). Only then does the gateway commit to it — so two attempts can race
// (hedging, DESIGN.md §3) and the loser is cancelled having sent the client nothing. The winner's
// call and parser keep streaming in the gateway.
//
// Lifetime: shared by the gateway's request coroutine and the attempt's own coroutine (which may
// outlive the request when it lost a hedge or the client left: it ends soon after Cancel()).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/continuation.h"
#include "api/openai_json.h"
#include "api/sse.h"
#include "backend/backend.h"
#include "net/upstream_client.h"

namespace mec::net {

struct UpstreamAttempt {
  // Set for an attempt that may outlive its request (ProxyCall::Spawn): the handler whose pools
  // `call` uses. Declared first, so destroyed last, after `call` and `in_flight` are done with them.
  std::shared_ptr<void> owner;

  UpstreamAttempt(UpstreamPools& pools, Backend& b, TimePoint sent, bool stream, bool drop_usage_chunks)
      : backend(b.index()), sent(sent), stream(stream), drop_usage_chunks(drop_usage_chunks), in_flight(b), call(pools, b.index()) {}

  const int backend;
  const TimePoint sent;
  const bool stream;
  const bool drop_usage_chunks;  // usage was asked upstream for us, not by the client: don't pass it on
  InFlightGuard in_flight;       // counts towards the backend's load while this object lives
  UpstreamCall call;

  // Whole answers: how long generating it may take, added to the backend's first_byte_ms for the
  // response head (whose first byte comes only after the last token).
  std::chrono::milliseconds generation{0};

  // Extra request headers (X-Request-Id, traceparent: net/request_ids.h).
  std::vector<std::pair<std::string, std::string>> headers;

  bool finished = false;   // Open() has returned
  TimePoint opened{};      // when it did: for a stream, its first event's arrival
  bool cancelled = false;  // Cancel() was called: the client left, or another attempt won
  std::optional<AttemptFailure> failure;  // set: the attempt failed before anything for the client

  std::string body;        // whole() attempts: the complete body
  // Streams: complete events framed for the client and not yet sent, and what they said.
  SseParser sse;
  std::string out;
  bool saw_done = false;
  int64_t chunks = 0;      // content chunks (a token count when usage is missing)
  std::optional<Usage> usage;
  // Streams, when `capture` is set (the response cache wants the answer): every data payload but
  // [DONE], as upstream sent it. Capture stops (and `captured` empties) past kMaxCaptureBytes.
  static constexpr size_t kMaxCaptureBytes = 4 << 20;
  bool capture = false;
  std::vector<std::string> captured;
  size_t captured_bytes = 0;
  // Streams that may be continued elsewhere if they break (docs/continuation.md): what the
  // client has been sent so far, across every attempt of the answer.
  std::optional<StreamTranscript> transcript;
  // A continuation: its events are relabelled as the stream they continue.
  std::optional<Splice> splice;

  // The answer is one body rather than a stream of events.
  bool whole() const { return !stream || call.status() < 200 || call.status() >= 300; }
  void Cancel() {
    cancelled = true;
    call.Cancel();
  }
  // Parses upstream stream bytes into `out`. False: an oversized event.
  bool Feed(std::string_view bytes);
};

// Sends the attempt and reads to its first output (see above). Sets `failure` or fills `body` /
// `out`; never throws for network errors.
awaitable<void> OpenAttempt(std::shared_ptr<UpstreamAttempt> a, std::string path, std::string request_body);

}  // namespace mec::net
