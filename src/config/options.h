#pragma once
// Typed configuration, parsed once from YAML (loader.h). Every field has a documented default;
// README.md's "Configuration" section mirrors this file.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/continue_style.h"

namespace mec {

enum class Tier { kDevice = 0, kEdge = 1, kCloud = 2 };
inline constexpr int kTierCount = 3;
std::string_view TierName(Tier t);
std::optional<Tier> ParseTier(std::string_view s);

struct TimeoutOptions {
  int64_t connect_ms = 2000;       // TCP (+TLS) connect
  int64_t first_byte_ms = 30000;   // request sent -> first response byte
  int64_t idle_ms = 30000;         // longest gap between two body reads while streaming
  int64_t total_ms = 300000;       // whole attempt
};

// How a backend is priced. APIs: per 1M tokens. Self-hosted GPUs: per hour at a throughput,
// converted to a cost per token. Devices: energy (watts while generating x electricity price).
struct PriceOptions {
  double input_per_1m = 0;   // USD per 1M input tokens
  double output_per_1m = 0;  // USD per 1M output tokens
  double gpu_per_hour = 0;           // USD per GPU-hour (self-hosted)
  double gpu_tokens_per_second = 0;  // aggregate output tokens/s that hour buys
  double watts = 0;                  // device power draw while generating
  double usd_per_kwh = 0;            // electricity price
};

// What to expect of a backend before any measurement: the priors of its latency estimators
// (backend/latency_estimator.h). 0 means "the tier's default" (TierDefaultExpect).
struct ExpectOptions {
  double ttft_ms = 0;        // request sent -> first token, as the gateway sees it (network included)
  double tokens_per_s = 0;   // decode rate of one stream (1 / time per output token)
  double rtt_ms = 0;         // network round trip gateway <-> backend
  double half_life_ms = 5000;  // estimators forget half their weight in this much time
};

// Tier defaults for ExpectOptions. ASSUMPTIONS, rounded from ../shared/data/calibration/
// tier_calibration.csv where a row exists: device ttft 0.3 s and 50.2 tok/s (rows 5-7, a phone,
// 64-token prompt); edge 75 tok/s single stream on an A100 (row 28; 70 leaves room for concurrent
// streams) and 0.2 s ttft (row 30 is an SLO example, not a measurement); cloud 0.39-0.77 s ttft and
// 81-131 tok/s (rows 33-38; 600 ms / 100 tok/s in between). No row gives an RTT: 1 / 20 / 100 ms
// are assumptions (loopback, a nearby MEC site, a cloud region).
inline ExpectOptions TierDefaultExpect(Tier t) {
  switch (t) {
    case Tier::kDevice: return {300, 50, 1, 5000};
    case Tier::kEdge: return {200, 70, 20, 5000};
    case Tier::kCloud: break;
  }
  return {600, 100, 100, 5000};
}

// Active health checks: GET base URL + path every interval (+-jitter). Envoy's thresholds.
struct HealthCheckOptions {
  bool enabled = true;
  std::string path = "/models";  // relative to the base URL (OpenAI, vLLM, llama.cpp, Ollama serve GET /v1/models)
  int64_t interval_ms = 5000;
  double jitter = 0.2;           // each delay is interval x (1 +- jitter), uniformly
  int64_t timeout_ms = 1000;     // a check that takes longer fails
  int healthy_threshold = 2;     // consecutive passes that make an unhealthy backend healthy
  int unhealthy_threshold = 3;   // consecutive failures that make a healthy backend unhealthy
};

// Passive outlier detection (Envoy's consecutive-failure detectors). 0 disables a detector.
struct OutlierOptions {
  int consecutive_local_failures = 3;     // connect failed / timed out in a row -> ejected
  int consecutive_upstream_failures = 5;  // 5xx / reset / stream cut in a row -> ejected
  int64_t base_ejection_ms = 10000;       // ejection time = base x ejection count ...
  int64_t max_ejection_ms = 300000;       // ... capped at this
  // A passing active health check ends an ejection's wait: the backend turns half-open and one
  // real request probes it (backend/outlier_detector.h). false: the ejection runs its full time.
  bool uneject_on_health_check = true;
};

// The serving engine behind a backend, whose own load endpoints the gateway polls
// (docs/engines.md). kOpenAI, the default, has none: nothing is polled.
enum class EngineKind { kOpenAI = 0, kVllm, kLlamaCpp, kOllama };
std::string_view EngineKindName(EngineKind e);
std::optional<EngineKind> ParseEngineKind(std::string_view s);

// Polling an engine's endpoints (net/engine_poller.h) at the origin of the backend's url.
struct EngineOptions {
  EngineKind kind = EngineKind::kOpenAI;
  int64_t poll_ms = 100;     // one poll every this long (50..5000); each poll times out well within it
  int64_t stale_ms = 2000;   // a reading older than this counts as saturated (backend/engine_load.h)
  double max_waiting = 5;    // saturated when more requests than this wait in the engine
  double max_kv_usage = 0.8; // saturated at or above this share of the KV cache in use
  // Ollama: the time to load a model it does not hold (GET /api/ps lists the warm ones), added to
  // the predicted TTFT of a request for a cold model. ASSUMPTION: 5 s, a 1-3B model's weights
  // (1-2 GB) read from an SSD and set up; measure yours (docs/engines.md, Warmth).
  int64_t cold_load_ms = 5000;
};

struct BackendOptions {
  std::string name;                 // unique; shown in X-MEC-Backend
  Tier tier = Tier::kCloud;
  std::string url;                  // base URL up to and including /v1, e.g. http://127.0.0.1:8000/v1
  std::vector<std::string> models;  // served model names; the first is sent for tier/auto requests
  std::vector<std::string> embedding_models;
  std::string api_key_env;          // environment variable holding the credential; empty: none
  std::string auth_header = "Authorization";  // "Authorization" sends "Bearer KEY"; any other sends KEY
  int max_concurrency = 64;         // in-flight requests before the backend counts as full
  int64_t context_window = 8192;    // tokens
  // Quality profile: the share of its tier's reference model's correct answers this backend's
  // model keeps (device: relative to the edge model, default the tier's Llama-3.2-1B assumption;
  // edge: relative to the labels' edge model; cloud: to the strongest). Unset: the tier's default.
  // Example: a device running Llama-3.2-3B keeps 0.914 (MMLU 63.4 / 69.4, docs/routing.md).
  std::optional<double> quality_ratio;
  bool tools = false, json_schema = false, image_input = false;  // capabilities
  // Capability `continue`: it can continue a partial answer another backend began (mid-stream
  // continuation, docs/continuation.md), asked as `continue_style` says (default from the engine:
  // continue_final_message for vllm and openai, prefill for llamacpp and ollama).
  bool can_continue = false;
  ContinueStyle continue_style = ContinueStyle::kContinueFinalMessage;
  bool stream_usage = true;         // ask for stream usage upstream for accounting
  bool tls_verify = true;
  std::string ca_file;              // extra CA bundle; empty: system default
  TimeoutOptions timeouts;
  PriceOptions price;
  ExpectOptions expect;             // the loader fills zeros with TierDefaultExpect(tier)
  HealthCheckOptions health_check;
  OutlierOptions outlier;
  EngineOptions engine;             // keys engine, engine_poll_ms, engine_stale_ms, engine_max_waiting, engine_max_kv_usage, engine_cold_load_ms
  // Where it came from (for messages).
  int line = 0;
};

// HTTPS on the listener (docs/tls.md): PEM files, re-read on SIGHUP for new connections.
struct ServerTlsOptions {
  std::string cert;       // certificate chain (leaf first); "" = plain HTTP
  std::string key;        // its private key
  std::string client_ca;  // when set, clients must present a certificate this CA signed
  bool enabled() const { return !cert.empty(); }
  bool operator==(const ServerTlsOptions&) const = default;
};

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";
  ServerTlsOptions tls;
  int threads = 0;                        // 0: one per core
  int64_t max_body_bytes = 4 << 20;       // larger request bodies get 413
  int64_t max_header_bytes = 16 << 10;    // larger header blocks get 431
  int max_header_count = 100;             // more header fields get 431
  int64_t header_timeout_ms = 10000;      // slow client: headers must arrive within this (408)
  int64_t body_timeout_ms = 30000;        // and the body within this after them (408)
  int64_t keepalive_timeout_ms = 60000;   // idle keep-alive connections are closed after this
  int64_t shutdown_grace_ms = 10000;      // SIGTERM: in-flight requests get this long to finish
  int max_connections = 10000;            // further connections: their first request gets 503 + Retry-After, then close
  int max_in_flight = 0;                  // non-GET requests being handled at once; more get 503 + Retry-After. 0: no limit
  // Each worker listens on the port with SO_REUSEPORT, which would let a second process listen
  // there too and take part of the connections. Off: a port some process already listens on is an
  // error at start. On: shared on purpose (a new gateway started before the old one stops).
  bool share_port = false;
  // Off loopback (docs/security.md): serving without API keys needs allow_anonymous (a loud
  // warning), the operator endpoints need dashboard.token_env, and /metrics needs the token too
  // unless open_metrics is set.
  bool allow_anonymous = false;
  bool open_metrics = false;
  bool operator==(const ServerOptions&) const = default;
};

// API keys, budgets and rate limits (docs/security.md). Without keys_db, no key is asked for.
struct AuthOptions {
  std::string keys_db;                    // SQLite file of keys (`mecrouter keys --db`); "" = no keys
  int64_t reload_ms = 250;                // how often the file is checked for changes made by others
  int64_t redis_timeout_ms = 50;          // with state: redis, an admission waits at most this long,
                                          // then uses this replica's local share of the limits
  int fallback_replicas = 0;              // the share's divisor; 0: the live replicas Redis last showed (>= 1)
  int64_t reserve_output_tokens = 4096;   // a request without max_tokens reserves this many output tokens
};

// A routing profile defined in config (`routing.profiles`, docs/routing.md): the route/ plugins it
// combines, by name. It becomes a policy name beside the built-in ones (route/policies.h).
struct ScorerWeight {
  std::string scorer;
  double weight = 1;                      // > 0; a candidate's score is the sum of weight x [0,1] score
};
struct ProfileOptions {
  std::string name;                       // the policy name (X-MEC-Policy, routing.policy)
  std::vector<std::string> filters;       // profile filters, run after the shared hard filters
  std::vector<ScorerWeight> scorers;      // in order; the first with a detail writes the reason's
  std::string picker = "max-score";
  std::string reason;                     // the reason line's head; "" = the profile's name
};

// The plugin names a profile may use, and the built-in profiles (route/ implements each; its test
// checks that the lists agree). The loader rejects any other name.
inline constexpr const char* kRoutingFilterNames[] = {"cloud-tier", "edge-tier", "device-tier", "auto-order"};
inline constexpr const char* kRoutingHardFilterNames[] = {"privacy", "model", "capabilities", "context-window",
                                                          "reachable", "health"};
inline constexpr const char* kRoutingScorerNames[] = {"latency", "cost",   "load",          "queue",     "kv-cache",
                                                      "prefix",  "quality", "p-meet", "tier-distance", "tier-order"};
inline constexpr const char* kRoutingPickerNames[] = {"max-score", "round-robin", "random", "adaptive"};
inline constexpr const char* kBuiltinPolicyNames[] = {"adaptive",    "cloud-only",    "edge-only",  "device-only",
                                                      "static",      "round-robin",   "random",     "least-latency",
                                                      "least-busy",  "cost-first",    "preference"};

struct RoutingOptions {
  std::string policy = "adaptive";        // see route/policies.h; X-MEC-Policy overrides per request
  std::string shadow_policy;              // decides on every request too, only recorded; "" = none
  // model "auto" under the `preference` policy: tiers tried in this order.
  std::vector<Tier> auto_order = {Tier::kEdge, Tier::kCloud, Tier::kDevice};
  int max_attempts = 3;                   // upstream attempts per request (first + failovers)
  double default_min_quality = 0.9;       // DESIGN.md §2 scale
  double default_deadline_ms = 0;         // 0: no deadline unless the request or its use case sets one
  double deadline_target = 0.9;           // adaptive: P(meet deadline) a candidate needs
  double shed_below = 0.5;                // every candidate full: 429 only if the best meets the deadline by waiting with P below this
  bool hedge = false;                     // start the first fallback early when the primary is unlikely to make it
  double hedge_threshold = 0.5;
  double spread = 0.10;                   // adaptive: near-equal replicas (latency within this share) are chosen at random
  // adaptive: "request" (true, the default) holds the minimum quality as a floor on every request;
  // "class" (false) as the running average of each (use case, minimum) class, with a margin
  // (learn/quality_budget.h, docs/routing.md). X-MEC-Min-Quality: "0.9; per=class" or
  // "0.9; per=request" overrides it per request.
  bool min_quality_per_request = true;
  double quality_margin = 0.25;          // class target = min + margin x (1 - min)
  // Panic (backend/backend_monitor.h): more than this share of a tier's backends ejected (tiers of
  // two or more) -> ejection is ignored for that tier; 1 turns it off. Every backend ejected ->
  // ignored everywhere, whatever this says.
  double panic_threshold = 0.5;
  std::vector<ProfileOptions> profiles;   // routing.profiles: more policies, in config order
  // The complexity model's estimates of this many recent prompts are remembered (0: none);
  // context/estimate_memo.h.
  int estimate_memo = 4096;
  // Prefix affinity (cache/prefix_index.h, docs/engines.md): the router remembers which prompt
  // blocks it sent to each backend and predicts that their prefill is skipped there. At most
  // prefix_max_blocks blocks of 16 tokens of a prompt are hashed (0 turns it off), and each
  // backend's index holds prefix_capacity_blocks (the inference extension's defaults).
  int prefix_max_blocks = 256;
  int prefix_capacity_blocks = 31250;
};

// Periodic export of the decision log to S3 (aws/decision_exporter.h, docs/telemetry.md); off
// while `s3` is "". When the file sets no `s3`, MECROUTER_EXPORT_BUCKET, MECROUTER_EXPORT_PREFIX
// and MECROUTER_EXPORT_INTERVAL_S fill these at start (the AWS CDK app sets them).
struct DecisionExportOptions {
  std::string s3;                     // "s3://BUCKET/PREFIX"
  int64_t interval_s = 300;           // one export every this long, and one at shutdown
  std::string region;                 // "" = $AWS_REGION, else $AWS_DEFAULT_REGION
  std::string endpoint;               // "" = https://BUCKET.s3.REGION.amazonaws.com; else path style here
  int64_t timeout_ms = 10000;         // per request (credentials, one PUT)
};

// The decision log (telemetry/decision_log.h): every decision and its outcome in a SQLite file
// (WAL mode), written in batches by a background thread.
struct DecisionLogOptions {
  std::string path;                   // SQLite file; "" = no decision log
  int batch = 256;                    // rows per transaction at most
  int64_t flush_ms = 200;             // rows wait at most this long before they are written
  int queue = 65536;                  // rows waiting for the writer; more are dropped (and counted)
  int64_t retention_rows = 1000000;   // keep at most this many rows (oldest deleted first); 0 = no limit
  double retention_days = 30;         // delete rows older than this, relative to the newest; 0 = no limit
  DecisionExportOptions exports;      // `export:` in the file
};

// One JSON line per request (telemetry/access_log.h); optionally CloudWatch Embedded Metric
// Format lines beside them.
struct AccessLogOptions {
  std::string path;                   // "" = off; "-" = stderr; else a file, appended to
  bool emf = false;                   // also write CloudWatch EMF lines (to the same place)
  std::string emf_namespace = "mecrouter";
};

struct TelemetryOptions {
  bool metrics = true;                // GET /metrics (Prometheus text format)
  DecisionLogOptions decision_log;
  AccessLogOptions access_log;
};

// The response cache (the Cache agent): exact-match reuse of repeatable answers (temperature 0
// or a fixed seed), in process, bounded by bytes and age.
struct CacheOptions {
  bool enabled = true;
  int64_t max_bytes = 64 << 20;  // answers beyond this evict the least recently used
  int64_t ttl_ms = 600000;       // an answer older than this is not reused
};

// Shared state between regional replicas (DESIGN.md §1): `state: redis[s]://[[USER]:PASSWORD@]HOST[:PORT]`.
// Replicas exchange what they observe of backend latency through Redis (hiredis 0.14; TLS with
// rediss://, through state/tls_tunnel.h: docs/replicas.md).
struct StateOptions {
  std::string redis_host;    // empty: no sharing (the default)
  int redis_port = 6379;
  bool redis_tls = false;       // rediss://: TLS, the certificate verified for redis_host
  std::string tls_ca_file;      // extra CA bundle (PEM) besides the system store; "" = system only
  bool tls_verify = true;       // false: no certificate check (a loud warning)
  std::string redis_user;       // AUTH USER PASSWORD when set (Redis 6 ACL), else AUTH PASSWORD
  std::string redis_password;   // sent with AUTH after connecting; "" = no AUTH. Never printed
  int64_t sync_ms = 500;     // how often observations are exchanged
  int64_t stale_ms = 10000;  // another replica's report older than this is ignored
  bool share_ejections = true;  // a backend one replica ejects is taken out by all
  bool share_cache = true;      // the response cache gets a second level in Redis (cache.enabled too)
  int64_t cache_lookup_ms = 20; // a shared-cache lookup waits at most this long, then counts as a miss
};

// The web dashboard (GET /dashboard, docs/dashboard.md) and the bearer token that protects the
// operator endpoints (/dashboard, /api/..., /admin/..., /v1/feedback).
struct DashboardOptions {
  bool enabled = true;           // serve /dashboard, /api/dashboard and /api/decisions
  std::string token_env;         // environment variable holding the bearer token; "" = no token
  int decisions = 200;           // latest decisions kept in memory
  int window_s = 300;            // seconds of per-second history (60..3600, a multiple of 5)
};

// Fleet state (docs/fleet.md): a regional gateway publishes what it has learned of its backends
// (GET /v1/fleet/state, behind a bearer token); a client-side gateway pulls it every interval_s
// and uses it as priors under its own observations (backend/fleet_priors.h).
struct FleetOptions {
  bool publish = false;          // serve GET /v1/fleet/state (REQUIRES token_env)
  std::string token_env;         // environment variable holding the bearer token (both roles)
  std::string url;               // pull from this URL (http:// or https://); "" = no pulling
  double interval_s = 10;        // one pull every interval_s (0.2..3600)
  double stale_s = 0;            // a pull's priors lapse this long after it; 0 = 3 x interval_s
  double max_weight = 5;         // the fleet's estimate counts as at most this many observations
  double quality_max_weight = 50;  // its feedback per (backend, task class) as at most this many scores; 0 = not applied
  bool tls_verify = true;        // https:// url: check the publisher's certificate
};

// Learning each tier's quality on the deployment's own traffic (docs/learning.md): a share of the
// eligible requests also gets, in the background, the reference tier's answer and a verdict (exact
// match or the judge backend); the verdicts refit the complexity model's corrections
// (learn/online_learner.h), promoted only when no worse on held-back verdicts.
struct LearningOptions {
  bool enabled = false;            // off by default with a config file; on in the embedded demo
  double sample_rate = 0.02;       // share of eligible requests that are judged
  double daily_cap_usd = 5;        // reference + judge spending per UTC day; then no more samples that day
  std::string reference;           // backend name; "" = the strongest configured (a cloud backend)
  std::string judge;               // backend name; "" = the reference backend
  bool sample_pinned = false;      // also sample requests pinned to a tier or a model
  double retention_days = 30;      // judged samples keep their prompt text this long, then only features
  int retrain_every = 50;          // refit after this many new verdicts ...
  int64_t retrain_interval_ms = 600000;  // ... or this often when there is any new verdict
  double holdout_share = 0.2;      // verdicts held back to judge a candidate model (by id hash)
  int min_samples = 20;            // a tier class needs this many verdicts for a correction
  int word_bits = 16;              // hashed word space of the corrections (2^bits); smaller fits faster
  int queue = 256;                 // sampled requests waiting for their verdict; more are dropped (counted)
  std::string labels_db;           // SQLite file of verdicts; "" = the decision log's file, or memory only
  // With `state: redis://...`: verdicts shared by all replicas, one trainer at a time holding a
  // lease of lease_ms, its promoted models loaded by all, the daily cap held by the fleet.
  bool share = true;
  int64_t lease_ms = 30000;
};

struct Options {
  ServerOptions server;
  RoutingOptions routing;
  TelemetryOptions telemetry;
  CacheOptions cache;
  StateOptions state;
  DashboardOptions dashboard;
  LearningOptions learning;
  AuthOptions auth;
  FleetOptions fleet;
  std::vector<BackendOptions> backends;
  std::string source;  // file name, or "embedded demo"
};

}  // namespace mec
