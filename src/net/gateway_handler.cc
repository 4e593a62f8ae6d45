#include "net/gateway_handler.h"

#include <simdjson.h>

#include <fmt/format.h>

#include "api/openai_json.h"
#include "core/json_writer.h"
#include "dashboard/access_guard.h"
#include "net/dashboard_routes.h"
#include "net/fleet_routes.h"
#include "net/key_routes.h"
#include "net/learning_worker.h"
#include "net/proxy_call.h"
#include "state/state_metrics.h"
#include "telemetry/engine_metrics.h"

namespace mec::net {
namespace {

std::string_view Target(const HttpRequest& req) {
  std::string_view t = req.target();
  auto q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
}

std::optional<Endpoint> ProxiedEndpoint(std::string_view path) {
  if (path == "/v1/chat/completions") return Endpoint::kChatCompletions;
  if (path == "/v1/completions") return Endpoint::kCompletions;
  if (path == "/v1/embeddings") return Endpoint::kEmbeddings;
  return std::nullopt;
}

}  // namespace

GatewayHandler::GatewayHandler(GatewayShared& shared, asio::io_context& ioc, int worker)
    : s_(shared), pools_(ioc, shared.clock, shared.options.backends), rng_(shared.id_salt, static_cast<uint64_t>(worker)),
      ids_rng_(shared.id_salt, "ids/" + std::to_string(worker)) {}

HttpResponse GatewayHandler::Models(unsigned version, bool keep_alive) const {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("object", "list").Key("data").BeginArray();
  for (const char* alias : {"auto", "device", "edge", "cloud"})
    w.BeginObject().Field("id", alias).Field("object", "model").Field("created", 0).Field("owned_by", "mecrouter").EndObject();
  for (const auto& b : s_.parts.pool.all()) {
    for (const auto* list : {&b->options().models, &b->options().embedding_models})
      for (const auto& m : *list)
        w.BeginObject().Field("id", m).Field("object", "model").Field("created", 0).Field("owned_by", b->name()).EndObject();
  }
  w.EndArray().EndObject();
  return JsonResponse(std::move(out), version, keep_alive);
}

awaitable<void> GatewayHandler::Handle(HttpRequest& req, ClientChannel& ch) {
  const std::string_view path = Target(req);
  const std::optional<Endpoint> endpoint = ProxiedEndpoint(path);
  // The operator token and the dashboard's routes (HandleOther's first steps) concern only
  // protected paths, which the proxied endpoints are not; the check keeps that true.
  if (endpoint && req.method() == http::verb::post && !AccessGuard::Protects(path))
    return ProxyCall::Serve(*this, s_, pools_, rng_, ids_rng_, *endpoint, req, ch);  // net/proxy_call.h; the flow is gateway/'s
  return HandleOther(req, ch);
}

awaitable<void> GatewayHandler::HandleOther(HttpRequest& req, ClientChannel& ch) {
  const std::string_view path = Target(req);
  const bool ka = req.keep_alive();
  const unsigned v = req.version();
  const bool post = req.method() == http::verb::post;
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  if (s_.operator_closed && AccessGuard::Protects(path)) {  // off loopback without a token: closed
    auto res = ErrorResponse({403, "invalid_request_error",
                              "The operator endpoints are closed: this gateway listens beyond loopback without an operator token "
                              "(set dashboard.token_env; docs/security.md).",
                              "", "admin_token_required"},
                             v, ka);
    co_await ch.Send(std::move(res));
    co_return;
  }
  if (s_.dashboard) {  // the operator endpoints' bearer token, then the dashboard's own routes
    std::optional<HttpResponse> dash = DashboardRoute(s_, req, path);
    if (dash) {
      HttpResponse res = std::move(*dash);  // named first: g++ 12 and temporaries across co_await
      co_await ch.Send(std::move(res));
      co_return;
    }
  }
  const std::optional<Endpoint> endpoint = ProxiedEndpoint(path);

  if (endpoint) {
    if (!post) {
      auto res = ErrorResponse({405, "invalid_request_error", "Method not allowed: use POST for " + std::string(path) + ".", "", "method_not_allowed"}, v, ka);
      co_await ch.Send(std::move(res));
      co_return;
    }
    co_await ProxyCall::Serve(*this, s_, pools_, rng_, ids_rng_, *endpoint, req, ch);
    co_return;
  }
  if (std::optional<HttpResponse> admin = KeyAdminRoute(s_, req, path)) {  // the operator token was checked above
    HttpResponse res = std::move(*admin);
    co_await ch.Send(std::move(res));
    co_return;
  }
  if (std::optional<HttpResponse> fleet = FleetRoute(s_, req, path)) {  // docs/fleet.md; /api/fleet's token was checked above
    HttpResponse res = std::move(*fleet);
    co_await ch.Send(std::move(res));
    co_return;
  }
  if (path == "/v1/usage" && get) {
    HttpResponse res = co_await KeyUsageRoute(s_, req);
    co_await ch.Send(std::move(res));
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
  {  // named first: g++ 12 mishandles temporaries that live across co_await
    HttpResponse res = InfoRoute(req, path);
    co_await ch.Send(std::move(res));
  }
}

HttpResponse GatewayHandler::InfoRoute(const HttpRequest& req, std::string_view path) const {
  const bool ka = req.keep_alive();
  const unsigned v = req.version();
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  if (path == "/v1/models" && get) return Models(v, ka);
  if (path == "/healthz" && get) return JsonResponse(R"({"status":"ok"})", v, ka);
  if (path == "/readyz" && get)
    return s_.draining.load() ? JsonResponse(R"({"status":"draining"})", v, false, http::status::service_unavailable)
                              : JsonResponse(R"({"status":"ready"})", v, ka);
  if (path == "/metrics" && get && s_.metrics_need_token &&
      (s_.admin_token.empty() || !BearerMatches(req[http::field::authorization], s_.admin_token)))
    return ErrorResponse({s_.admin_token.empty() ? 403 : 401, "invalid_request_error",
                          "Off loopback /metrics needs the operator token (Authorization: Bearer), or server.open_metrics: true.", "",
                          s_.admin_token.empty() ? "admin_token_required" : "invalid_api_key"},
                         v, ka);
  if (path == "/metrics" && get && s_.telemetry && s_.telemetry->metrics_enabled()) {
    HttpResponse res{http::status::ok, v};
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.keep_alive(ka);
    res.body() = s_.telemetry->MetricsText(&s_.parts.monitor.Current());
    res.body() += StateMetricsText(s_.replicas, s_.shared_cache);  // Redis up or down, said in metrics too
    if (s_.learning) res.body() += s_.learning->MetricsText();
    if (s_.engines) res.body() += EngineMetricsText(s_.options.backends, *s_.engines, s_.clock.Now());  // docs/engines.md
    if (s_.keys) res.body() += s_.keys->MetricsText();  // docs/security.md
    res.body() += FleetMetricsText(s_);                  // docs/fleet.md
    res.prepare_payload();
    return res;
  }
  if (path == "/api/stats" && get) return JsonResponse(s_.stats.ToJson(), v, ka);
  // Shared state between replicas: Redis up or down, reports sent and applied.
  if (path == "/api/state" && get) return JsonResponse(StateJson(s_.replicas, s_.shared_cache), v, ka);
  // Learning on the traffic: verdicts, spending, the live model (docs/learning.md).
  if (path == "/api/learning" && get)
    return JsonResponse(s_.learning ? s_.learning->Json() : std::string(R"({"enabled":false})"), v, ka);
  return ErrorResponse({404, "invalid_request_error", fmt::format("Unknown request URL: {} {}.", std::string_view(req.method_string()), path), "", "unknown_url"}, v, ka);
}

awaitable<void> GatewayHandler::Feedback(HttpRequest& req, ClientChannel& ch) {
  const bool ka = req.keep_alive();
  const unsigned v = req.version();
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  std::string_view id;
  double score = -1;
  std::optional<ApiError> err = CheckJsonContentType(req[http::field::content_type]);
  if (err) {
  } else if (parser.parse(req.body()).get_object().get(obj)) {
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
  s_.parts.feedback->Observe(rec->backend, rec->task_class, score);
  if (s_.learning) s_.learning->SubmitFeedback(std::string(id), rec->prompt, rec->tier, rec->backend, score);
  s_.stats.feedback.fetch_add(1, std::memory_order_relaxed);
  if (s_.telemetry) s_.telemetry->OnFeedback(id, score);
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("decision_id", id).Field("backend", rec->backend).Field("task_class", rec->task_class);
  w.Field("quality", s_.parts.feedback->Adjusted(rec->backend, rec->task_class, rec->predicted_quality)).EndObject();
  auto res = JsonResponse(std::move(out), v, ka);
  co_await ch.Send(std::move(res));
}

}  // namespace mec::net
