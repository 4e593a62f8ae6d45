#include "net/upstream_attempt.h"

namespace mec::net {

bool UpstreamAttempt::Feed(std::string_view bytes) {
  return sse.Feed(bytes, [this](std::string_view data) {
    if (capture && data != "[DONE]") {
      captured_bytes += data.size();
      if (captured_bytes > kMaxCaptureBytes) {
        capture = false;
        captured.clear();
      } else {
        captured.emplace_back(data);
      }
    }
    if (data == "[DONE]") {
      saw_done = true;
      AppendSseEvent(out, data);
      return;
    }
    if (transcript) transcript->Note(data);
    if (auto u = ExtractUsage(data)) usage = u;
    else ++chunks;
    if (drop_usage_chunks && HasEmptyChoices(data)) return;
    if (splice) AppendSseEvent(out, splice->Relabel(data));
    else AppendSseEvent(out, data);
  });
}

awaitable<void> OpenAttempt(std::shared_ptr<UpstreamAttempt> a, std::string path, std::string request_body) {
  std::optional<AttemptFailure> failure = co_await a->call.Start(path, std::move(request_body), a->stream, a->generation, &a->headers);
  if (failure) {
    a->failure = std::move(failure);
    co_return;
  }
  if (a->whole()) {
    // Upstream 4xx (other than 429) is the request's fault: the gateway passes it on whole.
    while (!a->call.done()) {
      UpstreamCall::Piece piece = co_await a->call.ReadSome();
      if (piece.error) {
        a->failure = AttemptFailure{AttemptResult::kReset, 0, 0, *piece.error};
        co_return;
      }
      a->body.append(piece.data);
      if (a->body.size() > (256u << 20)) {
        a->failure = AttemptFailure{AttemptResult::kReset, 0, 0, "upstream body over 256 MiB"};
        co_return;
      }
    }
    co_return;
  }
  for (;;) {
    UpstreamCall::Piece piece = co_await a->call.ReadSome();
    std::optional<std::string> broke = piece.error;
    if (!broke && !a->Feed(piece.data)) broke = "upstream sent an oversized event";
    if (!broke && a->out.empty() && a->call.done()) broke = "upstream ended the stream without data";
    if (broke) {
      a->failure = AttemptFailure{AttemptResult::kReset, 0, 0, *broke};
      co_return;
    }
    if (!a->out.empty()) co_return;
  }
}

}  // namespace mec::net
