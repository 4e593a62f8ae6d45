#include "net/gateway_handler.h"

#include <fmt/format.h>

#include "api/hints.h"
#include "api/openai_json.h"
#include "api/request.h"
#include "api/sse.h"
#include "core/json_writer.h"
#include "gateway/executor.h"

namespace mec::net {
namespace {

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

GatewayHandler::GatewayHandler(GatewayShared& shared, asio::io_context& ioc)
    : s_(shared), pools_(ioc, shared.clock, shared.options.backends) {}

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
  } else if (path == "/api/stats" && get) {
    {  // named first: g++ 12 mishandles temporaries that live across co_await
      auto res = JsonResponse(s_.stats.ToJson(), v, ka);
      co_await ch.Send(std::move(res));
    }
  } else {
    {  // named first: g++ 12 mishandles temporaries that live across co_await
      auto res = ErrorResponse({404, "invalid_request_error", fmt::format("Unknown request URL: {} {}.", std::string_view(req.method_string()), path), "", "unknown_url"}, v, ka);
      co_await ch.Send(std::move(res));
    }
  }
}

awaitable<void> GatewayHandler::Proxy(Endpoint endpoint, HttpRequest& req, ClientChannel& ch) {
  auto& stats = s_.stats;
  stats.requests.fetch_add(1, std::memory_order_relaxed);
  const bool ka = req.keep_alive();
  const unsigned ver = req.version();
  const std::string decision_id = fmt::format("dec-{:08x}{:08x}", static_cast<uint32_t>(s_.id_salt),
                                              static_cast<uint32_t>(s_.next_id.fetch_add(1)));
  auto reject = [&](const ApiError& e) {
    stats.rejected.fetch_add(1, std::memory_order_relaxed);
    auto res = ErrorResponse(e, ver, ka);
    res.set("X-MEC-Decision-Id", decision_id);
    return res;
  };

  auto parsed_or = ParseRequest(endpoint, req.body());
  if (auto* err = std::get_if<ApiError>(&parsed_or)) {
    {  // named first: g++ 12 mishandles temporaries that live across co_await
      auto res = reject(*err);
      co_await ch.Send(std::move(res));
    }
    co_return;
  }
  ParsedRequest parsed = std::move(std::get<ParsedRequest>(parsed_or));
  Hints hints = parsed.body_hints;
  if (auto e = ApplyHeaderHints(req, hints)) {
    {  // named first: g++ 12 mishandles temporaries that live across co_await
      auto res = reject(*e);
      co_await ch.Send(std::move(res));
    }
    co_return;
  }
  if (!hints.policy.empty() && hints.policy != s_.options.routing.policy) {
    auto res = reject(ApiError::BadRequest("Invalid header X-MEC-Policy: unknown policy '" + hints.policy + "' (known: " + s_.options.routing.policy + ")", "X-MEC-Policy", "invalid_hint"));
    co_await ch.Send(std::move(res));
    co_return;
  }

  RouteRequest rr;
  rr.endpoint = endpoint;
  rr.model = parsed.model;
  rr.needs_tools = parsed.needs_tools;
  rr.needs_json_schema = parsed.needs_json_schema;
  rr.needs_image_input = parsed.needs_image_input;
  rr.estimated_input_tokens = static_cast<int64_t>(parsed.text.size() / 4);
  rr.privacy = hints.privacy.value_or(Privacy::kAny);
  auto decision = s_.router.Decide(rr, s_.pool);
  if (!decision.ok()) {
    const auto& st = decision.status();
    if (st.code() == StatusCode::kNotFound) {
      {  // named first: g++ 12 mishandles temporaries that live across co_await
        auto res = reject(ApiError{404, "invalid_request_error", st.message(), "model", "model_not_found"});
        co_await ch.Send(std::move(res));
      }
    } else {
      stats.failed.fetch_add(1, std::memory_order_relaxed);
      auto res = ErrorResponse(ApiError::Unavailable(st.message()), ver, ka);
      res.set("X-MEC-Decision-Id", decision_id);
      co_await ch.Send(std::move(res));
    }
    co_return;
  }

  std::vector<std::string> names;
  for (const auto& b : s_.pool.all()) names.push_back(b->name());
  std::optional<TimePoint> deadline;
  const TimePoint start = s_.clock.Now();
  if (hints.deadline_ms) deadline = start + FromMillis(*hints.deadline_ms);
  Executor ex(decision->chain, s_.options.routing.max_attempts, deadline, std::move(names));

  // The client's disconnect cancels whatever upstream call is current.
  UpstreamCall* current = nullptr;
  ch.OnGone([&current] {
    if (current) current->Cancel();
  });

  auto add_headers = [&](auto& res, const Backend& b, const std::string& model) {
    res.set("X-MEC-Tier", std::string(TierName(b.tier())));
    res.set("X-MEC-Backend", b.name());
    res.set("X-MEC-Model", model);
    res.set("X-MEC-Decision-Id", decision_id);
    res.set("X-MEC-Attempts", std::to_string(ex.attempt_count()));
    res.set("X-MEC-Reason", decision->reason);
  };

  ExecutorAction act = ex.Start(start);
  while (act.type == ExecutorAction::kStartAttempt) {
    Backend& b = s_.pool.at(act.backend);
    InFlightGuard in_flight(b);
    b.requests.fetch_add(1, std::memory_order_relaxed);
    stats.upstream_attempts.fetch_add(1, std::memory_order_relaxed);
    if (ex.attempt_count() > 1) stats.failovers.fetch_add(1, std::memory_order_relaxed);
    const std::string& model = b.Serves(parsed.model) ? parsed.model
                               : endpoint == Endpoint::kEmbeddings ? b.options().embedding_models.front()
                                                                   : b.default_model();
    const bool inject_usage = parsed.stream && b.options().stream_usage && !parsed.include_usage;
    UpstreamCall call(pools_, b.index());
    current = &call;
    std::string upstream_body = BuildUpstreamBody(parsed, model, inject_usage);
    std::optional<AttemptFailure> failure = co_await call.Start(UpstreamPath(endpoint), std::move(upstream_body), parsed.stream);
    auto fail = [&](AttemptFailure f) {
      current = nullptr;
      b.failures.fetch_add(1, std::memory_order_relaxed);
      return ex.OnFailure(s_.clock.Now(), f);
    };
    if (ch.gone()) {
      stats.client_cancelled.fetch_add(1, std::memory_order_relaxed);
      co_return;
    }
    if (failure) {
      act = fail(*failure);
      continue;
    }

    const int status = call.status();
    if (!parsed.stream || status < 200 || status >= 300) {
      // Whole body, then answer. Upstream 4xx (other than 429) is the request's fault: pass it on.
      std::string body;
      std::optional<std::string> broke;
      while (!call.done()) {
        auto piece = co_await call.ReadSome();
        if (piece.error) {
          broke = piece.error;
          break;
        }
        body.append(piece.data);
        if (body.size() > (256u << 20)) {
          broke = "upstream body over 256 MiB";
          break;
        }
      }
      if (ch.gone()) {
        stats.client_cancelled.fetch_add(1, std::memory_order_relaxed);
        co_return;
      }
      if (broke) {
        act = fail({FailureKind::kReset, 0, 0, *broke});
        continue;
      }
      ex.OnFirstByte();
      HttpResponse res{static_cast<http::status>(status), ver};
      res.set(http::field::content_type, call.header(http::field::content_type).empty() ? "application/json" : std::string(call.header(http::field::content_type)));
      add_headers(res, b, model);
      res.keep_alive(ka);
      res.body() = std::move(body);
      res.prepare_payload();
      current = nullptr;
      if (co_await ch.Send(std::move(res))) stats.completed.fetch_add(1, std::memory_order_relaxed);
      else stats.client_cancelled.fetch_add(1, std::memory_order_relaxed);
      co_return;
    }

    // Streaming: commit to this backend at its first complete event, then pass events through.
    SseParser sse;
    std::string out;
    bool began = false;
    bool saw_done = false;
    for (;;) {
      auto piece = co_await call.ReadSome();
      if (ch.gone()) {
        stats.client_cancelled.fetch_add(1, std::memory_order_relaxed);
        co_return;
      }
      std::optional<std::string> broke = piece.error;
      if (!broke) {
        bool ok = sse.Feed(piece.data, [&](std::string_view data) {
          if (data == "[DONE]") saw_done = true;
          if (inject_usage && HasEmptyChoices(data)) return;  // usage chunk the client did not ask for
          AppendSseEvent(out, data);
        });
        if (!ok) broke = "upstream sent an oversized event";
      }
      if (!broke && piece.data.empty() && call.done() && !began && out.empty()) broke = "upstream ended the stream without data";
      if (broke) {
        if (!began) {
          act = fail({FailureKind::kReset, 0, 0, *broke});
          break;
        }
        // After the first byte: end the stream with an error event, and no [DONE].
        stats.midstream_cuts.fetch_add(1, std::memory_order_relaxed);
        b.failures.fetch_add(1, std::memory_order_relaxed);
        ApiError e{502, "upstream_error", "The upstream " + b.name() + " failed mid-stream: " + *broke, "", "midstream_failure"};
        out += SseErrorEvent(e);
        co_await ch.WriteChunk(out);
        co_await ch.EndStream();
        co_return;
      }
      if (!out.empty()) {
        if (!began) {
          ex.OnFirstByte();
          began = true;
          http::response<http::empty_body> head{http::status::ok, ver};
          head.set(http::field::content_type, "text/event-stream");
          head.set(http::field::cache_control, "no-cache");
          add_headers(head, b, model);
          if (!co_await ch.BeginStream(std::move(head))) {
            stats.client_cancelled.fetch_add(1, std::memory_order_relaxed);
            co_return;
          }
        }
        if (!co_await ch.WriteChunk(out)) {
          stats.client_cancelled.fetch_add(1, std::memory_order_relaxed);
          co_return;
        }
        out.clear();
      }
      if (call.done()) {
        current = nullptr;
        if (!saw_done) {
          // The upstream closed the stream cleanly but never said [DONE]: tell the client.
          stats.midstream_cuts.fetch_add(1, std::memory_order_relaxed);
          ApiError e{502, "upstream_error", "The upstream " + b.name() + " ended the stream without [DONE].", "", "midstream_failure"};
          co_await ch.WriteChunk(SseErrorEvent(e));
        } else {
          stats.completed.fetch_add(1, std::memory_order_relaxed);
        }
        co_await ch.EndStream();
        co_return;
      }
    }
  }
  current = nullptr;
  // Give up.
  stats.failed.fetch_add(1, std::memory_order_relaxed);
  auto res = ErrorResponse(act.error, ver, ka);
  res.set("X-MEC-Decision-Id", decision_id);
  res.set("X-MEC-Attempts", std::to_string(ex.attempt_count()));
  res.set("X-MEC-Reason", decision->reason);
  if (act.retry_after_s > 0) res.set(http::field::retry_after, std::to_string(static_cast<int>(act.retry_after_s)));
  co_await ch.Send(std::move(res));
}

}  // namespace mec::net
