#pragma once
// The emulator's HTTP face: an OpenAI-compatible server whose latency, capacity and failures come
// from one TierModel (emulate/tier_model.h). Also GET/POST /admin/fault and GET /admin/stats.
// With an engine flavor (emulate/engine_flavor.h) it also serves that engine's own endpoints, read
// from the model's EngineSnapshot: vllm GET /metrics; llamacpp GET /health, /slots, /props,
// /metrics (and 503 "Loading model" to everything but the model lists while loading); ollama
// GET /api/ps (and 503 "server busy" when its queue is full).

#include <atomic>
#include <map>
#include <memory>
#include <mutex>

#include "api/openai_json.h"
#include "api/request.h"
#include "core/clock.h"
#include "emulate/engine_flavor.h"
#include "emulate/text_generator.h"
#include "emulate/tier_model.h"
#include "net/http_server.h"

namespace mec::net {

// The model and its bookkeeping, shared by the emulator's workers (guarded by mu).
struct EmulatorShared {
  EmulatorShared(TierProfile profile, const Clock& clock, uint64_t seed, EngineFlavor flavor = EngineFlavor::kOpenAI)
      : clock(clock), flavor(flavor), model(std::move(profile), Rng(seed, "emulator"), clock.Now(), FeaturesOf(flavor)) {}
  const Clock& clock;
  const EngineFlavor flavor;
  std::mutex mu;
  TierModel model;                        // guarded by mu
  uint64_t next_ticket = 1;               // guarded by mu
  struct Waiter;
  std::map<uint64_t, std::shared_ptr<Waiter>> waiters;  // queued requests, guarded by mu
  std::atomic<uint64_t> served{0}, cancelled{0}, rejected{0}, errors{0}, dropped{0}, hung{0};
};

class EmulatorHandler final : public Handler {
 public:
  explicit EmulatorHandler(EmulatorShared& shared) : s_(shared) {}
  awaitable<void> Handle(HttpRequest& req, ClientChannel& ch) override;

 private:
  awaitable<void> Generate(Endpoint endpoint, HttpRequest& req, ClientChannel& ch);
  // The tier model's admission of `w` (a ticket, then a plan). True: the request holds a slot
  // (release it); false: it was answered (a rejection) or the client left while it was queued.
  awaitable<bool> Admit(WorkItem& w, ServicePlan& plan, ClientChannel& ch, unsigned ver, bool keep_alive);
  // A started generation's streamed answer: its events on the plan's schedule from t0.
  struct Streaming {
    const ServicePlan& plan;
    const ResponseMeta& meta;
    const Usage& usage;
    std::string_view finish;
    bool include_usage;
    TimePoint t0;
  };
  awaitable<void> Stream(const Streaming& st, TextGenerator& gen, boost::asio::steady_timer& sleep, ClientChannel& ch, unsigned ver);
  awaitable<void> Fault(HttpRequest& req, ClientChannel& ch);
  // The flavor's own endpoints. Returns false (having sent nothing) when `path` is not one of them.
  awaitable<bool> EngineEndpoint(std::string_view path, HttpRequest& req, ClientChannel& ch);
  // The emulated network's round trip (the profile's rtt_ms, times the injected slowdown), paid by
  // every answer that has no service plan: health checks and model lists, rejections. A
  // generation's plan includes it in its TTFT already.
  awaitable<void> NetworkDelay();
  // Releases a ticket and wakes the queued requests that start now.
  void Release(uint64_t ticket);

  EmulatorShared& s_;
};

}  // namespace mec::net
