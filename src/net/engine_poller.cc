#include "net/engine_poller.h"

#include <algorithm>

#include <fmt/format.h>

#include "backend/llamacpp_status.h"
#include "backend/ollama_ps.h"
#include "backend/prefix_hit_window.h"
#include "backend/vllm_metrics.h"
#include "net/kept_alive_get.h"

namespace mec::net {

namespace {
constexpr size_t kMaxMetricsBody = 8 << 20;  // vLLM's /metrics with every histogram is ~100 KB; room for many models
constexpr std::string_view kText = "text/plain";
constexpr std::string_view kJson = "application/json";

Status HttpError(const std::string& target, const GetReply& r) {
  std::string body = r.body.substr(0, 200);
  for (char& c : body)
    if (c == '\n' || c == '\r') c = ' ';
  return Status::Unavailable(fmt::format("GET {}: HTTP {}{}{}", target, r.status, body.empty() ? "" : ": ", body));
}

bool Ok(const GetReply& r) { return r.status >= 200 && r.status < 300; }

}  // namespace

// One backend's poll: its timer, its connection, what it learned of the engine so far.
struct EnginePoller::Poll {
  Poll(asio::io_context& ioc, UpstreamPools& pools, int b)
      : timer(ioc), conn(pools, b, "engine-poll", kMaxMetricsBody), options(pools.options(b)) {}

  asio::steady_timer timer;
  KeptAliveGet conn;
  const BackendOptions& options;
  TimePoint deadline{};            // of the poll in progress
  PrefixHitWindow prefix_window;   // vllm
  bool slots_off = false;          // llamacpp: /slots answered 501
  bool metrics_off = false;        // llamacpp: /metrics answered 501
  std::optional<int> props_total;  // llamacpp: /props total_slots, once
  bool failing = false;            // the last poll failed (for logging once)

  // GET `target` within what is left of the poll; an HTTP error status is not an error here.
  awaitable<Result<GetReply>> Get(const Clock& clock, const std::string& target, std::string_view accept) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock.Now());
    if (left.count() <= 0) co_return Status::DeadlineExceeded(fmt::format("GET {}: no time left in the poll", target));
    GetReply r = co_await conn.Get(target, left, accept);
    if (r.error) co_return Status::Unavailable("GET " + target + ": " + *r.error);
    co_return r;
  }

  // GET `target` and parse its 2xx answer with `parse`; an HTTP error or a malformed body is an
  // error. With `off`: a 501 (the endpoint is disabled) sets it and gives nullopt, and once set
  // the GET is skipped.
  template <typename T>
  awaitable<Result<std::optional<T>>> Read(const Clock& clock, const std::string& target, std::string_view accept,
                                           Result<T> (*parse)(std::string_view), bool* off = nullptr) {
    if (off && *off) co_return std::optional<T>();
    Result<GetReply> r = co_await Get(clock, target, accept);
    if (!r.ok()) co_return r.status();
    if (off && r->status == 501) {
      *off = true;
      co_return std::optional<T>();
    }
    if (!Ok(*r)) co_return HttpError(target, *r);
    Result<T> v = parse(r->body);
    if (!v.ok()) co_return v.status();
    co_return std::optional<T>(std::move(*v));
  }
};


EnginePoller::EnginePoller(asio::io_context& ioc, UpstreamPools& pools, EngineLoadBoard& board, const Clock& clock)
    : strand_(asio::make_strand(ioc)), pools_(pools), board_(board), clock_(clock) {
  for (size_t b = 0; b < board.size(); ++b) polls_.push_back(std::make_unique<Poll>(ioc, pools, static_cast<int>(b)));
}

EnginePoller::~EnginePoller() = default;

std::chrono::milliseconds EnginePoller::PollTimeout(int64_t poll_ms) {
  return std::chrono::milliseconds(std::clamp<int64_t>(poll_ms / 2, 1, 1000));
}

void EnginePoller::Start() {
  for (size_t b = 0; b < polls_.size(); ++b) {
    if (polls_[b]->options.engine.kind == EngineKind::kOpenAI) continue;
    ++active_;
    asio::co_spawn(strand_, PollLoop(static_cast<int>(b)), asio::detached);
  }
}

void EnginePoller::Stop() {
  if (stopped_.exchange(true)) return;
  asio::post(strand_, [this] {
    for (auto& p : polls_) {
      p->timer.cancel();
      p->conn.Cancel();
    }
  });
}

awaitable<Result<EngineLoad>> EnginePoller::PollVllm(Poll& p) {
  Result<std::optional<VllmMetrics>> m = co_await p.Read(clock_, "/metrics", kText, &ParseVllmMetrics);
  if (!m.ok()) co_return m.status();
  EngineLoad load = std::move((*m)->load);
  if ((*m)->prefix) load.prefix_hit_rate = p.prefix_window.Add(clock_.Now(), *(*m)->prefix);
  co_return load;
}

awaitable<Result<EngineLoad>> EnginePoller::PollLlamaCpp(Poll& p) {
  Result<GetReply> health = co_await p.Get(clock_, "/health", kJson);
  if (!health.ok()) co_return health.status();
  Result<LlamaHealth> h = ParseLlamaHealth(health->status, health->body);
  if (!h.ok()) co_return h.status();
  if (*h == LlamaHealth::kLoading) co_return MergeLlamaCpp(*h, std::nullopt, std::nullopt, std::nullopt);
  Result<std::optional<LlamaSlots>> slots = co_await p.Read(clock_, "/slots", kJson, &ParseLlamaSlots, &p.slots_off);
  if (!slots.ok()) co_return slots.status();
  if (p.slots_off && !p.props_total) {
    Result<std::optional<int>> total = co_await p.Read(clock_, "/props", kJson, &ParseLlamaPropsTotalSlots);
    if (!total.ok()) co_return total.status();
    p.props_total = *total;
  }
  Result<std::optional<LlamaMetrics>> metrics = co_await p.Read(clock_, "/metrics", kText, &ParseLlamaMetrics, &p.metrics_off);
  if (!metrics.ok()) co_return metrics.status();
  co_return MergeLlamaCpp(*h, *slots, p.props_total, *metrics);
}

awaitable<Result<EngineLoad>> EnginePoller::PollOllama(Poll& p) {
  Result<std::optional<std::vector<OllamaLoadedModel>>> m = co_await p.Read(clock_, "/api/ps", kJson, &ParseOllamaPs);
  if (!m.ok()) co_return m.status();
  co_return OllamaLoad(**m);
}

awaitable<Result<EngineLoad>> EnginePoller::PollOnce(int b) {
  Poll& p = *polls_[b];
  p.deadline = clock_.Now() + PollTimeout(p.options.engine.poll_ms);
  Result<EngineLoad> load = Status::InvalidArgument("engine openai: nothing to poll");
  switch (p.options.engine.kind) {
    case EngineKind::kVllm: load = co_await PollVllm(p); break;
    case EngineKind::kLlamaCpp: load = co_await PollLlamaCpp(p); break;
    case EngineKind::kOllama: load = co_await PollOllama(p); break;
    case EngineKind::kOpenAI: break;
  }
  if (load.ok()) load->observed_at = clock_.Now();
  co_return load;
}

awaitable<void> EnginePoller::PollLoop(int b) {
  Poll& p = *polls_[b];
  const auto every = std::chrono::milliseconds(p.options.engine.poll_ms);
  while (!stopped_) {
    const TimePoint started = clock_.Now();
    Result<EngineLoad> load = Status::Internal("not polled");
    try {
      load = co_await PollOnce(b);
    } catch (const std::exception& e) {
      p.conn.Reset();
      load = Status::Internal(std::string("engine poll: ") + e.what());
    }
    if (stopped_) break;
    if (load.ok()) {
      board_.Set(static_cast<size_t>(b), std::move(*load));
      if (p.failing && on_log_) on_log_(b, true, "engine polls succeed again");
      p.failing = false;
    } else {
      if (!p.failing && on_log_) on_log_(b, false, load.status().message());
      p.failing = true;
    }
    const Duration wait = std::max<Duration>(Duration::zero(), every - (clock_.Now() - started));
    p.timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait));
    auto [ec] = co_await p.timer.async_wait(kTuple);
    (void)ec;
  }
  p.conn.Reset();
  --active_;
}

}  // namespace mec::net
