#pragma once
// Reads what serving engines say about their load (the I/O half of backend/engine_load.h): for
// every backend whose engine is vllm, llamacpp or ollama, one coroutine polls the engine's own
// endpoints at the ORIGIN of the backend's url (http://host:8000/v1 -> http://host:8000/metrics)
// every engine_poll_ms, parses the answers (backend/vllm_metrics.h, llamacpp_status.h,
// ollama_ps.h) and stores the reading on an EngineLoadBoard, stamped with the injected Clock.
//   vllm      GET /metrics
//   llamacpp  GET /health; when ready GET /slots and GET /metrics (each skipped for good once it
//             answers 501: started with --no-slots / without --metrics); GET /props once, when
//             /slots is off, for total_slots
//   ollama    GET /api/ps
// A poll has half its interval (at most 1 s) for all its GETs, on one kept-alive connection; the
// next starts one interval after the previous one started (or at once when it overran). A failed
// poll (refused, timed out, an HTTP error, a malformed payload) stores nothing: the last reading
// ages until Saturated() calls it stale. Failures are reported once when they start and once when
// they end (on_log), not every poll.
//
// Off the request path: it runs on the io_context it is given (the gateway gives it the health
// prober's, on a thread of its own); requests never wait for it.
// Threading: coroutines run on a strand of `ioc`; Start() and Stop() may be called from any
// thread. `pools` is the poller's alone (UpstreamPools is single-threaded).
// REQUIRES before destruction: Stop() was called and the io_context has finished the poller's
// work (run() returned, or active() == 0), or the io_context never runs again.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/engine_load_board.h"
#include "core/clock.h"
#include "net/upstream_client.h"

namespace mec::net {

class EnginePoller {
 public:
  EnginePoller(asio::io_context& ioc, UpstreamPools& pools, EngineLoadBoard& board, const Clock& clock);
  ~EnginePoller();
  EnginePoller(const EnginePoller&) = delete;
  EnginePoller& operator=(const EnginePoller&) = delete;

  // Called on the strand when a backend's polls start failing (`ok` false, the first error) and
  // when they succeed again (`ok` true). REQUIRES: set before Start().
  using LogHook = std::function<void(int backend, bool ok, const std::string& message)>;
  void set_on_log(LogHook hook) { on_log_ = std::move(hook); }

  // Spawns one poll loop per backend with an engine to poll. Call once.
  void Start();
  // Cancels timers and polls in progress; the coroutines end soon after. Idempotent.
  void Stop();
  int active() const { return active_.load(); }

  // One poll of backend `b` (also what the loop runs): the reading, or why there is none. Does
  // not store it. REQUIRES: b's engine is not openai; no other poll of b in progress.
  awaitable<Result<EngineLoad>> PollOnce(int b);

  // The per-poll budget for an interval: half of it, at most 1 s.
  static std::chrono::milliseconds PollTimeout(int64_t poll_ms);

 private:
  struct Poll;
  awaitable<void> PollLoop(int b);
  awaitable<Result<EngineLoad>> PollVllm(Poll& p);
  awaitable<Result<EngineLoad>> PollLlamaCpp(Poll& p);
  awaitable<Result<EngineLoad>> PollOllama(Poll& p);

  asio::strand<asio::io_context::executor_type> strand_;
  UpstreamPools& pools_;
  EngineLoadBoard& board_;
  const Clock& clock_;
  std::vector<std::unique_ptr<Poll>> polls_;  // one per backend (unused for openai ones)
  LogHook on_log_;
  std::atomic<bool> stopped_{false};
  std::atomic<int> active_{0};
};

}  // namespace mec::net
