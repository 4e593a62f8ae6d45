#pragma once
// One proxied request (POST /v1/chat/completions, /v1/completions, /v1/embeddings), from the
// socket's side. The request's lifecycle is the gateway's (gateway/request_flow.h: decide, the
// failover machine behind the monitor's gate, every attempt's outcome fed back once;
// gateway/cache_step.h: the cache decision): this class only turns it into I/O, in five steps:
//
//   Authenticate   the API key, when keys are configured       -> 401, or on
//   Admit          parse, hints, policy, context               -> 400/404/413/415 ... or on
//                  the key's tiers/models/privacy, its limits  -> 403 / 429, or on
//   ServeFromCache the cache levels (the shared one is a wait)  -> the cached answer, or on
//   Decide         decide; 404 / 503 / 429 (shed) or run:
//     RunAttempts    start attempts, hedge, fail over, until one has something for the client
//     DeliverWhole   its whole body (or the upstream's 4xx), or
//     DeliverStream  its events as they come
//
// Every accepted request ends in exactly one answer or one error (an SSE error event after the
// first byte). Request ids and W3C trace context go upstream and into the logs (RequestIds).
// Lifetime: lives in the handler's coroutine frame for one request; the attempts it starts may
// outlive it (they are cancelled and end on their own).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/request.h"
#include "auth/key_guard.h"
#include "context/request_context.h"
#include "core/rng.h"
#include "gateway/cache_step.h"
#include "gateway/request_flow.h"
#include "net/gateway_shared.h"
#include "net/http_server.h"
#include "net/request_ids.h"
#include "net/upstream_client.h"

namespace mec::net {

struct UpstreamAttempt;

// One request's telemetry record (telemetry/telemetry.h). Its outcome is recorded once, when the
// call ends: status and HTTP status as last set (a request that ends without saying, e.g.
// because the server stopped or the client left, counts as cancelled).
struct RequestTrace {
  RequestTrace(Telemetry* t, const std::string& id, TimePoint arrived);
  ~RequestTrace();
  RequestTrace(const RequestTrace&) = delete;
  RequestTrace& operator=(const RequestTrace&) = delete;
  void End(RequestStatus s, int http) {
    status = s;
    http_status = http;
  }
  void FirstByte();
  RequestRecord* record_or_null() { return telemetry ? &record : nullptr; }

  Telemetry* telemetry;
  RequestRecord record;
  RequestStatus status = RequestStatus::kCancelled;
  int http_status = 499;
};

class ProxyCall {
 public:
  // `rng`: the worker's stream for randomized policies; `ids_rng`: its stream for new ids;
  // `owner`: the handler that owns `pools` (kept alive by attempts that outlive the call).
  ProxyCall(Handler& owner, GatewayShared& s, UpstreamPools& pools, Rng& rng, Rng& ids_rng, Endpoint endpoint, HttpRequest& req,
            ClientChannel& ch);
  ~ProxyCall();
  // Serves one request: the call lives in this coroutine's frame and runs there.
  static awaitable<void> Serve(Handler& owner, GatewayShared& s, UpstreamPools& pools, Rng& rng, Rng& ids_rng, Endpoint endpoint,
                               HttpRequest& req, ClientChannel& ch);

 private:
  awaitable<void> Run();  // admit, then route (one coroutine frame for both: docs/benchmarks.md)
  bool Authenticate();      // false: no valid key (answer with key_error_)
  std::optional<ApiError> Admit();  // the error to answer with, if any
  awaitable<bool> ReserveLimits();  // false: answered 429
  void SettleLimits();
  template <class Response>
  void AddRateLimitHeaders(Response& res) const;
  std::optional<ApiError> Contextualize();
  awaitable<bool> ServeFromCache();  // true: answered from the cache. REQUIRES: cache_->cacheable()
  RequestFlow::Verdict Decide();  // the flow's verdict (flow_ made)
  awaitable<void> AnswerUnrouted(RequestFlow::Verdict verdict);  // 404, 503 or 429 (shed)
  awaitable<std::shared_ptr<UpstreamAttempt>> RunAttempts();  // null: answered (an error) or the client left
  std::shared_ptr<UpstreamAttempt> Launch(Backend& b);  // the flow's next attempt, not yet sent
  // An attempt on `b`, not yet sent; Spawn sends `body` and wakes `wake_` when it has opened or failed.
  std::shared_ptr<UpstreamAttempt> NewAttempt(Backend& b, bool inject_usage);
  void Spawn(std::shared_ptr<UpstreamAttempt> a, std::string body);
  // Mid-stream continuation (docs/continuation.md): after `cut` broke, opens the stream that
  // continues its answer on another backend; null when none can (or the client left).
  awaitable<std::shared_ptr<UpstreamAttempt>> OpenContinuation(UpstreamAttempt& cut);
  bool InjectUsage(const Backend& b) const;
  void CancelRunning();
  awaitable<void> DeliverWhole(UpstreamAttempt& w);
  awaitable<void> DeliverStream(UpstreamAttempt& w);
  // DeliverStream's parts: an attempt's timing as the stream saw it (first: its first event), the
  // client gone mid-stream, and the bookkeeping of a stream that ended whole (counted, recorded,
  // cached, judged); the last returns when the upstream's part ended.
  AttemptTiming StreamTiming(const UpstreamAttempt& w, int64_t tokens) const;
  void StreamClientLeft(const UpstreamAttempt& cur);
  TimePoint FinishStream(UpstreamAttempt& w, const std::string& model);

  awaitable<void> Reply(HttpResponse res);  // sends an answer that is not a delivery (errors)
  awaitable<void> Reject(const ApiError& e);
  void Delivered(bool sent);  // a whole answer was handed over (sent) or the client had left
  template <class Response>
  void Stamp(Response& res) const;  // X-Request-Id, X-MEC-Decision-Id: on every answer
  template <class Response>
  void AddRouteHeaders(Response& res, const Backend& b, const std::string& model) const;
  const std::string& ModelFor(const Backend& b) const;
  void Remember(const Backend& b);
  void SubmitSample(const Backend& b, std::string_view whole_body);
  void Store(UpstreamAttempt& w, const std::string& model, std::string content_type, int64_t tokens);
  void NoteUpstreamSpan(TimePoint upstream_end);

  GatewayShared& s_;
  Handler& owner_;
  UpstreamPools& pools_;
  Rng& rng_;
  const Endpoint endpoint_;
  HttpRequest& req_;
  ClientChannel& ch_;
  const bool ka_;
  const unsigned ver_;
  const TimePoint arrived_;
  const std::string decision_id_;
  const RequestIds ids_;
  RequestTrace trace_;
  const Router* policy_;
  std::optional<ParsedRequest> parsed_;
  std::optional<RequestContext> ctx_;
  std::optional<CacheStep> cache_;
  std::optional<RequestFlow> flow_;
  bool sampled_ = false;  // learning: the answer also gets the reference's and a verdict
  bool continue_off_ = false;  // X-MEC-Continue: off
  bool continuable_ = false;   // a cut stream may be continued on another backend
  // API keys (docs/security.md): the caller's key, its reservation and where it was made.
  KeyGuard::KeyPtr key_;
  std::optional<ApiError> key_error_;
  std::optional<Privacy> privacy_asked_;  // the request's own X-MEC-Privacy, if any
  std::optional<LimitVerdict> limit_;
  KeyGuard::Where limit_where_ = KeyGuard::Where::kLocal;
  Reservation reserved_;
  int served_backend_ = -1;  // whose price the answer's tokens cost
  std::optional<TimePoint> first_sent_;  // the first upstream attempt's send
  // Attempts started and not yet judged; each wakes `wake_` when it has something or failed.
  std::vector<std::shared_ptr<UpstreamAttempt>> running_;
  std::shared_ptr<UpstreamAttempt> winner_;
  std::shared_ptr<asio::steady_timer> wake_;
};

}  // namespace mec::net
