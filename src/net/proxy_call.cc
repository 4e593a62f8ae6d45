#include "net/proxy_call.h"

#include <cmath>

#include <fmt/format.h>

#include "api/hints.h"
#include "api/openai_json.h"
#include "api/sse.h"
#include "cache/answer_convert.h"
#include "gateway/key_admission.h"
#include "learn/judge_protocol.h"
#include "net/bounded_wait.h"
#include "net/learning_worker.h"
#include "net/request_reader.h"
#include "net/upstream_attempt.h"
#include "net/wire_format.h"

namespace mec::net {
namespace {

void Count(std::atomic<uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }

// A lookup in the replicas' shared cache, waited on for at most `timeout` (then: absent). The
// answer comes back on the cache's thread and is posted to this coroutine's executor.
awaitable<std::shared_ptr<const CachedAnswer>> SharedLookup(SharedCache& cache, const std::string& key, Duration timeout) {
  using Answer = std::shared_ptr<const CachedAnswer>;
  // Named first: g++ 12 mishandles temporaries that live across co_await.
  const std::function<void(std::function<void(Answer)>)> start = [&](std::function<void(Answer)> done) { cache.Get(key, std::move(done)); };
  auto got = co_await BoundedWait<Answer>(timeout, start);
  co_return got ? std::move(*got) : nullptr;
}

// A whole (non-streamed) answer's head arrives only after its last token, so its wait is the
// backend's first_byte_ms plus this: the expected output at a slow rate (3x the 99th percentile
// of the time per token, at least 20 ms per token). A backend that has hung still times out; one
// that is only generating a long answer does not.
std::chrono::milliseconds GenerationAllowance(double output_tokens, const LogNormalEstimate& tpot) {
  const double per_token = std::max(0.02, 3 * tpot.Quantile(0.99));
  const double seconds = std::max(1.0, output_tokens) * per_token;
  return std::chrono::milliseconds(static_cast<int64_t>(std::min(seconds, 3600.0) * 1000));
}

// Upstream path for an endpoint, relative to the backend's base URL (which ends in /v1).
std::string_view UpstreamPath(Endpoint e) {
  switch (e) {
    case Endpoint::kChatCompletions: return "/chat/completions";
    case Endpoint::kCompletions: return "/completions";
    case Endpoint::kEmbeddings: return "/embeddings";
  }
  return "";
}

// A reservation in the replicas' shared limits (Redis), waited on for at most `timeout`; nullopt
// when Redis did not answer in time (the caller then uses its local share). A reservation Redis
// grants after the wait gave up is released at once.
awaitable<std::optional<LimitVerdict>> SharedReserve(KeyGuard& keys, KeyGuard::KeyPtr key, Reservation r, std::string ticket,
                                                     Duration timeout) {
  using Verdict = std::optional<LimitVerdict>;  // nullopt: Redis unavailable
  RedisLimiter& redis = *keys.redis();
  // Named first: g++ 12 mishandles temporaries that live across co_await.
  const std::function<void(std::function<void(Verdict)>)> start = [&](std::function<void(Verdict)> done) {
    redis.Reserve(*key, key->limits, r, keys.clock().UnixMillis(), std::move(ticket), std::move(done));
  };
  std::function<void(Verdict)> release = [&redis, key, r](Verdict late) {  // granted after we gave up
    if (late && late->refused == LimitKind::kNone) redis.Settle(key->name, *late, r, Reservation{});
  };
  auto got = co_await BoundedWait<Verdict>(timeout, start, std::move(release));
  co_return got ? std::move(*got) : std::nullopt;
}

// "dec-" and 16 lowercase hex digits: the salt's low 32 bits, then the counter's (as
// fmt::format("dec-{:08x}{:08x}") wrote them, at a twentieth of the cost).
std::string NewDecisionId(GatewayShared& s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const uint64_t v = (uint64_t{static_cast<uint32_t>(s.id_salt)} << 32) | static_cast<uint32_t>(s.next_id.fetch_add(1));
  std::string id(20, '0');
  id[0] = 'd', id[1] = 'e', id[2] = 'c', id[3] = '-';
  for (int i = 0; i < 16; ++i) id[static_cast<size_t>(19 - i)] = kDigits[(v >> (4 * i)) & 0xf];
  return id;
}

}  // namespace

// The record is made in place (a move-assignment of its dozen strings cost ~300 instructions).
RequestTrace::RequestTrace(Telemetry* t, const std::string& id, TimePoint arrived)
    : telemetry(t), record(t ? t->Begin(id, arrived) : RequestRecord{}) {}

RequestTrace::~RequestTrace() {
  if (telemetry) telemetry->OnOutcome(std::move(record), status, http_status);
}

void RequestTrace::FirstByte() {
  if (telemetry) telemetry->OnFirstByte(record);
}

ProxyCall::ProxyCall(Handler& owner, GatewayShared& s, UpstreamPools& pools, Rng& rng, Rng& ids_rng, Endpoint endpoint,
                     HttpRequest& req, ClientChannel& ch)
    : s_(s),
      owner_(owner),
      pools_(pools),
      rng_(rng),
      endpoint_(endpoint),
      req_(req),
      ch_(ch),
      ka_(req.keep_alive()),
      ver_(req.version()),
      arrived_(s.clock.Now()),
      decision_id_(NewDecisionId(s)),
      ids_(RequestIds::From(FieldValue(req, "X-Request-Id"), FieldValue(req, "traceparent"), FieldValue(req, "tracestate"), ids_rng)),
      trace_(s.telemetry, decision_id_, arrived_),
      policy_(s.policy) {
  if (trace_.telemetry) {
    trace_.record.request_id = ids_.request_id;
    trace_.record.trace_id = ids_.trace_id;
  }
}

ProxyCall::~ProxyCall() { SettleLimits(); }

awaitable<void> ProxyCall::Serve(Handler& owner, GatewayShared& s, UpstreamPools& pools, Rng& rng, Rng& ids_rng, Endpoint endpoint,
                                 HttpRequest& req, ClientChannel& ch) {
  ProxyCall call(owner, s, pools, rng, ids_rng, endpoint, req, ch);
  co_await call.Run();
}

awaitable<void> ProxyCall::Run() {
  Count(s_.stats.requests);
  // No co_await inside a condition or on a temporary: g++ 12 miscompiles both (named first).
  // The checks that cannot wait run as plain calls: a coroutine frame per step costs more than
  // the step on the fast path (docs/benchmarks.md).
  std::optional<ApiError> bad = Authenticate() ? Admit() : std::move(key_error_);
  if (bad) {
    co_await Reject(*bad);
    co_return;
  }
  if (key_) {
    const bool within = co_await ReserveLimits();
    if (!within) co_return;
  }
  if (cache_->cacheable()) {
    const bool cached = co_await ServeFromCache();
    if (cached) co_return;
  }
  const RequestFlow::Verdict verdict = Decide();
  if (verdict != RequestFlow::Verdict::kRoute) {
    co_await AnswerUnrouted(verdict);
    co_return;
  }
  sampled_ = s_.learning && s_.learning->ShouldSample(*ctx_, decision_id_);
  if (parsed_->stream && parsed_->n == 1 && !continue_off_ && endpoint_ != Endpoint::kEmbeddings)
    for (const auto& b : s_.parts.pool.all()) continuable_ |= b->options().can_continue;
  std::shared_ptr<UpstreamAttempt> w = co_await RunAttempts();
  if (!w) co_return;
  if (w->whole()) co_await DeliverWhole(*w);
  else co_await DeliverStream(*w);
}

// ---- Admit: parse, hints, policy, context ----------------------------------------------------

// The API key first (401 before anything else is looked at); a request refused for its form
// (400, 413, 415) is then answered before any limit is charged.
bool ProxyCall::Authenticate() {
  if (!s_.keys) return true;
  auto key_or = s_.keys->Authenticate(FieldValue(req_, http::field::authorization));
  if (auto* e = std::get_if<ApiError>(&key_or)) {
    key_error_ = std::move(*e);
    return false;
  }
  key_ = std::move(std::get<KeyGuard::KeyPtr>(key_or));
  trace_.record.key_name = key_->name;
  return true;
}

std::optional<ApiError> ProxyCall::Admit() {
  std::optional<ApiError> bad = CheckJsonContentType(FieldValue(req_, http::field::content_type));  // 415
  if (bad) return bad;
  auto parsed_or = ParseRequest(endpoint_, req_.body());
  if (auto* err = std::get_if<ApiError>(&parsed_or)) return std::move(*err);
  parsed_.emplace(std::move(std::get<ParsedRequest>(parsed_or)));
  bad = Contextualize();
  if (!bad && key_) bad = AuthorizeKey(*key_, privacy_asked_, *ctx_);  // 403
  return bad;
}

// The key's limits (gateway/key_admission.h): the request's maximum use is reserved, in Redis
// when replicas share state (bounded by auth.redis_timeout_ms, else this replica's share), or here.
awaitable<bool> ProxyCall::ReserveLimits() {
  // An answer may not outgrow its reservation: without max_tokens, the key's limits add one
  // (auth.reserve_output_tokens), so that spend stays within budget + one maximum cost.
  const int64_t cap = s_.options.auth.reserve_output_tokens;
  const bool metered = key_->limits.budget_usd > 0 || key_->limits.tpm > 0;
  if (metered && !parsed_->max_tokens && endpoint_ != Endpoint::kEmbeddings && cap > 0) {
    parsed_->max_tokens = cap;
    parsed_->fields.emplace_back("max_tokens", std::to_string(cap));
  }
  reserved_ = MaxReservation(*ctx_, s_.parts.pool, cap);
  if (parsed_->n > 1) {  // n answers: n times the output (the input counted n times too: a bound)
    reserved_.tokens *= parsed_->n;
    reserved_.usd *= static_cast<double>(parsed_->n);
  }
  if (s_.keys->redis() && s_.keys->redis()->up()) {
    const Duration bound = std::chrono::milliseconds(s_.options.auth.redis_timeout_ms);
    limit_ = co_await SharedReserve(*s_.keys, key_, reserved_, decision_id_, bound);
    limit_where_ = KeyGuard::Where::kShared;
  }
  if (!limit_) {
    const bool fallback = s_.keys->redis() != nullptr;
    if (fallback) s_.keys->CountFallback();
    limit_ = s_.keys->ReserveLocal(*key_, reserved_, decision_id_, fallback);
    limit_where_ = fallback ? KeyGuard::Where::kFallback : KeyGuard::Where::kLocal;
  }
  if (limit_->refused == LimitKind::kNone) co_return true;
  Count(s_.stats.rejected);
  s_.keys->CountRefused(key_->name);
  const ApiError e = LimitError(*limit_);
  trace_.End(RequestStatus::kRejected, 429);
  HttpResponse res = ErrorResponse(e, ver_, ka_);
  if (limit_->retry_after_s > 0)
    res.set(http::field::retry_after, std::to_string(static_cast<int64_t>(std::ceil(limit_->retry_after_s))));
  co_await Reply(std::move(res));
  co_return false;
}

// Once, when the call ends: the reservation becomes what the answer used (nothing for an error or
// a cache hit; the serving backend's price for its tokens, continuations included).
void ProxyCall::SettleLimits() {
  if (!key_ || !limit_ || limit_->refused != LimitKind::kNone) return;
  Reservation used;
  if (served_backend_ >= 0) {
    const int64_t in = trace_.record.input_tokens > 0 ? trace_.record.input_tokens : (ctx_ ? ctx_->input_tokens : 0);
    used = UsedBy(s_.parts.pool, served_backend_, in, trace_.record.output_tokens, ToSeconds(s_.clock.Now() - arrived_));
  }
  trace_.record.key_spend_usd = used.usd;
  s_.keys->Settle(*key_, limit_where_, *limit_, reserved_, used);
}

std::optional<ApiError> ProxyCall::Contextualize() {
  Hints hints = parsed_->body_hints;
  if (auto e = ApplyHeaderHints(req_, hints)) return e;
  continue_off_ = hints.continue_off;
  privacy_asked_ = hints.privacy;
  if (!hints.policy.empty()) {
    auto it = s_.policies.find(hints.policy);
    if (it == s_.policies.end()) {
      std::string known;
      for (const auto& [name, p] : s_.policies) known += (known.empty() ? "" : ", ") + name;
      return ApiError::BadRequest("Invalid header X-MEC-Policy: unknown policy '" + hints.policy + "' (known: " + known + ")",
                                  "X-MEC-Policy", "invalid_hint");
    }
    policy_ = it->second.get();
  }
  auto ctx_or = s_.parts.context.Build(*parsed_, hints);
  if (auto* e = std::get_if<ApiError>(&ctx_or)) return *e;
  ctx_.emplace(std::move(std::get<RequestContext>(ctx_or)));
  cache_.emplace(s_.cache, *parsed_, *ctx_, s_.parts.pool, ParseCacheControl(FieldValue(req_, http::field::cache_control)));
  return std::nullopt;
}

// ---- The Cache agent: a repeatable request may be answered from memory, by every policy alike --

awaitable<bool> ProxyCall::ServeFromCache() {
  CacheStep& c = *cache_;
  std::shared_ptr<const CachedAnswer> hit = c.LookUpLocal();
  if (!hit && c.WantsShared(s_.shared_cache != nullptr)) {
    // The replicas' shared level (Redis), bounded by cache_lookup_ms.
    const Duration bound = std::chrono::milliseconds(s_.options.state.cache_lookup_ms);
    auto shared = co_await SharedLookup(*s_.shared_cache, c.key(), bound);
    c.OfferShared(std::move(shared));
  }
  hit = c.Conclude(s_.telemetry);
  if (!hit) co_return false;
  Count(s_.stats.cache_hits);
  const Backend& from = s_.parts.pool.at(hit->backend);
  const std::string reason = "cache hit: the answer " + from.name() + " gave to the same request";
  auto set_headers = [&](auto& res) {
    Stamp(res);
    res.set("X-MEC-Tier", std::string(TierName(from.tier())));
    res.set("X-MEC-Backend", from.name());
    res.set("X-MEC-Model", hit->model);
    res.set("X-MEC-Attempts", "0");
    res.set("X-MEC-Policy", policy_->name());
    res.set("X-MEC-Reason", reason);
    res.set("X-MEC-Cache", "hit");
  };
  trace_.record.output_tokens = hit->output_tokens;
  trace_.record.reason = reason;  // as X-MEC-Reason
  trace_.End(RequestStatus::kOk, 200);
  trace_.FirstByte();
  bool sent = false;
  if (!hit->stream) {
    HttpResponse res{http::status::ok, ver_};
    res.set(http::field::content_type, hit->content_type);
    set_headers(res);
    res.keep_alive(ka_);
    res.body() = hit->body;
    res.prepare_payload();
    sent = co_await ch_.Send(std::move(res));
  } else {
    http::response<http::empty_body> head{http::status::ok, ver_};
    head.set(http::field::content_type, "text/event-stream");
    head.set(http::field::cache_control, "no-cache");
    set_headers(head);
    std::string out;
    for (const auto& ev : hit->events) {
      if (!parsed_->include_usage && HasEmptyChoices(ev)) continue;  // the usage chunk, not asked for
      AppendSseEvent(out, ev);
    }
    out += kSseDone;
    sent = co_await ch_.BeginStream(std::move(head));
    if (sent) sent = co_await ch_.WriteChunk(out);
    if (sent) sent = co_await ch_.EndStream();
  }
  Delivered(sent);
  co_return true;
}

// ---- Decide (404 / 503 / shed); Run then runs the attempts and delivers ---------------------

RequestFlow::Verdict ProxyCall::Decide() {
  flow_.emplace(s_.parts.engine, *ctx_, trace_.record_or_null());
  return flow_->Decide(*policy_, rng_, s_.shadow);
}

awaitable<void> ProxyCall::AnswerUnrouted(RequestFlow::Verdict verdict) {
  RequestFlow& flow = *flow_;
  switch (verdict) {
    case RequestFlow::Verdict::kNotFound: {
      const ApiError e{404, "invalid_request_error", flow.status().message(), "model", "model_not_found"};
      co_await Reject(e);
      co_return;
    }
    case RequestFlow::Verdict::kUnavailable: {
      Count(s_.stats.failed);
      trace_.End(RequestStatus::kFailed, 503);
      auto res = ErrorResponse(ApiError::Unavailable(flow.status().message()), ver_, ka_);
      res.set("X-MEC-Policy", policy_->name());
      co_await Reply(std::move(res));
      co_return;
    }
    case RequestFlow::Verdict::kShed: {
      Count(s_.stats.shed);
      trace_.End(RequestStatus::kShed, 429);
      auto res = ErrorResponse(ApiError::TooManyRequests("Every backend that could serve this request is at capacity and waiting "
                                                         "would miss its deadline; retry later.", "load_shed"), ver_, ka_);
      res.set("X-MEC-Reason", flow.decision().reason);
      res.set(http::field::retry_after, std::to_string(static_cast<int>(flow.decision().retry_after_s)));
      co_await Reply(std::move(res));
      co_return;
    }
    case RequestFlow::Verdict::kRoute: break;  // not called for it
  }
}

// Starts attempts as the flow says, judges each as it opens (the first with something for the
// client wins; a failure before that fails over), hedges when the flow's timer fires.
awaitable<std::shared_ptr<UpstreamAttempt>> ProxyCall::RunAttempts() {
  RequestFlow& flow = *flow_;
  ch_.OnGone([this] {  // the client's disconnect cancels every attempt
    for (auto& a : running_) a->Cancel();
    if (winner_) winner_->Cancel();
  });
  FailoverAction act = flow.Start();
  for (;;) {
    if (act.type == FailoverAction::kGiveUp) break;
    if (act.type == FailoverAction::kStartAttempt) {
      // Alone, and with no hedge due while it opens, an attempt opens in this coroutine: nothing
      // else can happen meanwhile but the client leaving, which cancels it (OnGone above). Else
      // it opens in a coroutine of its own that wakes this one (Spawn).
      const bool alone = running_.empty() && !flow.HedgeAt();
      Backend& b = s_.parts.pool.at(act.backend);
      std::shared_ptr<UpstreamAttempt> a = Launch(b);
      std::string body = BuildUpstreamBody(*parsed_, ModelFor(b), a->drop_usage_chunks);  // usage asked for us
      act.type = FailoverAction::kWait;
      if (!alone) {
        Spawn(std::move(a), std::move(body));
        continue;
      }
      running_.push_back(a);
      std::string path(UpstreamPath(endpoint_));  // named: g++ 12 and temporaries across co_await
      try {
        co_await OpenAttempt(a, std::move(path), std::move(body));
      } catch (const std::exception&) {
        if (!a->failure) a->failure = AttemptFailure{AttemptResult::kReset, 0, 0, "internal error"};
      }
      a->finished = true;
      a->opened = s_.clock.Now();
    }
    if (ch_.gone()) {
      CancelRunning();
      Count(s_.stats.client_cancelled);
      co_return nullptr;
    }
    auto it = std::find_if(running_.begin(), running_.end(), [](const auto& a) { return a->finished; });
    if (it != running_.end()) {
      std::shared_ptr<UpstreamAttempt> a = *it;
      running_.erase(it);
      if (a->failure) {
        act = flow.OnFailure(a->backend, *a->failure, a->sent);
        continue;
      }
      flow.OnFirstByte(a->backend);  // the others (hedging) lost: their cost is counted there
      CancelRunning();
      winner_ = a;
      co_return a;
    }
    // Nothing has opened yet: wait for an attempt, or for the hedge timer.
    const std::optional<TimePoint> hedge_at = flow.HedgeAt();
    if (hedge_at) wake_->expires_after(std::max(Duration{0}, *hedge_at - s_.clock.Now()));
    else wake_->expires_at(asio::steady_timer::time_point::max());
    boost::system::error_code ec;
    co_await wake_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && hedge_at && s_.clock.Now() >= *hedge_at) act = flow.OnHedgeTimer();
  }
  CancelRunning();  // none should be running once the machine gives up
  Count(s_.stats.failed);
  trace_.End(RequestStatus::kFailed, act.error.http_status);
  auto res = ErrorResponse(act.error, ver_, ka_);
  res.set("X-MEC-Attempts", std::to_string(flow.machine().attempt_count()));
  res.set("X-MEC-Policy", policy_->name());
  res.set("X-MEC-Reason", flow.decision().reason);
  if (act.retry_after_s > 0) res.set(http::field::retry_after, std::to_string(static_cast<int>(act.retry_after_s)));
  co_await Reply(std::move(res));
  co_return nullptr;
}

bool ProxyCall::InjectUsage(const Backend& b) const {
  return parsed_->stream && b.options().stream_usage && !parsed_->include_usage;
}

std::shared_ptr<UpstreamAttempt> ProxyCall::Launch(Backend& b) {
  std::shared_ptr<UpstreamAttempt> a = NewAttempt(b, InjectUsage(b));
  a->capture = cache_->stores() || sampled_;
  if (!parsed_->stream) a->generation = GenerationAllowance(ctx_->output_tokens, s_.parts.monitor.Current().backends[b.index()].tpot);
  if (continuable_) {
    a->transcript.emplace();
    a->transcript->endpoint = endpoint_;
  }
  return a;
}

std::shared_ptr<UpstreamAttempt> ProxyCall::NewAttempt(Backend& b, bool inject_usage) {
  const TimePoint now = s_.clock.Now();
  if (!first_sent_) first_sent_ = now;
  auto a = std::make_shared<UpstreamAttempt>(pools_, b, now, parsed_->stream, inject_usage);
  a->headers = {{"X-Request-Id", ids_.request_id}, {"traceparent", ids_.Traceparent()}};
  if (!ids_.tracestate.empty()) a->headers.emplace_back("tracestate", ids_.tracestate);
  return a;
}

void ProxyCall::Spawn(std::shared_ptr<UpstreamAttempt> a, std::string body) {
  if (!wake_) wake_ = std::make_shared<asio::steady_timer>(pools_.ioc());  // made when first needed
  running_.push_back(a);
  // The attempt's own coroutine wakes this one when it has opened (or failed). It may outlive the
  // call (a cancelled hedge winds down after the answer): the attempt keeps the handler, its pools
  // and through it the generation its backend belongs to alive until it ends.
  a->owner = owner_.shared_from_this();
  asio::co_spawn(wake_->get_executor(), OpenAttempt(a, std::string(UpstreamPath(endpoint_)), std::move(body)),
                 [a, wake = wake_, &clock = s_.clock](std::exception_ptr e) {
                   if (e && !a->failure) a->failure = AttemptFailure{AttemptResult::kReset, 0, 0, "internal error"};
                   a->finished = true;
                   a->opened = clock.Now();
                   wake->cancel();
                 });
}

// Cancels the attempts still running (hedge losers, or all when the client left) and reports each
// to the flow once: cancelled, with how long it had waited.
void ProxyCall::CancelRunning() {
  if (running_.empty()) return;  // the usual case: no clock read (~20 ns a read, 20 a request)
  const TimePoint now = s_.clock.Now();
  for (auto& a : running_) {
    a->Cancel();
    AttemptTiming t;
    t.sent = a->sent;
    t.end = now;
    flow_->OnAttemptEnd(a->backend, AttemptResult::kCancelled, t);
  }
  running_.clear();
}

// ---- Deliver ---------------------------------------------------------------------------------

awaitable<void> ProxyCall::DeliverWhole(UpstreamAttempt& w) {
  Backend& b = s_.parts.pool.at(w.backend);
  const std::string& model = ModelFor(b);
  const int status = w.call.status();
  const bool ok = status >= 200 && status < 300;  // otherwise the upstream's 4xx, passed on
  const auto usage = ok ? ExtractUsage(w.body) : std::nullopt;
  const int64_t tokens = usage ? usage->completion_tokens : 0;
  AttemptTiming t;
  t.sent = w.sent;
  t.end = s_.clock.Now();
  t.output_tokens = tokens;
  t.streamed = false;
  flow_->OnAttemptEnd(w.backend, ok ? AttemptResult::kOk : AttemptResult::kClientError, t);
  if (usage) {
    trace_.record.input_tokens = usage->prompt_tokens;
    trace_.record.output_tokens = usage->completion_tokens;
  }
  trace_.End(ok ? RequestStatus::kOk : RequestStatus::kClientError, status);
  if (ok) served_backend_ = w.backend;
  // The head's fields as wire lines (net/wire_format.h), none in Beast's container; the channel
  // adds the Content-Length.
  HttpResponse res{static_cast<http::status>(status), ver_};
  const std::string_view upstream_type = w.call.header(http::field::content_type);
  const std::string_view content_type = upstream_type.empty() ? std::string_view("application/json") : upstream_type;
  HeaderLines route;
  route.set(http::field::content_type, content_type);
  AddRouteHeaders(route, b, model);
  res.keep_alive(ka_);
  if (ok) {
    Remember(b);
    Store(w, model, std::string(content_type), tokens);
    SubmitSample(b, w.body);
  }
  res.body() = std::move(w.body);
  trace_.FirstByte();
  NoteUpstreamSpan(t.end);
  const bool sent = co_await ch_.Send(std::move(res), route.text());
  Delivered(sent);
}

// Committed at the first complete event: events pass through as they come. A failure after the
// first byte is continued on another backend when one can (OpenContinuation, DESIGN.md §8): the
// client sees one stream with a comment line at the seam. Otherwise, or past the limit, the stream
// ends with an error event and no [DONE].
AttemptTiming ProxyCall::StreamTiming(const UpstreamAttempt& w, int64_t tokens) const {
  AttemptTiming t;
  t.sent = w.sent;
  t.first = w.opened;  // the first event's arrival
  t.end = s_.clock.Now();
  t.output_tokens = tokens;
  return t;
}

void ProxyCall::StreamClientLeft(const UpstreamAttempt& cur) {
  Count(s_.stats.client_cancelled);
  flow_->OnAttemptEnd(cur.backend, AttemptResult::kCancelled, StreamTiming(cur, cur.chunks));
  trace_.End(RequestStatus::kCancelled, 499);
}

TimePoint ProxyCall::FinishStream(UpstreamAttempt& w, const std::string& model) {
  Backend& b = s_.parts.pool.at(w.backend);
  const int64_t own_tokens = w.usage ? w.usage->completion_tokens : w.chunks;
  const int64_t tokens = own_tokens + (w.splice ? w.splice->sent_before() : 0);
  trace_.record.output_tokens = tokens;
  if (w.usage) trace_.record.input_tokens = w.usage->prompt_tokens;
  const AttemptTiming t = StreamTiming(w, own_tokens);
  Count(s_.stats.completed);
  flow_->OnAttemptEnd(w.backend, AttemptResult::kOk, t);
  Remember(b);
  trace_.End(RequestStatus::kOk, 200);
  // A continued answer is not cached or judged: two backends wrote it.
  if (!w.splice && w.capture && (sampled_ || cache_->stores())) {
    CachedAnswer streamed;
    streamed.stream = true;
    streamed.events = std::move(w.captured);
    streamed.output_tokens = tokens;
    if (sampled_)
      if (auto whole = AsWhole(streamed, endpoint_)) SubmitSample(b, whole->body);
    if (cache_->stores()) {
      streamed.backend = w.backend;
      streamed.model = model;
      cache_->Store(std::move(streamed), s_.shared_cache);
    }
  }
  return t.end;
}

awaitable<void> ProxyCall::DeliverStream(UpstreamAttempt& first) {
  Backend& b0 = s_.parts.pool.at(first.backend);
  const std::string& model = ModelFor(b0);
  served_backend_ = first.backend;
  std::shared_ptr<UpstreamAttempt> cur = winner_;
  {
    http::response<http::empty_body> head{http::status::ok, ver_};
    HeaderLines route;  // the fields as wire lines, none in Beast's container
    route.set(http::field::content_type, "text/event-stream");
    route.set(http::field::cache_control, "no-cache");
    AddRouteHeaders(route, b0, model);
    trace_.FirstByte();
    const bool begun = co_await ch_.BeginStream(std::move(head), route.text());
    if (!begun) {
      StreamClientLeft(*cur);
      co_return;
    }
  }
  for (;;) {
    UpstreamAttempt& w = *cur;
    std::optional<std::string> broke;
    for (;;) {
      if (!w.out.empty()) {
        const bool written = co_await ch_.WriteChunk(w.out);
        if (!written) {
          StreamClientLeft(*cur);
          co_return;
        }
        w.out.clear();
      }
      if (w.call.done()) break;
      UpstreamCall::Piece piece = co_await w.call.ReadSome();
      if (ch_.gone()) {
        StreamClientLeft(*cur);
        co_return;
      }
      broke = piece.error;
      if (!broke && !w.Feed(piece.data)) broke = "upstream sent an oversized event";
      if (broke) break;
    }
    if (!broke && w.saw_done) break;
    // The answer itself was whole although its upstream broke: its finish_reason came, or every
    // token max_tokens allows was sent (an event carries at least one). End it here rather than
    // ask anyone to continue a finished answer; a usage chunk the client asked for is estimated.
    const bool budget_spent = w.transcript && parsed_->max_tokens && w.transcript->content_events >= *parsed_->max_tokens;
    if (w.transcript && (w.transcript->finished || budget_spent)) {
      std::optional<Usage> usage;
      if (parsed_->include_usage && !w.usage) usage = Usage{ctx_->input_tokens, w.transcript->content_events};
      const std::string tail = FinishedTail(*w.transcript, w.transcript->finished ? "" : "length", usage);
      w.saw_done = true;
      const bool written = co_await ch_.WriteChunk(tail);
      if (!written) {
        StreamClientLeft(*cur);
        co_return;
      }
      break;
    }
    if (!broke) broke = "the upstream ended the stream without [DONE]";
    Backend& failed = s_.parts.pool.at(w.backend);
    flow_->OnAttemptEnd(w.backend, AttemptResult::kMidstreamCut, StreamTiming(w, w.chunks));
    std::shared_ptr<UpstreamAttempt> next;
    if (continuable_ && w.transcript && w.transcript->continuable()) next = co_await OpenContinuation(w);
    if (ch_.gone()) {
      Count(s_.stats.client_cancelled);
      trace_.End(RequestStatus::kCancelled, 499);
      co_return;
    }
    if (!next) {
      Count(s_.stats.midstream_cuts);
      trace_.End(RequestStatus::kMidstreamCut, 200);
      trace_.record.output_tokens = w.transcript ? w.transcript->content_events : w.chunks;
      trace_.record.error = "mid-stream: " + *broke;
      std::string err = SseErrorEvent({502, "upstream_error", "The upstream " + failed.name() + " failed mid-stream: " + *broke, "", "midstream_failure"});
      co_await ch_.WriteChunk(err);
      co_await ch_.EndStream();
      co_return;
    }
    // The seam: a comment line (clients ignore it), then the continuation's events.
    next->out.insert(0, Splice::SeamComment(failed.name(), s_.parts.pool.at(next->backend).name(), w.transcript->content_events));
    winner_ = next;
    cur = std::move(next);
  }
  NoteUpstreamSpan(FinishStream(*cur, model));
  co_await ch_.EndStream();
}

awaitable<std::shared_ptr<UpstreamAttempt>> ProxyCall::OpenContinuation(UpstreamAttempt& cut) {
  int failed = cut.backend;
  for (;;) {
    const int nb = flow_->PickContinuation(failed);
    if (nb < 0) co_return nullptr;
    Backend& b = s_.parts.pool.at(nb);
    const bool inject_usage = InjectUsage(b);
    std::optional<std::string> body = BuildContinuationBody(*parsed_, ModelFor(b), inject_usage, *cut.transcript, b.options().continue_style);
    if (!body) co_return nullptr;
    std::shared_ptr<UpstreamAttempt> a = NewAttempt(b, inject_usage);
    a->transcript = *cut.transcript;  // keeps counting across the seam, for a further continuation
    a->splice.emplace(*cut.transcript);
    Spawn(a, std::move(*body));
    while (!a->finished && !ch_.gone()) {
      wake_->expires_at(asio::steady_timer::time_point::max());
      boost::system::error_code ec;
      co_await wake_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    std::erase(running_, a);
    AttemptTiming t;
    t.sent = a->sent;
    t.end = s_.clock.Now();
    if (ch_.gone()) {
      a->Cancel();
      flow_->OnAttemptEnd(nb, AttemptResult::kCancelled, t);
      co_return nullptr;
    }
    if (!a->failure && !a->whole()) {
      flow_->OnContinued(nb);
      co_return a;
    }
    // It failed before its first event, or refused (a 4xx from a target that cannot continue a
    // final assistant message): the next one may.
    const AttemptResult r = a->failure ? a->failure->result : AttemptResult::kClientError;
    flow_->OnContinuationFailure(nb, r, t);
    failed = nb;
  }
}

// ---- Helpers ---------------------------------------------------------------------------------

awaitable<void> ProxyCall::Reply(HttpResponse res) {
  Stamp(res);
  co_await ch_.Send(std::move(res));
}

awaitable<void> ProxyCall::Reject(const ApiError& e) {
  Count(s_.stats.rejected);
  trace_.End(RequestStatus::kRejected, e.http_status);
  HttpResponse res = ErrorResponse(e, ver_, ka_);
  co_await Reply(std::move(res));
}

void ProxyCall::Delivered(bool sent) {
  if (sent) {
    Count(s_.stats.completed);
  } else {
    Count(s_.stats.client_cancelled);
    trace_.End(RequestStatus::kCancelled, 499);
  }
}

template <class Response>
void ProxyCall::Stamp(Response& res) const {
  res.set("X-Request-Id", ids_.request_id);
  res.set("X-MEC-Decision-Id", decision_id_);
  AddRateLimitHeaders(res);
}

// OpenAI's x-ratelimit-* headers, for a request with a key whose limits were looked at.
template <class Response>
void ProxyCall::AddRateLimitHeaders(Response& res) const {
  if (!limit_) return;
  const RateLimitState& st = limit_->state;
  const std::string reset = fmt::format("{:.3g}s", std::max(0.001, st.reset_s));
  if (st.limit_requests > 0) {
    res.set("x-ratelimit-limit-requests", std::to_string(st.limit_requests));
    res.set("x-ratelimit-remaining-requests", std::to_string(st.remaining_requests));
    res.set("x-ratelimit-reset-requests", reset);
  }
  if (st.limit_tokens > 0) {
    res.set("x-ratelimit-limit-tokens", std::to_string(st.limit_tokens));
    res.set("x-ratelimit-remaining-tokens", std::to_string(st.remaining_tokens));
    res.set("x-ratelimit-reset-tokens", reset);
  }
}

template <class Response>
void ProxyCall::AddRouteHeaders(Response& res, const Backend& b, const std::string& model) const {
  const RequestFlow& flow = *flow_;
  Stamp(res);
  res.set("X-MEC-Tier", TierName(b.tier()));
  res.set("X-MEC-Backend", b.name());
  res.set("X-MEC-Model", model);
  res.set("X-MEC-Attempts", std::to_string(flow.machine().attempt_count()));
  res.set("X-MEC-Policy", policy_->name());
  res.set("X-MEC-Reason", flow.decision().reason);
  // "lost": the first attempt beat its hedge.
  if (flow.machine().hedges() > 0) res.set("X-MEC-Hedged", flow.hedge_won() ? "won" : "lost");
  if (const char* state = cache_->state()) res.set("X-MEC-Cache", state);
}

const std::string& ProxyCall::ModelFor(const Backend& b) const {
  const ParsedRequest& parsed = *parsed_;
  return b.Serves(parsed.model) ? parsed.model
         : endpoint_ == Endpoint::kEmbeddings ? b.options().embedding_models.front()
                                              : b.default_model();
}

// The prompt a judge scores: the last user turn (the whole text when there is none).
static std::string_view ScoredPrompt(const ParsedRequest& p) {
  return p.last_user_text.empty() ? std::string_view(p.text) : std::string_view(p.last_user_text);
}

// For POST /v1/feedback: which backend answered, at what predicted quality.
void ProxyCall::Remember(const Backend& b) {
  const auto& cands = flow_->decision().candidates;
  const double q = cands.size() > static_cast<size_t>(b.index()) ? cands[b.index()].quality : 1.0;
  s_.decisions.Record(decision_id_, DecisionRecord{b.name(), b.tier(), ctx_->task_class, q, s_.clock.Now(),
                                                   s_.learning ? std::string(ScoredPrompt(*parsed_)) : std::string()});
}

// Learning: a sampled request's answer also gets the reference's and a verdict, in the background.
void ProxyCall::SubmitSample(const Backend& b, std::string_view whole_body) {
  if (!sampled_) return;
  auto text = ExtractAnswerText(whole_body);
  if (!text.ok()) return;  // tool calls, refusals: nothing a judge can compare
  const auto& cands = flow_->decision().candidates;
  JudgeJob job;
  job.id = decision_id_;
  job.endpoint = endpoint_;
  job.request = *parsed_;
  job.prompt = std::string(ScoredPrompt(*parsed_));
  job.answer = std::move(text->text);
  job.backend = b.index();
  job.predicted = cands.size() > static_cast<size_t>(b.index()) ? cands[b.index()].quality : -1;
  job.model_version = std::string(ctx_->complexity_model);
  job.privacy = ctx_->privacy;
  s_.learning->Submit(std::move(job));
}

void ProxyCall::Store(UpstreamAttempt& w, const std::string& model, std::string content_type, int64_t tokens) {
  if (!cache_->stores()) return;
  CachedAnswer answer;
  answer.backend = w.backend;
  answer.model = model;
  answer.content_type = std::move(content_type);
  answer.body = w.body;
  answer.output_tokens = tokens;
  cache_->Store(std::move(answer), s_.shared_cache);
}

// The upstreams' share of the request's time, from the first attempt's send to the answering
// upstream's last byte; telemetry takes it from the total for the gateway's own time
// (mecrouter_gateway_overhead_seconds).
void ProxyCall::NoteUpstreamSpan(TimePoint upstream_end) {
  if (first_sent_) trace_.record.upstream_s = ToSeconds(upstream_end - *first_sent_);
}

}  // namespace mec::net
