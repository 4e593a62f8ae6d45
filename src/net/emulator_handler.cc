#include "net/emulator_handler.h"

#include <simdjson.h>

#include <fmt/format.h>

#include "api/openai_json.h"
#include "api/request.h"
#include "api/sse.h"
#include "core/json_writer.h"
#include "core/rng.h"
#include "emulate/hidden_quality.h"
#include "emulate/llamacpp_dialect.h"
#include "emulate/ollama_dialect.h"
#include "emulate/text_generator.h"
#include "emulate/vllm_dialect.h"

namespace mec::net {


// A queued request waiting for a slot: Release() fills plan and wakes it through its timer.
struct EmulatorShared::Waiter {
  explicit Waiter(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;
  bool started = false;  // guarded by EmulatorShared::mu
  ServicePlan plan;      // guarded by EmulatorShared::mu
};

namespace {

std::string FaultJson(const FaultState& f) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("outage", f.outage).Field("error_rate", f.error_rate).Field("hang_rate", f.hang_rate);
  w.Field("drop_midstream_rate", f.drop_midstream_rate).Field("slowdown", f.slowdown).Field("cut_at_token", f.cut_at_token).EndObject();
  return out;
}

std::string_view Path(const HttpRequest& req) {
  std::string_view t = req.target();
  return t.substr(0, t.find('?'));
}

// Sleeps for `d` unless the timer is cancelled first (the client left). Returns false if cancelled.
awaitable<bool> Sleep(asio::steady_timer& t, Duration d) {
  if (d <= Duration::zero()) co_return true;
  t.expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(d));
  auto [ec] = co_await t.async_wait(kTuple);
  co_return !ec;
}

// A chat request whose final message is the assistant's: the answer to continue (vLLM's
// continue_final_message, llama.cpp's prefill; docs/continuation.md). Sets `prefix` to that
// message's text and returns true; an error when the request asks for both vLLM flags at once.
struct Continuation {
  bool asked = false;      // continue_final_message: true, or a final assistant message (prefill)
  std::string prefix;      // the final assistant message's text
  std::optional<ApiError> error;
};

Continuation ReadContinuation(const ParsedRequest& r) {
  Continuation c;
  if (r.endpoint != Endpoint::kChatCompletions) return c;
  bool continue_final = false, generation_prompt = false;
  std::string_view messages;
  for (const auto& [key, value] : r.fields) {
    if (key == "continue_final_message") continue_final = value == "true";
    else if (key == "add_generation_prompt") generation_prompt = value == "true";
    else if (key == "messages") messages = value;
  }
  if (continue_final && generation_prompt) {
    c.error = ApiError::BadRequest("Cannot set both `continue_final_message` and `add_generation_prompt` to True.", "continue_final_message");
    return c;
  }
  simdjson::dom::parser parser;
  simdjson::dom::array arr;
  if (parser.parse(messages).get_array().get(arr) || arr.size() == 0) return c;
  simdjson::dom::element last = arr.at(arr.size() - 1);
  std::string_view role, content;
  const bool assistant = !last["role"].get_string().get(role) && role == "assistant";
  if (continue_final && !assistant) {
    c.error = ApiError::BadRequest("continue_final_message is set but the final message is not the assistant's.", "continue_final_message");
    return c;
  }
  if (!assistant || last["content"].get_string().get(content)) return c;
  c.asked = true;
  c.prefix = std::string(content);
  return c;
}

// The emulator's answers are one word per token, joined by spaces: the tokens in `text`.
int64_t WordCount(std::string_view text) {
  if (text.empty()) return 0;
  int64_t n = 1;
  for (char ch : text) n += ch == ' ';
  return n;
}

HttpResponse TextResponse(std::string body, std::string_view content_type, unsigned version, bool keep_alive,
                          http::status st = http::status::ok) {
  HttpResponse res = JsonResponse(std::move(body), version, keep_alive, st);
  res.set(http::field::content_type, content_type);
  return res;
}

// A generation request as the emulated server reads it: parsed, checked, and what it continues.
struct Asked {
  ParsedRequest r;
  Continuation cont;
  size_t asked_size = 0;      // the text asked: r.text less the continued prefix (its first bytes)
  int64_t prefix_tokens = 0;  // the continued prefix's words
  int64_t in_tokens = 0;
};

// The request, or the error the server answers before admission (in this order: the body, an
// embedding model, the continuation, the context window).
std::variant<Asked, ApiError> ReadAsked(Endpoint endpoint, std::string_view body, const TierProfile& profile) {
  auto parsed_or = ParseRequest(endpoint, body);
  if (auto* err = std::get_if<ApiError>(&parsed_or)) return *err;
  Asked a;
  a.r = std::move(std::get<ParsedRequest>(parsed_or));
  if (endpoint == Endpoint::kEmbeddings && profile.embedding_model.empty())
    return ApiError::NotFound("This emulated tier serves no embedding model.", "model_not_found");
  a.cont = ReadContinuation(a.r);
  if (a.cont.error) return *a.cont.error;
  // A continuation answers the conversation without its final (assistant) message: the same
  // seed, so the words that follow the prefix are those the whole answer would have had.
  std::string_view asked_text = a.r.text;
  if (a.cont.asked) {
    if (asked_text.size() >= a.cont.prefix.size() && asked_text.ends_with(a.cont.prefix)) {
      asked_text.remove_suffix(a.cont.prefix.size());
      if (asked_text.ends_with('\n')) asked_text.remove_suffix(1);
    }
    a.prefix_tokens = WordCount(a.cont.prefix);
  }
  a.asked_size = asked_text.size();
  a.in_tokens = EmulatorPromptTokens(a.r.text, a.r.message_count);
  if (a.in_tokens > profile.context_window)
    return ApiError::BadRequest(fmt::format("This model's maximum context length is {} tokens; the prompt has {}.", profile.context_window, a.in_tokens),
                                "messages", "context_length_exceeded");
  return a;
}

// The work the tier model plans for the request (emulate/tier_model.h).
WorkItem WorkFor(const Asked& a, const TierProfile& profile, bool prefix_cache) {
  const ParsedRequest& r = a.r;
  WorkItem w;
  w.input_tokens = a.in_tokens;
  w.max_tokens = r.max_tokens.value_or(-1);
  // vLLM's extension: with "ignore_eos": true the answer runs to max_tokens and stops there
  // (finish_reason "length"), for scripted load such as `mecrouter demo`.
  for (const auto& [key, value] : r.fields)
    if (key == "ignore_eos" && value == "true" && r.max_tokens) w.output_tokens = *r.max_tokens + 1;
  w.content_hash = Fnv1a64(std::string_view(r.text).substr(0, a.asked_size)) ^ static_cast<uint64_t>(r.seed.value_or(0));
  if (prefix_cache) w.prefix_blocks = PromptBlockHashes(r.text, a.in_tokens);
  if (a.cont.asked && w.output_tokens < 0) {  // what is left of the whole answer's length
    bool ignored = false;
    w.output_tokens = std::max<int64_t>(0, DrawOutputTokens(profile.mean_output_tokens, w.content_hash, -1, &ignored) - a.prefix_tokens);
  }
  return w;
}

}  // namespace

awaitable<bool> EmulatorHandler::EngineEndpoint(std::string_view path, HttpRequest& req, ClientChannel& ch) {
  const bool ka = req.keep_alive();
  const unsigned v = req.version();
  const EngineFlavor f = s_.flavor;
  if (f == EngineFlavor::kOpenAI) co_return false;
  const bool get = req.method() == http::verb::get;
  // llama-server answers everything but the model lists with 503 while it loads its model.
  // (The emulator's own /admin/ endpoints stay open.)
  if (f == EngineFlavor::kLlamaCpp && path != "/v1/models" && path != "/models" && !path.starts_with("/admin/")) {
    bool loading;
    {
      std::lock_guard lock(s_.mu);
      loading = s_.model.Engine(s_.clock.Now(), false).loading;
    }
    if (loading) {
      co_await NetworkDelay();
      auto res = JsonResponse(std::string(kLlamaLoadingBody), v, ka, http::status::service_unavailable);
      co_await ch.Send(std::move(res));
      co_return true;
    }
  }
  const bool vllm_metrics = f == EngineFlavor::kVllm && get && path == "/metrics";
  const bool llama = f == EngineFlavor::kLlamaCpp && get &&
                     (path == "/health" || path == "/v1/health" || path == "/slots" || path == "/props" || path == "/metrics");
  const bool ollama_ps = f == EngineFlavor::kOllama && get && path == "/api/ps";
  if (!vllm_metrics && !llama && !ollama_ps) co_return false;
  co_await NetworkDelay();  // what a poll measures is the emulated distance, as for /healthz
  EngineSnapshot snap;
  int64_t unix_ms = 0;
  {
    std::lock_guard lock(s_.mu);
    const TimePoint now = s_.clock.Now();
    snap = s_.model.Engine(now, path == "/slots");
    unix_ms = s_.clock.UnixMillis() + std::chrono::duration_cast<std::chrono::milliseconds>(snap.expires_at - now).count();
  }
  const TierProfile& p = s_.model.profile();  // constant fields
  if (vllm_metrics) {
    // prometheus_client's CONTENT_TYPE_LATEST.
    auto res = TextResponse(VllmMetricsText(snap, p.model), "text/plain; version=0.0.4; charset=utf-8", v, ka);
    co_await ch.Send(std::move(res));
  } else if (ollama_ps) {
    auto res = JsonResponse(OllamaPsJson(snap, {p.model, p.model_bytes, p.context_window}, unix_ms), v, ka);
    co_await ch.Send(std::move(res));
  } else if (path == "/metrics") {
    auto res = TextResponse(LlamaMetricsText(snap), "text/plain; version=0.0.4", v, ka);
    co_await ch.Send(std::move(res));
  } else if (path == "/slots") {
    auto res = JsonResponse(LlamaSlotsJson(snap, p.context_window), v, ka);
    co_await ch.Send(std::move(res));
  } else if (path == "/props") {
    auto res = JsonResponse(LlamaPropsJson(p.max_concurrency * p.gpus, p.model, p.context_window), v, ka);
    co_await ch.Send(std::move(res));
  } else {
    auto res = JsonResponse(std::string(kLlamaHealthOkBody), v, ka);
    co_await ch.Send(std::move(res));
  }
  co_return true;
}

void EmulatorHandler::Release(uint64_t ticket) {
  std::vector<std::shared_ptr<EmulatorShared::Waiter>> wake;
  {
    std::lock_guard lock(s_.mu);
    for (auto& [work, plan] : s_.model.Release(s_.clock.Now(), ticket)) {
      auto it = s_.waiters.find(work.ticket);
      if (it == s_.waiters.end()) continue;
      it->second->plan = plan;
      it->second->started = true;
      wake.push_back(it->second);
      s_.waiters.erase(it);
    }
  }
  for (auto& w : wake) asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
}

awaitable<void> EmulatorHandler::NetworkDelay() {
  double ms = 0;
  {
    std::lock_guard lock(s_.mu);
    ms = s_.model.profile().rtt_ms * s_.model.faults().slowdown;
  }
  if (ms <= 0) co_return;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  co_await Sleep(timer, FromMillis(ms));
}

awaitable<void> EmulatorHandler::Handle(HttpRequest& req, ClientChannel& ch) {
  const auto path = Path(req);
  const bool ka = req.keep_alive();
  const unsigned v = req.version();
  const bool post = req.method() == http::verb::post;
  {  // named first: g++ 12 mishandles co_await inside a condition
    const bool answered = co_await EngineEndpoint(path, req, ch);
    if (answered) co_return;
  }
  if (post && path == "/v1/chat/completions") co_return co_await Generate(Endpoint::kChatCompletions, req, ch);
  if (post && path == "/v1/completions") co_return co_await Generate(Endpoint::kCompletions, req, ch);
  if (post && path == "/v1/embeddings") co_return co_await Generate(Endpoint::kEmbeddings, req, ch);
  if (path == "/admin/fault") co_return co_await Fault(req, ch);
  if (path == "/admin/stats") {
    std::string out;
    JsonWriter w(out);
    int active, queued;
    {
      std::lock_guard lock(s_.mu);
      active = s_.model.active();
      queued = s_.model.queued();
    }
    w.BeginObject().Field("profile", s_.model.profile().name).Field("served", s_.served.load()).Field("cancelled", s_.cancelled.load());
    w.Field("rejected", s_.rejected.load()).Field("errors", s_.errors.load()).Field("dropped", s_.dropped.load());
    w.Field("hung", s_.hung.load()).Field("active", active).Field("queued", queued).EndObject();
    {  // named first: g++ 12 mishandles temporaries that live across co_await
      auto res = JsonResponse(std::move(out), v, ka);
      co_await ch.Send(std::move(res));
    }
    co_return;
  }
  if (path == "/healthz") {
    co_await NetworkDelay();  // what a health check measures is the emulated distance
    bool down;
    {
      std::lock_guard lock(s_.mu);
      down = s_.model.InOutage(s_.clock.Now());
    }
    {  // named first: g++ 12 mishandles temporaries that live across co_await
      auto res = JsonResponse(down ? R"({"status":"outage"})" : R"({"status":"ok"})", v, ka,
                                  down ? http::status::service_unavailable : http::status::ok);
      co_await ch.Send(std::move(res));
    }
    co_return;
  }
  if (path == "/v1/models") {
    co_await NetworkDelay();  // the gateway's health check: its RTT estimate is the emulated distance
    bool down;
    {
      std::lock_guard lock(s_.mu);
      down = s_.model.InOutage(s_.clock.Now());
    }
    if (down) {  // what a health check sees of an emulated outage
      auto res = ErrorResponse(ApiError{503, "service_unavailable", "Emulated outage.", "", "outage"}, v, ka);
      co_await ch.Send(std::move(res));
      co_return;
    }
    std::string out;
    JsonWriter w(out);
    w.BeginObject().Field("object", "list").Key("data").BeginArray();
    const auto& p = s_.model.profile();
    for (const auto* m : {&p.model, &p.embedding_model})
      if (!m->empty()) w.BeginObject().Field("id", *m).Field("object", "model").Field("created", 0).Field("owned_by", "mecrouter-emulator").EndObject();
    w.EndArray().EndObject();
    {  // named first: g++ 12 mishandles temporaries that live across co_await
      auto res = JsonResponse(std::move(out), v, ka);
      co_await ch.Send(std::move(res));
    }
    co_return;
  }
  auto res = ErrorResponse(ApiError::NotFound("Unknown request URL: " + std::string(path), "unknown_url"), v, ka);
  co_await ch.Send(std::move(res));
}

awaitable<void> EmulatorHandler::Fault(HttpRequest& req, ClientChannel& ch) {
  const bool ka = req.keep_alive();
  const unsigned v = req.version();
  if (req.method() == http::verb::post) {
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    if (parser.parse(req.body()).get_object().get(obj)) {
      {  // named first: g++ 12 mishandles temporaries that live across co_await
        auto res = ErrorResponse(ApiError::BadRequest("Expected a JSON object of fault fields."), v, ka);
        co_await ch.Send(std::move(res));
      }
      co_return;
    }
    FaultState next;
    {
      std::lock_guard lock(s_.mu);
      next = s_.model.faults();
    }
    for (auto [key, val] : obj) {
      double d = 0;
      bool b = false;
      auto rate = [&](double& slot) {
        if (val.get_double().get(d) || d < 0 || d > 1) return false;
        slot = d;
        return true;
      };
      bool ok = true;
      if (key == "outage") ok = !val.get_bool().get(b), next.outage = ok ? b : next.outage;
      else if (key == "error_rate") ok = rate(next.error_rate);
      else if (key == "hang_rate") ok = rate(next.hang_rate);
      else if (key == "drop_midstream_rate") ok = rate(next.drop_midstream_rate);
      else if (key == "slowdown") ok = !val.get_double().get(d) && d > 0 && d <= 1000, next.slowdown = ok ? d : next.slowdown;
      else if (key == "cut_at_token") {
        int64_t n = 0;
        ok = !val.get_int64().get(n) && n >= -1;
        if (ok) next.cut_at_token = n;
      } else ok = false;
      if (!ok) {
        auto res = ErrorResponse(ApiError::BadRequest("Invalid fault field '" + std::string(key) + "' (outage: bool; error_rate, hang_rate, drop_midstream_rate: 0..1; slowdown: > 0; cut_at_token: an integer >= -1).", std::string(key)), v, ka);
        co_await ch.Send(std::move(res));
        co_return;
      }
    }
    std::lock_guard lock(s_.mu);
    s_.model.faults() = next;
  } else if (req.method() != http::verb::get) {
    {  // named first: g++ 12 mishandles temporaries that live across co_await
      auto res = ErrorResponse({405, "invalid_request_error", "Use GET or POST.", "", "method_not_allowed"}, v, ka);
      co_await ch.Send(std::move(res));
    }
    co_return;
  }
  FaultState now;
  {
    std::lock_guard lock(s_.mu);
    now = s_.model.faults();
  }
  {  // named first: g++ 12 mishandles temporaries that live across co_await
    auto res = JsonResponse(FaultJson(now), v, ka);
    co_await ch.Send(std::move(res));
  }
}

awaitable<bool> EmulatorHandler::Admit(WorkItem& w, ServicePlan& plan, ClientChannel& ch, unsigned ver, bool ka) {
  Admission adm;
  std::shared_ptr<EmulatorShared::Waiter> waiter;
  double retry_after = 1;
  {
    std::lock_guard lock(s_.mu);
    w.ticket = s_.next_ticket++;
    adm = s_.model.Arrive(s_.clock.Now(), w, &plan);
    retry_after = s_.model.RetryAfterSeconds();
    if (adm == Admission::kQueued) {
      waiter = std::make_shared<EmulatorShared::Waiter>(co_await asio::this_coro::executor);
      waiter->timer.expires_at(asio::steady_timer::time_point::max());
      s_.waiters[w.ticket] = waiter;
    }
  }
  // A rejection comes back after the network's round trip, as from a server that far away.
  if (adm != Admission::kStarted && adm != Admission::kQueued) co_await NetworkDelay();
  switch (adm) {
    case Admission::kLoading:  // llama-server while it loads its model
      s_.rejected.fetch_add(1);
      {  // named first: g++ 12 mishandles temporaries that live across co_await
        auto res = JsonResponse(std::string(kLlamaLoadingBody), ver, ka, http::status::service_unavailable);
        co_await ch.Send(std::move(res));
      }
      co_return false;
    case Admission::kOutage:
      s_.errors.fetch_add(1);
      {  // named first: g++ 12 mishandles temporaries that live across co_await
        auto res = ErrorResponse(ApiError{503, "service_unavailable", "Emulated outage.", "", "outage"}, ver, ka);
        co_await ch.Send(std::move(res));
      }
      co_return false;
    case Admission::kError:
      s_.errors.fetch_add(1);
      {  // named first: g++ 12 mishandles temporaries that live across co_await
        auto res = ErrorResponse(ApiError{500, "server_error", "Emulated server error.", "", "injected_error"}, ver, ka);
        co_await ch.Send(std::move(res));
      }
      co_return false;
    case Admission::kRateLimited:
    case Admission::kQueueFull: {
      s_.rejected.fetch_add(1);
      if (adm == Admission::kQueueFull && s_.flavor == EngineFlavor::kOllama) {  // Ollama: 503 past OLLAMA_MAX_QUEUE
        auto res = ErrorResponse(ApiError{503, "api_error", std::string(kOllamaMaxQueueMessage), "", ""}, ver, ka);
        co_await ch.Send(std::move(res));
        co_return false;
      }
      auto res = ErrorResponse(ApiError::TooManyRequests(adm == Admission::kRateLimited ? "Emulated rate limit." : "Emulated queue is full."), ver, ka);
      res.set(http::field::retry_after, std::to_string(static_cast<int>(retry_after)));
      co_await ch.Send(std::move(res));
      co_return false;
    }
    case Admission::kQueued: {
      ch.OnGone([waiter] { waiter->timer.cancel(); });
      co_await waiter->timer.async_wait(kTuple);
      bool started;
      {
        std::lock_guard lock(s_.mu);
        started = waiter->started;
        plan = waiter->plan;
        if (!started) s_.waiters.erase(w.ticket);
      }
      if (!started) {  // the client left while queued
        Release(w.ticket);
        s_.cancelled.fetch_add(1);
        co_return false;
      }
      co_return true;
    }
    case Admission::kStarted: break;
  }
  co_return true;
}

awaitable<void> EmulatorHandler::Generate(Endpoint endpoint, HttpRequest& req, ClientChannel& ch) {
  const bool ka = req.keep_alive();
  const unsigned ver = req.version();
  const TierProfile& profile = s_.model.profile();  // name/model fields are constant
  auto asked_or = ReadAsked(endpoint, req.body(), profile);
  if (auto* err = std::get_if<ApiError>(&asked_or)) {
    s_.rejected.fetch_add(1);
    {  // named first: g++ 12 mishandles temporaries that live across co_await
      auto res = ErrorResponse(*err, ver, ka);
      co_await ch.Send(std::move(res));
    }
    co_return;
  }
  const Asked& asked = std::get<Asked>(asked_or);
  const ParsedRequest& r = asked.r;
  WorkItem w = WorkFor(asked, profile, s_.model.engine().prefix_cache);
  ServicePlan plan;
  const bool admitted = co_await Admit(w, plan, ch, ver, ka);  // g++ 12: no co_await in a condition
  if (!admitted) co_return;

  // Holding a slot from here: release it however this ends.
  struct SlotGuard {
    EmulatorHandler* h;
    uint64_t ticket;
    ~SlotGuard() { h->Release(ticket); }
  } slot{this, w.ticket};

  asio::steady_timer sleep(co_await asio::this_coro::executor);
  ch.OnGone([&sleep] { sleep.cancel(); });
  const TimePoint t0 = s_.clock.Now();
  auto sleep_until = [&](TimePoint t) { return Sleep(sleep, t - s_.clock.Now()); };

  if (plan.hang) {
    s_.hung.fetch_add(1);
    co_await Sleep(sleep, FromSeconds(3600));
    s_.cancelled.fetch_add(1);
    co_return;
  }
  const bool slept = co_await sleep_until(t0 + plan.ttft);  // g++ 12: no co_await in a condition
  if (!slept) {
    s_.cancelled.fetch_add(1);
    co_return;
  }

  ResponseMeta meta{endpoint, fmt::format("emu-{}-{}", profile.name, w.ticket), s_.clock.UnixSeconds(), r.model};
  const Usage usage{asked.in_tokens, endpoint == Endpoint::kEmbeddings ? 0 : plan.output_tokens};
  if (endpoint == Endpoint::kEmbeddings) {
    std::vector<std::vector<float>> vecs;
    Rng rng(w.content_hash, "embedding");
    std::vector<float> vec(16);
    for (auto& x : vec) x = static_cast<float>(rng.Uniform(-1, 1));
    vecs.push_back(std::move(vec));
    s_.served.fetch_add(1);
    {  // named first: g++ 12 mishandles temporaries that live across co_await
      auto res = JsonResponse(EmbeddingsBody(r.model, vecs, usage), ver, ka);
      co_await ch.Send(std::move(res));
    }
    co_return;
  }

  TextGenerator gen(w.content_hash);
  // Emulated quality (emulate/hidden_quality.h): the answer's first word says whether it is right;
  // asked the judge prompt, the emulated backend answers the verdict those words imply.
  const std::optional<JudgeAsk> judge_ask = ParseJudgeAsk(r.text);
  if (profile.quality >= 0 && !judge_ask)
    gen.SetFirstWord(MarkWord(HiddenDifficulty(r.last_user_text) < profile.quality, w.content_hash));
  if (asked.cont.asked) {  // the prefix's words were said already
    std::string said;
    for (int64_t k = 0; k < asked.prefix_tokens; ++k) gen.AppendNext(said);
  }
  {
    std::lock_guard lock(s_.mu);
    const int64_t cut = s_.model.faults().cut_at_token;
    if (cut >= asked.prefix_tokens && r.stream) plan.drop_after = cut - asked.prefix_tokens;
  }
  const std::string_view finish = plan.truncated ? "length" : "stop";
  if (r.stream) {
    const Streaming st{plan, meta, usage, finish, r.include_usage, t0};  // named: g++ 12 and temporaries across co_await
    co_await Stream(st, gen, sleep, ch, ver);
    co_return;
  }
  const int64_t until = plan.drop_after >= 0 ? plan.drop_after : plan.output_tokens - 1;
  const bool waited = co_await sleep_until(t0 + plan.ttft + plan.per_token * until);
  if (!waited) {
    s_.cancelled.fetch_add(1);
    co_return;
  }
  if (plan.drop_after >= 0) {
    s_.dropped.fetch_add(1);
    ch.Abort();
    co_return;
  }
  std::string text;
  for (int64_t i = 0; i < plan.output_tokens; ++i) gen.AppendNext(text);
  if (judge_ask) text = EmulatedVerdict(*judge_ask);
  s_.served.fetch_add(1);
  {  // named first: g++ 12 mishandles temporaries that live across co_await
    auto res = JsonResponse(CompletionBody(meta, text, finish, usage), ver, ka);
    co_await ch.Send(std::move(res));
  }
}

awaitable<void> EmulatorHandler::Stream(const Streaming& st, TextGenerator& gen, asio::steady_timer& sleep, ClientChannel& ch, unsigned ver) {
  const ServicePlan& plan = st.plan;
  http::response<http::empty_body> head{http::status::ok, ver};
  head.set(http::field::content_type, "text/event-stream");
  head.set(http::field::cache_control, "no-cache");
  const bool begun = co_await ch.BeginStream(std::move(head));
  if (!begun) {
    s_.cancelled.fetch_add(1);
    co_return;
  }
  std::string out, token;
  int64_t i = 0;
  while (i < plan.output_tokens) {
    // Send every token that is due now in one write; then wait for the next one.
    const TimePoint now = s_.clock.Now();
    do {
      if (i == plan.drop_after) {
        co_await ch.WriteChunk(out);
        s_.dropped.fetch_add(1);
        ch.Abort();
        co_return;
      }
      token.clear();
      gen.AppendNext(token);
      AppendSseEvent(out, CompletionChunk(st.meta, token, i == 0, ""));
      ++i;
    } while (i < plan.output_tokens && st.t0 + plan.ttft + plan.per_token * i <= now);
    const bool written = co_await ch.WriteChunk(out);
    if (!written) {
      s_.cancelled.fetch_add(1);
      co_return;
    }
    out.clear();
    if (i < plan.output_tokens && !co_await Sleep(sleep, st.t0 + plan.ttft + plan.per_token * i - s_.clock.Now())) {
      s_.cancelled.fetch_add(1);
      co_return;
    }
  }
  if (plan.drop_after == plan.output_tokens) {  // cut after the last token, before the finish
    co_await ch.WriteChunk(out);
    s_.dropped.fetch_add(1);
    ch.Abort();
    co_return;
  }
  AppendSseEvent(out, CompletionChunk(st.meta, "", false, st.finish));
  if (st.include_usage) AppendSseEvent(out, UsageChunk(st.meta, st.usage));
  out += kSseDone;
  bool ok = co_await ch.WriteChunk(out);
  if (ok) ok = co_await ch.EndStream();
  if (ok) s_.served.fetch_add(1);
  else s_.cancelled.fetch_add(1);
}

}  // namespace mec::net
