#include "net/gateway_handler.h"

#include <cmath>

#include <simdjson.h>

#include <fmt/format.h>

#include "api/hints.h"
#include "api/openai_json.h"
#include "api/request.h"
#include "api/sse.h"
#include "core/json_writer.h"
#include "gateway/failover_machine.h"
#include "cache/answer_convert.h"
#include "cache/cache_key.h"
#include "route/policies.h"
#include "net/dashboard_routes.h"
#include "net/upstream_attempt.h"
#include "route/predict.h"
#include "state/state_metrics.h"
#include "net/learning_worker.h"
#include "cache/answer_convert.h"
#include "learn/judge_protocol.h"

namespace mec::net {
namespace {

// One request's telemetry record (telemetry/telemetry.h). Its outcome is recorded once, when the
// request's coroutine ends: status and HTTP status as last set (a request that ends without
// saying, e.g. because the server stopped, counts as cancelled).
struct RequestTrace {
  Telemetry* telemetry;
  RequestRecord record;
  RequestStatus status = RequestStatus::kCancelled;
  int http_status = 499;
  RequestTrace(Telemetry* t, const std::string& id) : telemetry(t) {
    if (t) record = t->Begin(id);
  }
  ~RequestTrace() {
    if (telemetry) telemetry->OnOutcome(std::move(record), status, http_status);
  }
  RequestTrace(const RequestTrace&) = delete;
  RequestTrace& operator=(const RequestTrace&) = delete;
  void End(RequestStatus s, int http) {
    status = s;
    http_status = http;
  }
  void FirstByte() {
    if (telemetry) telemetry->OnFirstByte(record);
  }
  void Attempt(int backend, AttemptResult result, bool hedge, bool failover) {
    if (telemetry) telemetry->OnAttempt(record, backend, result, hedge, failover);
  }
};

// A lookup in the replicas' shared cache, waited on for at most `timeout` (then: absent). The
// answer comes back on the cache's thread and is posted to this coroutine's executor.
awaitable<std::shared_ptr<const CachedAnswer>> SharedLookup(SharedCache& cache, const std::string& key, Duration timeout) {
  struct Wait {
    explicit Wait(asio::any_io_executor ex) : timer(std::move(ex)) {}
    asio::steady_timer timer;
    std::shared_ptr<const CachedAnswer> answer;
    bool done = false;
  };
  auto executor = co_await asio::this_coro::executor;
  auto w = std::make_shared<Wait>(executor);
  w->timer.expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(timeout));
  cache.Get(key, [w, executor](std::shared_ptr<const CachedAnswer> a) {
    asio::post(executor, [w, a = std::move(a)]() mutable {
      w->answer = std::move(a);
      w->done = true;
      w->timer.cancel();
    });
  });
  boost::system::error_code ec;
  if (!w->done) co_await w->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return std::move(w->answer);
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

// Whether a cached answer from `backend` is good enough for this request: its tier's expected
// quality (relative to the strongest backend, as the router sees it) meets the minimum. A model
// or tier pin is part of the cache key and the client's own choice: no quality gate then.
bool GoodEnough(const RequestContext& ctx, const BackendPool& pool, int backend) {
  if (backend < 0 || static_cast<size_t>(backend) >= pool.size()) return false;
  if (ctx.model != "auto") return true;
  double strongest = 0;
  for (const auto& b : pool.all()) strongest = std::max(strongest, BackendQuality(ctx, *b));
  const double q = strongest > 0 ? BackendQuality(ctx, pool.at(backend)) / strongest : 1.0;
  return q + 1e-9 >= ctx.min_quality;
}

// Cache-Control from the client: no-cache skips the lookup, no-store also the store.
struct CacheDirectives {
  bool no_cache = false, no_store = false;
};
CacheDirectives ReadCacheControl(const HttpRequest& req) {
  CacheDirectives d;
  const std::string_view v = req[http::field::cache_control];
  auto has = [&](std::string_view token) {
    for (size_t i = 0; i + token.size() <= v.size(); ++i)
      if (IEquals(v.substr(i, token.size()), token)) return true;
    return false;
  };
  d.no_store = has("no-store");
  d.no_cache = d.no_store || has("no-cache");
  return d;
}

std::string_view Target(const HttpRequest& req) {
  std::string_view t = req.target();
  auto q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
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

// Collects the X-MEC-* hint headers over the body's "mec" hints (headers win).
std::optional<ApiError> ApplyHeaderHints(const HttpRequest& req, Hints& hints) {
  for (const auto& f : req) {
    std::string_view name = f.name_string();
    if (name.size() < 6 || !IEquals(name.substr(0, 6), "x-mec-")) continue;
    if (!IsHintHeader(name)) continue;
    if (auto e = ApplyHint(name, f.value(), hints)) return e;
  }
  return std::nullopt;
}

}  // namespace

GatewayHandler::GatewayHandler(GatewayShared& shared, asio::io_context& ioc, int worker)
    : s_(shared), pools_(ioc, shared.clock, shared.options.backends), rng_(shared.id_salt, static_cast<uint64_t>(worker)) {}

HttpResponse GatewayHandler::Models(unsigned version, bool keep_alive) const {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("object", "list").Key("data").BeginArray();
  for (const char* alias : {"auto", "device", "edge", "cloud"})
    w.BeginObject().Field("id", alias).Field("object", "model").Field("created", 0).Field("owned_by", "mecrouter").EndObject();
  for (const auto& b : s_.pool.all()) {
    for (const auto* list : {&b->options().models, &b->options().embedding_models})
      for (const auto& m : *list)
        w.BeginObject().Field("id", m).Field("object", "model").Field("created", 0).Field("owned_by", b->name()).EndObject();
  }
  w.EndArray().EndObject();
  return JsonResponse(std::move(out), version, keep_alive);
}

awaitable<void> GatewayHandler::Handle(HttpRequest& req, ClientChannel& ch) {
  const std::string_view path = Target(req);
  const bool ka = req.keep_alive();
  const unsigned v = req.version();
  const bool post = req.method() == http::verb::post;
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  if (s_.dashboard) {  // the operator endpoints' bearer token, then the dashboard's own routes
    std::optional<HttpResponse> dash = DashboardRoute(s_, req, path);
    if (dash) {
      HttpResponse res = std::move(*dash);  // named first: g++ 12 and temporaries across co_await
      co_await ch.Send(std::move(res));
      co_return;
    }
  }
  std::optional<Endpoint> endpoint;
  if (path == "/v1/chat/completions") endpoint = Endpoint::kChatCompletions;
  else if (path == "/v1/completions") endpoint = Endpoint::kCompletions;
  else if (path == "/v1/embeddings") endpoint = Endpoint::kEmbeddings;

  if (endpoint) {
    if (!post) {
      auto res = ErrorResponse({405, "invalid_request_error", "Method not allowed: use POST for " + std::string(path) + ".", "", "method_not_allowed"}, v, ka);
      co_await ch.Send(std::move(res));
      co_return;
    }
    co_await Proxy(*endpoint, req, ch);
    co_return;
  }
  if (path == "/v1/feedback") {
    if (!post) {
      auto res = ErrorResponse({405, "invalid_request_error", "Method not allowed: use POST for /v1/feedback.", "", "method_not_allowed"}, v, ka);
      co_await ch.Send(std::move(res));
    } else {
      co_await Feedback(req, ch);
    }
    co_return;
  }
  if (path == "/v1/models" && get) {
    {  // named first: g++ 12 mishandles temporaries that live across co_await
      auto res = Models(v, ka);
      co_await ch.Send(std::move(res));
    }
  } else if (path == "/healthz" && get) {
    {  // named first: g++ 12 mishandles temporaries that live across co_await
      auto res = JsonResponse(R"({"status":"ok"})", v, ka);
      co_await ch.Send(std::move(res));
    }
  } else if (path == "/readyz" && get) {
    auto res = s_.draining.load() ? JsonResponse(R"({"status":"draining"})", v, false, http::status::service_unavailable)
                                  : JsonResponse(R"({"status":"ready"})", v, ka);
    co_await ch.Send(std::move(res));
  } else if (path == "/metrics" && get && s_.telemetry && s_.telemetry->metrics_enabled()) {
    HttpResponse res{http::status::ok, v};
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.keep_alive(ka);
    res.body() = s_.telemetry->MetricsText(&s_.monitor.Current());
    res.body() += StateMetricsText(s_.replicas, s_.shared_cache);  // Redis up or down, said in metrics too
    if (s_.learning) res.body() += s_.learning->MetricsText();
    res.prepare_payload();
    co_await ch.Send(std::move(res));
  } else if (path == "/api/stats" && get) {
    {  // named first: g++ 12 mishandles temporaries that live across co_await
      auto res = JsonResponse(s_.stats.ToJson(), v, ka);
      co_await ch.Send(std::move(res));
    }
  } else if (path == "/api/state" && get) {
    {  // shared state between replicas: Redis up or down, reports sent and applied
      auto res = JsonResponse(StateJson(s_.replicas, s_.shared_cache), v, ka);
      co_await ch.Send(std::move(res));
    }
  } else if (path == "/api/learning" && get) {
    {  // learning on the traffic: verdicts, spending, the live model (docs/learning.md)
      auto res = JsonResponse(s_.learning ? s_.learning->Json() : std::string(R"({"enabled":false})"), v, ka);
      co_await ch.Send(std::move(res));
    }
  } else {
    {  // named first: g++ 12 mishandles temporaries that live across co_await
      auto res = ErrorResponse({404, "invalid_request_error", fmt::format("Unknown request URL: {} {}.", std::string_view(req.method_string()), path), "", "unknown_url"}, v, ka);
      co_await ch.Send(std::move(res));
    }
  }
}

awaitable<void> GatewayHandler::Feedback(HttpRequest& req, ClientChannel& ch) {
  const bool ka = req.keep_alive();
  const unsigned v = req.version();
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  std::string_view id;
  double score = -1;
  std::optional<ApiError> err;
  if (parser.parse(req.body()).get_object().get(obj)) {
    err = ApiError::BadRequest("Expected a JSON object {\"decision_id\", \"score\"}.", "", "invalid_json");
  } else if (obj["decision_id"].get_string().get(id)) {
    err = ApiError::BadRequest("Missing or invalid 'decision_id' (a string from X-MEC-Decision-Id).", "decision_id", "invalid_value");
  } else if (obj["score"].get_double().get(score) || score < 0 || score > 1) {
    err = ApiError::BadRequest("Missing or invalid 'score': a number in [0,1].", "score", "invalid_value");
  }
  std::optional<DecisionRecord> rec;
  if (!err) {
    rec = s_.decisions.Lookup(std::string(id));
    if (!rec) err = ApiError::NotFound("Unknown or expired decision_id '" + std::string(id) + "'.", "decision_not_found");
  }
  if (err) {
    auto res = ErrorResponse(*err, v, ka);
    co_await ch.Send(std::move(res));
    co_return;
  }
  s_.feedback.Observe(rec->backend, rec->task_class, score);
  if (s_.learning) s_.learning->SubmitFeedback(std::string(id), rec->prompt, rec->tier, rec->backend, score);
  s_.stats.feedback.fetch_add(1, std::memory_order_relaxed);
  if (s_.telemetry) s_.telemetry->OnFeedback(id, score);
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("decision_id", id).Field("backend", rec->backend).Field("task_class", rec->task_class);
  w.Field("quality", s_.feedback.Adjusted(rec->backend, rec->task_class, rec->predicted_quality)).EndObject();
  auto res = JsonResponse(std::move(out), v, ka);
  co_await ch.Send(std::move(res));
}

awaitable<void> GatewayHandler::Proxy(Endpoint endpoint, HttpRequest& req, ClientChannel& ch) {
  auto& stats = s_.stats;
  stats.requests.fetch_add(1, std::memory_order_relaxed);
  const bool ka = req.keep_alive();
  const unsigned ver = req.version();
  const std::string decision_id = fmt::format("dec-{:08x}{:08x}", static_cast<uint32_t>(s_.id_salt),
                                              static_cast<uint32_t>(s_.next_id.fetch_add(1)));
  RequestTrace trace(s_.telemetry, decision_id);
  auto reject = [&](const ApiError& e) {
    stats.rejected.fetch_add(1, std::memory_order_relaxed);
    trace.End(RequestStatus::kRejected, e.http_status);
    auto res = ErrorResponse(e, ver, ka);
    res.set("X-MEC-Decision-Id", decision_id);
    return res;
  };
  // A whole answer was handed to the client (sent) or the client had left: count which.
  auto count_delivery = [&](bool sent) {
    if (sent) {
      stats.completed.fetch_add(1, std::memory_order_relaxed);
    } else {
      stats.client_cancelled.fetch_add(1, std::memory_order_relaxed);
      trace.End(RequestStatus::kCancelled, 499);
    }
  };

  // Parse, collect hints, build the request context.
  auto parsed_or = ParseRequest(endpoint, req.body());
  if (auto* err = std::get_if<ApiError>(&parsed_or)) {
    auto res = reject(*err);
    co_await ch.Send(std::move(res));
    co_return;
  }
  ParsedRequest parsed = std::move(std::get<ParsedRequest>(parsed_or));
  Hints hints = parsed.body_hints;
  std::optional<ApiError> bad = ApplyHeaderHints(req, hints);
  const Router* policy = s_.policy;
  if (!bad && !hints.policy.empty()) {
    auto it = s_.policies.find(hints.policy);
    if (it == s_.policies.end()) {
      std::string known;
      for (const auto& [name, p] : s_.policies) known += (known.empty() ? "" : ", ") + name;
      bad = ApiError::BadRequest("Invalid header X-MEC-Policy: unknown policy '" + hints.policy + "' (known: " + known + ")", "X-MEC-Policy", "invalid_hint");
    } else {
      policy = it->second.get();
    }
  }
  std::optional<RequestContext> ctx_holder;
  if (!bad) {
    auto ctx_or = s_.context.Build(parsed, hints);
    if (auto* e = std::get_if<ApiError>(&ctx_or)) bad = *e;
    else ctx_holder = std::move(std::get<RequestContext>(ctx_or));
  }
  if (bad) {
    auto res = reject(*bad);
    co_await ch.Send(std::move(res));
    co_return;
  }
  const RequestContext& ctx = *ctx_holder;

  // The Cache agent: a repeatable request may be answered from memory, by every policy alike.
  std::string cache_key;
  const char* cache_state = nullptr;  // X-MEC-Cache: hit, miss, bypass; unset: not cacheable
  const CacheDirectives cache_control = ReadCacheControl(req);
  if (s_.cache && Repeatable(parsed)) {
    cache_key = CacheKey(parsed);
    std::shared_ptr<const CachedAnswer> hit;
    if (cache_control.no_cache) {
      cache_state = "bypass";
    } else {
      hit = s_.cache->Get(cache_key);
      if (hit && !GoodEnough(ctx, s_.pool, hit->backend)) hit = nullptr;  // another tier must answer
      if (!hit && s_.shared_cache && ctx.privacy == Privacy::kAny) {
        // The replicas' shared level (Redis), bounded by cache_lookup_ms; kept locally when found.
        std::shared_ptr<const CachedAnswer> shared = co_await SharedLookup(*s_.shared_cache, cache_key,
                                                                           std::chrono::milliseconds(s_.options.state.cache_lookup_ms));
        if (shared && GoodEnough(ctx, s_.pool, shared->backend)) {
          s_.cache->Put(cache_key, *shared);
          hit = std::move(shared);
        }
      }
      if (!hit && (parsed.endpoint == Endpoint::kChatCompletions || parsed.endpoint == Endpoint::kCompletions)) {
        // The same answer given in the other delivery (whole for a stream, or the reverse), converted.
        auto other = s_.cache->Get(CacheKeyFor(parsed, !parsed.stream));
        if (other && GoodEnough(ctx, s_.pool, other->backend)) {
          auto converted = parsed.stream ? AsStream(*other, parsed.endpoint) : AsWhole(*other, parsed.endpoint);
          if (converted) {
            s_.cache->Put(cache_key, *converted);
            hit = std::make_shared<const CachedAnswer>(std::move(*converted));
          }
        }
      }
      cache_state = hit ? "hit" : "miss";
    }
    if (s_.telemetry) s_.telemetry->OnCacheLookup(hit ? CacheLookup::kHit : cache_control.no_cache ? CacheLookup::kBypass : CacheLookup::kMiss);
    if (cache_control.no_store) cache_key.clear();
    if (hit) {
      stats.cache_hits.fetch_add(1, std::memory_order_relaxed);
      const Backend& from = s_.pool.at(hit->backend);
      auto set_headers = [&](auto& res) {
        res.set("X-MEC-Tier", std::string(TierName(from.tier())));
        res.set("X-MEC-Backend", from.name());
        res.set("X-MEC-Model", hit->model);
        res.set("X-MEC-Decision-Id", decision_id);
        res.set("X-MEC-Attempts", "0");
        res.set("X-MEC-Policy", std::string(policy->name()));
        res.set("X-MEC-Reason", "cache hit: the answer " + from.name() + " gave to the same request");
        res.set("X-MEC-Cache", "hit");
      };
      trace.record.output_tokens = hit->output_tokens;
      trace.record.reason = "cache hit: the answer " + from.name() + " gave to the same request";  // as X-MEC-Reason
      trace.End(RequestStatus::kOk, 200);
      trace.FirstByte();
      bool sent = false;
      if (!hit->stream) {
        HttpResponse res{http::status::ok, ver};
        res.set(http::field::content_type, hit->content_type);
        set_headers(res);
        res.keep_alive(ka);
        res.body() = hit->body;
        res.prepare_payload();
        sent = co_await ch.Send(std::move(res));
      } else {
        http::response<http::empty_body> head{http::status::ok, ver};
        head.set(http::field::content_type, "text/event-stream");
        head.set(http::field::cache_control, "no-cache");
        set_headers(head);
        std::string out;
        for (const auto& ev : hit->events) {
          if (!parsed.include_usage && HasEmptyChoices(ev)) continue;  // the usage chunk, not asked for
          AppendSseEvent(out, ev);
        }
        out += kSseDone;
        sent = co_await ch.BeginStream(std::move(head));
        if (sent) sent = co_await ch.WriteChunk(out);
        if (sent) sent = co_await ch.EndStream();
      }
      count_delivery(sent);
      co_return;
    }
  }

  // Decide (and let the shadow policy decide too, for the record).
  const TimePoint start = s_.clock.Now();
  // The snapshot is only valid for a moment (BackendMonitor keeps replaced ones for ~2 s): it is
  // read for the decision and never across a co_await.
  const PoolSnapshot& snap = s_.monitor.Current();
  const std::function<double(int, const std::string&, double)> adjust = [this](int b, const std::string& task, double q) {
    return s_.feedback.Adjusted(s_.pool.at(b).name(), task, q);
  };
  RouteEnv env{s_.pool, snap, rng_, start, &adjust, s_.quality_budget};
  auto decision = policy->Decide(ctx, env);
  const Duration decide_time = s_.clock.Now() - start;
  trace.record.policy = std::string(policy->name());
  if (s_.shadow && s_.shadow != policy && decision.ok()) {
    auto shadow = s_.shadow->Decide(ctx, env);
    bool same = shadow.ok() && !shadow->chain.empty() && shadow->chain.front() == decision->chain.front();
    (same ? stats.shadow_agree : stats.shadow_disagree).fetch_add(1, std::memory_order_relaxed);
  }
  if (!decision.ok()) {
    const auto& st = decision.status();
    if (st.code() == StatusCode::kNotFound) {
      auto res = reject(ApiError{404, "invalid_request_error", st.message(), "model", "model_not_found"});
      co_await ch.Send(std::move(res));
    } else {
      stats.failed.fetch_add(1, std::memory_order_relaxed);
      if (trace.telemetry) trace.telemetry->OnNoDecision(trace.record, ctx, policy->name(), st.message(), decide_time);
      trace.End(RequestStatus::kFailed, 503);
      auto res = ErrorResponse(ApiError::Unavailable(st.message()), ver, ka);
      res.set("X-MEC-Decision-Id", decision_id);
      res.set("X-MEC-Policy", std::string(policy->name()));
      co_await ch.Send(std::move(res));
    }
    co_return;
  }
  ChargeQuality(env, *decision);  // the shadow's decision above only read the controller
  if (trace.telemetry) trace.telemetry->OnDecision(trace.record, ctx, *decision, decide_time);
  // Learning: a sampled request's answer also gets the reference's and a verdict, in the background.
  const std::string_view scored_prompt =
      parsed.last_user_text.empty() ? std::string_view(parsed.text) : std::string_view(parsed.last_user_text);
  const bool sampled = s_.learning && !decision->shed && s_.learning->ShouldSample(ctx, decision_id);
  auto submit_sample = [&](const Backend& b, std::string_view whole_body) {
    if (!sampled) return;
    auto text = ExtractAnswerText(whole_body);
    if (!text.ok()) return;  // tool calls, refusals: nothing a judge can compare
    JudgeJob job;
    job.id = decision_id;
    job.endpoint = endpoint;
    job.request = parsed;
    job.prompt = std::string(scored_prompt);
    job.answer = std::move(text->text);
    job.backend = b.index();
    job.predicted = decision->candidates.size() > static_cast<size_t>(b.index()) ? decision->candidates[b.index()].quality : -1;
    job.model_version = std::string(ctx.complexity_model);
    job.privacy = ctx.privacy;
    s_.learning->Submit(std::move(job));
  };
  if (decision->shed) {
    stats.shed.fetch_add(1, std::memory_order_relaxed);
    trace.End(RequestStatus::kShed, 429);
    auto res = ErrorResponse(ApiError::TooManyRequests("Every backend that could serve this request is at capacity and waiting would miss its deadline; retry later.", "load_shed"), ver, ka);
    res.set("X-MEC-Decision-Id", decision_id);
    res.set("X-MEC-Reason", decision->reason);
    res.set(http::field::retry_after, std::to_string(static_cast<int>(decision->retry_after_s)));
    co_await ch.Send(std::move(res));
    co_return;
  }

  std::vector<std::string> names;
  for (const auto& b : s_.pool.all()) names.push_back(b->name());
  std::optional<TimePoint> deadline;
  if (ctx.deadline_ms) deadline = start + FromMillis(*ctx.deadline_ms);
  std::optional<Duration> hedge_delay;
  if (decision->hedge && decision->hedge_delay_s > 0) hedge_delay = FromSeconds(decision->hedge_delay_s);
  FailoverMachine ex(decision->chain, s_.options.routing.max_attempts, deadline, std::move(names), hedge_delay);

  // Attempts that have been started and not yet judged. Each opens in a coroutine of its own
  // (OpenAttempt) and wakes this one when it has something for the client or has failed; the
  // hedge timer wakes it too. The client's disconnect cancels them all.
  auto executor = co_await asio::this_coro::executor;
  auto wake = std::make_shared<asio::steady_timer>(executor);
  std::vector<std::shared_ptr<UpstreamAttempt>> running;
  std::shared_ptr<UpstreamAttempt> winner;
  bool hedge_won = false;
  ch.OnGone([&running, &winner] {
    for (auto& a : running) a->Cancel();
    if (winner) winner->Cancel();
  });

  // A fresh answer goes into this process's cache, and into the replicas' shared one only when
  // the request allowed its data to travel anywhere (an X-MEC-Privacy device or edge answer stays here).
  auto store = [&](CachedAnswer answer) {
    if (s_.shared_cache && ctx.privacy == Privacy::kAny) s_.shared_cache->Put(cache_key, answer);
    s_.cache->Put(cache_key, std::move(answer));
  };
  auto add_headers = [&](auto& res, const Backend& b, const std::string& model) {
    res.set("X-MEC-Tier", std::string(TierName(b.tier())));
    res.set("X-MEC-Backend", b.name());
    res.set("X-MEC-Model", model);
    res.set("X-MEC-Decision-Id", decision_id);
    res.set("X-MEC-Attempts", std::to_string(ex.attempt_count()));
    res.set("X-MEC-Policy", std::string(policy->name()));
    res.set("X-MEC-Reason", decision->reason);
    if (ex.hedges() > 0) res.set("X-MEC-Hedged", hedge_won ? "won" : "lost");
    if (cache_state) res.set("X-MEC-Cache", cache_state);  // "lost": the first attempt beat its hedge
  };
  // What one attempt taught us, for the Resource agent and the learners.
  auto record = [&](const Backend& b, AttemptResult kind, TimePoint sent, std::optional<TimePoint> first,
                    TimePoint end, int64_t tokens, bool streamed) {
    AttemptOutcome o;
    o.result = kind;
    o.output_tokens = tokens;
    if (kind == AttemptResult::kOk) {
      const double total = ToSeconds(end - sent);
      if (streamed && first) {
        o.ttft_s = ToSeconds(*first - sent);
        if (tokens > 1) o.tpot_s = ToSeconds(end - *first) / static_cast<double>(tokens - 1);
      } else {
        // Not streamed: only the total is seen. Attribute to the TTFT what the backend's
        // current per-token estimate does not explain (at least a tenth of the total).
        const PoolSnapshot& now_snap = s_.monitor.Current();
        const double tpot = b.index() < static_cast<int>(now_snap.backends.size()) ? now_snap.backends[b.index()].tpot.Median() : 0.0;
        o.ttft_s = std::max(0.1 * total, total - static_cast<double>(tokens) * tpot);
      }
      if (tokens > 0 && endpoint != Endpoint::kEmbeddings) s_.output_tokens.Observe(ctx.task_class, static_cast<double>(tokens));
    } else if (first) {
      o.ttft_s = ToSeconds(*first - sent);  // a stream cut after its first token
    } else {
      o.waited_s = ToSeconds(end - sent);   // no first byte: a lower bound on the TTFT
    }
    if (s_.monitor.OnAttemptEnd(b.index(), o, end)) s_.monitor.Publish(end);  // an ejection shows at once
    if (s_.replicas) s_.replicas->Note(b.index(), o.ttft_s, o.tpot_s);
  };
  auto remember = [&](const Backend& b) {
    const double q = decision->candidates.size() > static_cast<size_t>(b.index()) ? decision->candidates[b.index()].quality : 1.0;
    s_.decisions.Record(decision_id, DecisionRecord{b.name(), b.tier(), ctx.task_class, q, s_.clock.Now(),
                                                    s_.learning ? std::string(scored_prompt) : std::string()});
  };
  auto model_for = [&](const Backend& b) -> const std::string& {
    return b.Serves(parsed.model) ? parsed.model
           : endpoint == Endpoint::kEmbeddings ? b.options().embedding_models.front()
                                               : b.default_model();
  };
  // Attempts that end after the request stopped waiting for them (a lost hedge, a client that
  // left) report themselves: cancelled, with how long they waited.
  auto launch = [&](Backend& b) {
    const std::string& model = model_for(b);
    const bool inject_usage = parsed.stream && b.options().stream_usage && !parsed.include_usage;
    auto a = std::make_shared<UpstreamAttempt>(pools_, b, s_.clock.Now(), parsed.stream, inject_usage);
    a->capture = !cache_key.empty() || sampled;
    if (!parsed.stream) a->generation = GenerationAllowance(ctx.output_tokens, s_.monitor.Current().backends[b.index()].tpot);
    running.push_back(a);
    b.requests.fetch_add(1, std::memory_order_relaxed);
    stats.upstream_attempts.fetch_add(1, std::memory_order_relaxed);
    asio::co_spawn(executor, OpenAttempt(a, std::string(UpstreamPath(endpoint)), BuildUpstreamBody(parsed, model, inject_usage)),
                   [a, wake, &monitor = s_.monitor, &clock = s_.clock](std::exception_ptr e) {
                     if (e && !a->failure) a->failure = AttemptFailure{AttemptResult::kReset, 0, 0, "internal error"};
                     a->finished = true;
                     if (a->cancelled) {
                       AttemptOutcome o;
                       o.result = AttemptResult::kCancelled;
                       o.waited_s = ToSeconds(clock.Now() - a->sent);
                       monitor.OnAttemptEnd(a->backend, o, clock.Now());
                     }
                     wake->cancel();
                   });
  };
  // How the attempt on `backend` was started: by the hedge timer, or after a failed attempt.
  auto attempt_flags = [&](int backend) {
    const auto& all = ex.attempts();
    for (size_t i = all.size(); i-- > 0;)
      if (all[i].backend == backend) return std::pair<bool, bool>{all[i].hedge, i > 0 && !all[i].hedge};
    return std::pair<bool, bool>{false, false};
  };
  auto trace_attempt = [&](int backend, AttemptResult result) {
    const auto [hedge, failover] = attempt_flags(backend);
    trace.Attempt(backend, result, hedge, failover);
  };
  auto cancel_all = [&] {
    for (auto& a : running) {
      a->Cancel();
      trace_attempt(a->backend, AttemptResult::kCancelled);
    }
    running.clear();
  };

  // Run the executor: start attempts, judge them as they open, hedge when its timer fires.
  FailoverAction act = ex.Start(start);
  for (;;) {
    if (act.type == FailoverAction::kGiveUp) break;
    if (act.type == FailoverAction::kStartAttempt) {
      Backend& b = s_.pool.at(act.backend);
      // Fresher than the snapshot: a backend ejected since, or half-open with its one probe
      // already in flight, is skipped without using up one of the request's attempts.
      if (!s_.monitor.AdmitAttempt(b.index(), s_.clock.Now())) {
        trace.Attempt(b.index(), AttemptResult::kSkipped, false, false);
        act = ex.OnSkipped(s_.clock.Now(), "ejected");
        continue;
      }
      if (ex.attempt_count() > 1 && !ex.attempts().back().hedge) stats.failovers.fetch_add(1, std::memory_order_relaxed);
      launch(b);
      act.type = FailoverAction::kWait;
    }
    if (ch.gone()) {
      cancel_all();
      stats.client_cancelled.fetch_add(1, std::memory_order_relaxed);
      co_return;
    }
    // Judge the first attempt that has opened.
    auto it = std::find_if(running.begin(), running.end(), [](const auto& a) { return a->finished; });
    if (it != running.end()) {
      std::shared_ptr<UpstreamAttempt> a = *it;
      running.erase(it);
      Backend& b = s_.pool.at(a->backend);
      if (a->failure) {
        b.failures.fetch_add(1, std::memory_order_relaxed);
        record(b, a->failure->result, a->sent, std::nullopt, s_.clock.Now(), 0, parsed.stream);
        trace_attempt(a->backend, a->failure->result);
        act = ex.OnFailureOf(s_.clock.Now(), a->backend, *a->failure);
        continue;
      }
      ex.OnFirstByteFrom(a->backend);
      if (!running.empty()) {
        // Hedging: the others lost. What they cost (their input, at least) is counted.
        for (auto& l : running) {
          const Backend& lb = s_.pool.at(l->backend);
          const double cost = ExpectedCost(lb.options().price, static_cast<double>(ctx.input_tokens), 0, ToSeconds(s_.clock.Now() - l->sent));
          stats.hedge_cost_nano_usd.fetch_add(static_cast<uint64_t>(std::llround(cost * 1e9)), std::memory_order_relaxed);
        }
        cancel_all();
      }
      for (const auto& at : ex.attempts())
        if (at.backend == a->backend && at.hedge) hedge_won = true;
      if (hedge_won) stats.hedge_wins.fetch_add(1, std::memory_order_relaxed);
      winner = std::move(a);
      break;
    }
    // Nothing has opened yet: wait for an attempt, or for the hedge timer.
    const std::optional<TimePoint> hedge_at = ex.HedgeAt();
    if (hedge_at) wake->expires_after(std::max(Duration{0}, *hedge_at - s_.clock.Now()));
    else wake->expires_at(asio::steady_timer::time_point::max());
    boost::system::error_code ec;
    co_await wake->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && hedge_at && s_.clock.Now() >= *hedge_at) {
      act = ex.OnHedgeTimer(s_.clock.Now());
      if (act.type == FailoverAction::kStartAttempt) stats.hedges.fetch_add(1, std::memory_order_relaxed);
    }
  }

  if (!winner) {
    cancel_all();  // none should be running once the executor gives up
    stats.failed.fetch_add(1, std::memory_order_relaxed);
    trace.End(RequestStatus::kFailed, act.error.http_status);
    auto res = ErrorResponse(act.error, ver, ka);
    res.set("X-MEC-Decision-Id", decision_id);
    res.set("X-MEC-Attempts", std::to_string(ex.attempt_count()));
    res.set("X-MEC-Policy", std::string(policy->name()));
    res.set("X-MEC-Reason", decision->reason);
    if (act.retry_after_s > 0) res.set(http::field::retry_after, std::to_string(static_cast<int>(act.retry_after_s)));
    co_await ch.Send(std::move(res));
    co_return;
  }

  UpstreamAttempt& w = *winner;
  Backend& b = s_.pool.at(w.backend);
  const std::string& model = model_for(b);
  UpstreamCall& call = w.call;
  auto cancelled = [&] {
    stats.client_cancelled.fetch_add(1, std::memory_order_relaxed);
    record(b, AttemptResult::kCancelled, w.sent, std::nullopt, s_.clock.Now(), 0, parsed.stream);
    trace_attempt(w.backend, AttemptResult::kCancelled);
    trace.End(RequestStatus::kCancelled, 499);
  };
  if (w.whole()) {
    const int status = call.status();
    const bool ok = status >= 200 && status < 300;
    const auto usage = ok ? ExtractUsage(w.body) : std::nullopt;
    record(b, ok ? AttemptResult::kOk : AttemptResult::kClientError, w.sent, std::nullopt,
           s_.clock.Now(), usage ? usage->completion_tokens : 0, false);
    if (ok) remember(b);
    trace_attempt(w.backend, ok ? AttemptResult::kOk : AttemptResult::kClientError);
    if (usage) {
      trace.record.input_tokens = usage->prompt_tokens;
      trace.record.output_tokens = usage->completion_tokens;
    }
    trace.End(ok ? RequestStatus::kOk : RequestStatus::kClientError, status);
    HttpResponse res{static_cast<http::status>(status), ver};
    res.set(http::field::content_type, call.header(http::field::content_type).empty() ? "application/json" : std::string(call.header(http::field::content_type)));
    add_headers(res, b, model);
    res.keep_alive(ka);
    if (ok && !cache_key.empty()) {
      CachedAnswer answer;
      answer.backend = w.backend;
      answer.model = model;
      answer.content_type = std::string(res[http::field::content_type]);
      answer.body = w.body;
      answer.output_tokens = usage ? usage->completion_tokens : 0;
      store(std::move(answer));
    }
    if (ok) submit_sample(b, w.body);
    res.body() = std::move(w.body);
    res.prepare_payload();
    trace.FirstByte();
    const bool sent = co_await ch.Send(std::move(res));
    count_delivery(sent);
    co_return;
  }

  // Streaming: committed at the first complete event; pass events through as they come.
  const TimePoint first_token = s_.clock.Now();
  {
    http::response<http::empty_body> head{http::status::ok, ver};
    head.set(http::field::content_type, "text/event-stream");
    head.set(http::field::cache_control, "no-cache");
    add_headers(head, b, model);
    trace.FirstByte();
    if (!co_await ch.BeginStream(std::move(head))) {
      cancelled();
      co_return;
    }
  }
  for (;;) {
    if (!w.out.empty()) {
      if (!co_await ch.WriteChunk(w.out)) {
        cancelled();
        co_return;
      }
      w.out.clear();
    }
    if (call.done()) {
      const int64_t tokens = w.usage ? w.usage->completion_tokens : w.chunks;
      trace.record.output_tokens = tokens;
      if (w.usage) trace.record.input_tokens = w.usage->prompt_tokens;
      if (!w.saw_done) {
        // The upstream closed the stream cleanly but never said [DONE]: tell the client.
        stats.midstream_cuts.fetch_add(1, std::memory_order_relaxed);
        record(b, AttemptResult::kMidstreamCut, w.sent, first_token, s_.clock.Now(), tokens, true);
        trace_attempt(w.backend, AttemptResult::kMidstreamCut);
        trace.End(RequestStatus::kMidstreamCut, 200);
        trace.record.error = "stream ended without [DONE]";
        ApiError e{502, "upstream_error", "The upstream " + b.name() + " ended the stream without [DONE].", "", "midstream_failure"};
        std::string err = SseErrorEvent(e);
        co_await ch.WriteChunk(err);
      } else {
        stats.completed.fetch_add(1, std::memory_order_relaxed);
        record(b, AttemptResult::kOk, w.sent, first_token, s_.clock.Now(), tokens, true);
        remember(b);
        trace_attempt(w.backend, AttemptResult::kOk);
        trace.End(RequestStatus::kOk, 200);
        if (sampled && w.capture) {
          CachedAnswer streamed;
          streamed.stream = true;
          streamed.events = w.captured;
          streamed.output_tokens = tokens;
          if (auto whole = AsWhole(streamed, endpoint)) submit_sample(b, whole->body);
        }
        if (!cache_key.empty() && w.capture) {
          CachedAnswer answer;
          answer.backend = w.backend;
          answer.model = model;
          answer.stream = true;
          answer.events = std::move(w.captured);
          answer.output_tokens = tokens;
          store(std::move(answer));
        }
      }
      co_await ch.EndStream();
      co_return;
    }
    UpstreamCall::Piece piece = co_await call.ReadSome();
    if (ch.gone()) {
      cancelled();
      co_return;
    }
    std::optional<std::string> broke = piece.error;
    if (!broke && !w.Feed(piece.data)) broke = "upstream sent an oversized event";
    if (broke) {
      // After the first byte: end the stream with an error event, and no [DONE].
      stats.midstream_cuts.fetch_add(1, std::memory_order_relaxed);
      b.failures.fetch_add(1, std::memory_order_relaxed);
      record(b, AttemptResult::kMidstreamCut, w.sent, first_token, s_.clock.Now(), w.chunks, true);
      trace_attempt(w.backend, AttemptResult::kMidstreamCut);
      trace.End(RequestStatus::kMidstreamCut, 200);
      trace.record.output_tokens = w.chunks;
      trace.record.error = "mid-stream: " + *broke;
      ApiError e{502, "upstream_error", "The upstream " + b.name() + " failed mid-stream: " + *broke, "", "midstream_failure"};
      w.out += SseErrorEvent(e);
      co_await ch.WriteChunk(w.out);
      co_await ch.EndStream();
      co_return;
    }
  }
}

}  // namespace mec::net
