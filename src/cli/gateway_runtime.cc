#include "cli/gateway_runtime.h"

#include <unistd.h>

#include <cstdio>
#include <atomic>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "auth/key_guard.h"
#include "aws/decision_exporter.h"
#include "backend/backend_monitor.h"
#include "backend/backend_pool.h"
#include "backend/fleet_priors.h"
#include "backend/fleet_state.h"
#include "cache/response_cache.h"
#include "config/loader.h"
#include "context/context_builder.h"
#include "context/learned_complexity_model.h"
#include "dashboard/access_guard.h"
#include "dashboard/dashboard.h"
#include "gateway/engine_parts.h"
#include "learn/decision_registry.h"
#include "learn/output_tokens.h"
#include "learn/quality_budget.h"
#include "learn/quality_feedback.h"
#include "net/gateway_handler.h"
#include "net/engine_poller.h"
#include "net/fleet_poller.h"
#include "net/health_prober.h"
#include "net/learning_worker.h"
#include "context/live_complexity_model.h"
#include "route/policies.h"
#include "state/replica_sync.h"
#include "telemetry/telemetry.h"

namespace mec::cli {
namespace {

// Each worker's request handler on generation `shared` (Start, and every Reload).
net::HttpServer::HandlerFactory HandlersOn(net::GatewayShared* shared) {
  return [shared](int worker, net::asio::io_context& ioc) { return std::make_shared<net::GatewayHandler>(*shared, ioc, worker); };
}

// The tier of the backend named `name` in `pool`, if it has one.
std::optional<Tier> TierOf(const BackendPool& pool, std::string_view name) {
  for (const auto& b : pool.all())
    if (b->name() == name) return b->tier();
  return std::nullopt;
}

}  // namespace

// Declared in construction order; destroyed in reverse.
struct GatewayRuntime::Parts {
  Options options;  // this generation's; GatewayShared and every part below refer to it
  // What polled engines report; read by /metrics and, through the monitor, by routing (declared
  // before the engine parts so that it outlives the monitor that points at it).
  std::unique_ptr<EngineLoadBoard> engine_loads;
  // Pool, monitor, context builder, learners: wired as each simulated client's (gateway/engine_parts.h).
  std::unique_ptr<EngineParts> engine;
  BackendPool* pool = nullptr;  // engine->pool
  DecisionRegistry decisions;
  std::map<std::string, std::unique_ptr<Router>, std::less<>> policies;
  std::unique_ptr<Telemetry> telemetry;
  std::unique_ptr<net::GatewayShared> shared;
  std::unique_ptr<ResponseCache> cache;
  std::unique_ptr<ReplicaSync> replicas;
  std::unique_ptr<SharedCache> shared_cache;  // stopped in Shutdown, before the server's io_contexts go
  std::string token;
  std::unique_ptr<KeyGuard> keys;  // API keys (auth.keys_db); outlives the server's handlers
  std::unique_ptr<Dashboard> dashboard;
  std::unique_ptr<net::asio::io_context> probe_ioc;
  std::unique_ptr<net::UpstreamPools> probe_pools;
  std::unique_ptr<net::HealthProber> prober;
  std::unique_ptr<net::UpstreamPools> engine_pools;
  std::unique_ptr<net::EnginePoller> engine_poller;
  std::unique_ptr<net::FleetPoller> fleet_poller;  // fleet.url: the regional gateway's state as priors
  std::thread probe_thread;
  std::unique_ptr<net::LearningWorker> learning;
  std::unique_ptr<aws::DecisionExporter> exporter;  // the decision log to S3; stopped after the log's last rows
  bool stopped = false;
};

// An earlier generation after a reload: its requests in flight still run on it (they hold the old
// workers' handlers). A thread of its own waits for the last of them, then stops and frees it.
struct GatewayRuntime::Retired {
  std::unique_ptr<Parts> parts;
  std::vector<std::weak_ptr<net::Handler>> handlers;
  std::atomic<bool> force{false};  // Shutdown: stop it now (the server has stopped every request)
  std::thread reaper;
};

GatewayRuntime::GatewayRuntime(Options options, const Clock& clock) : options_(std::move(options)), clock_(clock) {}

GatewayRuntime::~GatewayRuntime() { Shutdown(std::chrono::milliseconds(0)); }

Status GatewayRuntime::Start() {
  // The complexity model outlives every generation: what learning promoted stays across reloads.
  base_complexity_ = LoadDefaultComplexityModel();
  complexity_ = std::make_unique<LiveComplexityModel>(base_complexity_);
  complexity_->EnableMemo(static_cast<size_t>(options_.routing.estimate_memo));
  auto built = Build(options_);
  if (!built.ok()) return built.status();
  std::unique_ptr<Parts> p = std::move(*built);
  server_ = std::make_unique<net::HttpServer>(options_.server, HandlersOn(p->shared.get()));
  if (Status s = server_->Listen(); !s.ok()) return s;
  server_->Start();
  Launch(*p);
  parts_ = std::move(p);
  generation_ = 1;
  running_ = true;
  return Status::Ok();
}

const Options& GatewayRuntime::options() const { return parts_ ? parts_->options : options_; }

Result<std::unique_ptr<GatewayRuntime::Parts>> GatewayRuntime::Build(const Options& opts) {
  auto p = std::make_unique<Parts>();
  p->options = opts;
  const Options& options = p->options;
  // The five parts: Resource (pool + monitor), Context (complexity model, output lengths),
  // Router (every policy), Monitor/learning (feedback, decision registry), FailoverMachine (per request).
  ContextDefaults defaults;
  defaults.min_quality = options.routing.default_min_quality;
  if (options.routing.default_deadline_ms > 0) defaults.deadline_ms = options.routing.default_deadline_ms;
  defaults.prompt_blocks = static_cast<size_t>(options.routing.prefix_max_blocks);
  QualityBudgetOptions qopts;
  qopts.margin = options.routing.quality_margin;
  p->engine = std::make_unique<EngineParts>(options.backends, clock_, *complexity_, defaults, options.routing.max_attempts, qopts);
  p->engine->monitor.SetPanicThreshold(options.routing.panic_threshold);
  p->engine->EnableFeedback();  // POST /v1/feedback
  if (options.routing.prefix_max_blocks > 0) p->engine->EnablePrefixAffinity(static_cast<size_t>(options.routing.prefix_capacity_blocks));
  p->pool = &p->engine->pool;
  PolicyOptions popts;
  popts.deadline_target = options.routing.deadline_target;
  popts.shed_below = options.routing.shed_below;
  popts.spread = options.routing.spread;
  popts.hedge = options.routing.hedge;
  popts.hedge_threshold = options.routing.hedge_threshold;
  popts.auto_order = options.routing.auto_order;
  popts.min_quality_per_request = options.routing.min_quality_per_request;
  popts.profiles = options.routing.profiles;  // routing.profiles: more policy names
  const std::vector<std::string> policy_names = PolicyNames(popts);
  for (const auto& name : policy_names) {
    p->policies[name] = MakePolicy(name, popts);
    if (!p->policies[name]) return Status::InvalidArgument("routing.profiles." + name + ": cannot be built");
  }
  // Monitor: metrics, decision log (background writer), access log. Closed after the server drains.
  auto telemetry = Telemetry::Create(options.telemetry, *p->pool, policy_names, clock_);
  if (!telemetry.ok()) return telemetry.status();
  p->telemetry = std::move(*telemetry);
  if (Status s = MakeDecisionExport(*p); !s.ok()) return s;
  p->shared.reset(new net::GatewayShared{options, clock_, *p->engine, p->policies, nullptr, nullptr, p->decisions, {}});
  net::GatewayShared& shared = *p->shared;
  shared.telemetry = p->telemetry.get();
  p->engine->engine.telemetry = p->telemetry.get();
  p->engine->engine.stats = &shared.stats;
  // Learning on the traffic (docs/learning.md): verdicts in the background, refits on a thread of
  // their own, promoted into the live model only when no worse on held-back verdicts.
  // This replica's name in the shared state (`state: redis://...`): latency reports, ejections
  // and, with learning.share, verdicts and models.
  std::string replica_id;
  if (!options.state.redis_host.empty()) {
    char host[256] = "replica";
    gethostname(host, sizeof host - 1);
    replica_id = fmt::format("{}-{}-{:08x}", host, static_cast<long>(getpid()), static_cast<uint32_t>(std::random_device{}()));
  }
  if (options.learning.enabled) {
    p->learning = std::make_unique<net::LearningWorker>(options, *p->pool, base_complexity_, *complexity_,
                                                        defaults.device_quality, clock_, replica_id);
    p->learning->set_access_log(p->telemetry->access_log());
    if (Status s = p->learning->Start(); !s.ok()) return s;
    shared.learning = p->learning.get();
  }
  // Cache: answers of repeatable requests, in process (shared by every worker and policy).
  if (options.cache.enabled)
    p->cache = std::make_unique<ResponseCache>(options.cache.max_bytes, FromMillis(static_cast<double>(options.cache.ttl_ms)), clock_);
  shared.cache = p->cache.get();
  // Shared state: with `state: redis://...`, replicas exchange latency observations (off the
  // request path, on a thread of its own).
  if (!replica_id.empty()) p->replicas = std::make_unique<ReplicaSync>(options.state, *p->pool, p->engine->monitor, clock_, replica_id);
  if (p->replicas && options.state.redis_tls && !options.state.tls_verify)
    std::fprintf(stderr,
                 "mecrouter: WARNING: state.tls_verify is false: the Redis server's certificate is NOT checked; anyone on the path\n"
                 "mecrouter: WARNING: can pose as %s and read or alter the shared state (and the AUTH password). Use\n"
                 "mecrouter: WARNING: state.tls_ca_file for a private CA instead (docs/replicas.md).\n",
                 MaskedRedisUrl(options.state).c_str());
  shared.replicas = p->replicas.get();
  p->engine->engine.replicas = p->replicas.get();
  // ... and, unless `state: {cache: false}`, the response cache gets a second level in Redis.
  if (p->replicas && p->cache && options.state.share_cache)
    p->shared_cache = std::make_unique<SharedCache>(options.state, *p->pool, FromMillis(static_cast<double>(options.cache.ttl_ms)), clock_);
  shared.shared_cache = p->shared_cache.get();
  shared.policy = p->policies.at(options.routing.policy).get();
  if (!options.routing.shadow_policy.empty()) shared.shadow = p->policies.at(options.routing.shadow_policy).get();
  shared.id_salt = std::random_device{}();
  // Dashboard: its page and JSON, live statistics fed with every finished request (through
  // telemetry), and the bearer token of the operator endpoints.
  const std::string& token_env = options.dashboard.token_env;
  auto token = TokenFromEnv(token_env, token_env.empty() ? nullptr : std::getenv(token_env.c_str()));
  if (!token.ok()) return token.status();
  p->token = std::move(*token);
  p->dashboard = std::make_unique<Dashboard>(options.dashboard, p->token, *p->pool, clock_);
  p->telemetry->set_outcome_observer(&p->dashboard->live_stats());
  shared.dashboard = p->dashboard.get();
  if (Status s = Guard(*p, shared); !s.ok()) return s;
  if (Status s = FleetToken(*p, shared); !s.ok()) return s;
  shared.complexity = complexity_.get();
  p->engine_loads = std::make_unique<EngineLoadBoard>(options.backends.size());
  shared.engines = p->engine_loads.get();
  p->engine->monitor.SetEngineBoard(p->engine_loads.get());  // routing reads the engines too
  return p;
}

// Starts a built generation's background work: shared state, the prober, engine and fleet pollers
// on a thread of their own, the decision export.
void GatewayRuntime::Launch(Parts& p) {
  const Options& options = p.options;
  net::GatewayShared& shared = *p.shared;
  if (p.replicas) p.replicas->Start();
  if (p.shared_cache) p.shared_cache->Start();

  // Active health checks and snapshot publication on their own thread and io_context.
  p.probe_ioc = std::make_unique<net::asio::io_context>(1);
  p.probe_pools = std::make_unique<net::UpstreamPools>(*p.probe_ioc, clock_, options.backends);
  p.prober = std::make_unique<net::HealthProber>(*p.probe_ioc, *p.probe_pools, p.engine->monitor, clock_, shared.id_salt);
  BackendPool* pool = p.pool;
  p.prober->set_on_result([pool](int b, const net::HealthCheckResult& r, bool changed) {
    if (changed)
      std::fprintf(stderr, "mecrouter: backend %s health check %s%s%s\n", pool->at(b).name().c_str(), r.ok ? "passed" : "failed",
                   r.detail.empty() ? "" : ": ", r.detail.c_str());
  });
  p.prober->Start();
  // Engines' own load (docs/engines.md): polled on the same thread, off the request path.
  p.engine_pools = std::make_unique<net::UpstreamPools>(*p.probe_ioc, clock_, options.backends);
  p.engine_poller = std::make_unique<net::EnginePoller>(*p.probe_ioc, *p.engine_pools, *p.engine_loads, clock_);
  p.engine_poller->set_on_log([pool](int b, bool ok, const std::string& message) {
    std::fprintf(stderr, "mecrouter: backend %s engine %s: %s\n", pool->at(b).name().c_str(), ok ? "reachable" : "unreadable",
                 message.c_str());
  });
  p.engine_poller->Start();
  StartFleetPoller(p, shared);  // fleet.url: a regional gateway's state as priors, same thread
  net::asio::io_context* probe_ioc = p.probe_ioc.get();
  p.probe_thread = std::thread([probe_ioc] { probe_ioc->run(); });
  if (p.exporter) p.exporter->Start();
}

// Who may call (docs/security.md): API keys when auth.keys_db is set; off loopback, keys or an
// explicit server.allow_anonymous, the operator endpoints only with a token, /metrics with the
// token unless server.open_metrics.
Status GatewayRuntime::Guard(Parts& p, net::GatewayShared& shared) {
  const Options& options = p.options;
  const bool remote = !IsLoopbackListen(options.server.listen);
  if (!options.auth.keys_db.empty()) {
    char host[256] = "replica";
    gethostname(host, sizeof host - 1);
    p.keys = std::make_unique<KeyGuard>(options.auth, options.state, clock_, fmt::format("{}-{:x}", host, shared.id_salt));
    if (Status s = p.keys->Start(); !s.ok()) return s;
    shared.keys = p.keys.get();
  }
  if (remote && !p.keys && !options.server.allow_anonymous)
    return Status::InvalidArgument(fmt::format(
        "refusing to listen on {}, beyond this machine, without API keys: configure auth.keys_db (mecrouter keys create; "
        "docs/security.md), or set server.allow_anonymous: true if a proxy in front authenticates every caller",
        options.server.listen));
  if (remote && !p.keys)
    std::fprintf(stderr,
                 "mecrouter: WARNING: listening on %s, beyond this machine, with NO API KEYS (server.allow_anonymous): anyone who can\n"
                 "mecrouter: WARNING: connect may spend your backends' budget. Only run this behind a proxy that authenticates callers.\n",
                 options.server.listen.c_str());
  shared.admin_token = p.token;
  shared.admin_token_set = !p.token.empty();
  if (remote && p.token.empty()) {
    shared.operator_closed = true;
    std::fprintf(stderr,
                 "mecrouter: WARNING: listening on %s, beyond this machine, with NO TOKEN: /dashboard, /api/..., /admin/... and\n"
                 "mecrouter: WARNING: /v1/feedback are closed (403). Set dashboard.token_env to the name of an environment\n"
                 "mecrouter: WARNING: variable that holds a bearer token to open them (docs/security.md).\n",
                 options.server.listen.c_str());
  }
  shared.metrics_need_token = remote && !options.server.open_metrics;
  return Status::Ok();
}

// Fleet state (docs/fleet.md): with fleet.url, a regional gateway's learned state pulled as
// priors on the prober's io_context, off the request path.
void GatewayRuntime::StartFleetPoller(Parts& p, net::GatewayShared& shared) {
  if (p.options.fleet.url.empty()) return;
  p.fleet_poller = std::make_unique<net::FleetPoller>(*p.probe_ioc, p.options.fleet, *p.pool, p.engine->monitor, clock_,
                                                      p.engine->feedback.get());
  p.fleet_poller->set_on_log([](const std::string& line) { std::fprintf(stderr, "mecrouter: %s\n", line.c_str()); });
  shared.fleet = p.fleet_poller.get();
  p.fleet_poller->Start();
}

// fleet.token_env (docs/fleet.md): the publisher's token for GET /v1/fleet/state, and the puller's
// (read again by the poller); either way it must be set, or the gateway does not start.
Status GatewayRuntime::FleetToken(Parts& p, net::GatewayShared& shared) {
  const FleetOptions& f = p.options.fleet;
  if (!f.publish && f.url.empty()) return Status::Ok();
  const char* token = std::getenv(f.token_env.c_str());
  if (token == nullptr || *token == '\0')
    return Status::InvalidArgument("fleet.token_env: the environment variable " + f.token_env +
                                   " is not set or empty (it must hold the fleet state's bearer token)");
  if (f.publish) shared.fleet_token = token;
  return Status::Ok();
}

// The decision log's export to S3 (docs/telemetry.md "Export to S3"): `telemetry.decision_log.export`
// in the file, else the MECROUTER_EXPORT_* variables (the AWS CDK app sets them); a thread of its own,
// started once everything else runs.
Status GatewayRuntime::MakeDecisionExport(Parts& p) {
  DecisionLogOptions log = p.options.telemetry.decision_log;
  const aws::EnvLookup env = [](const char* name) -> const char* { return std::getenv(name); };
  const bool from_file = !log.exports.s3.empty();
  if (Status s = aws::ApplyExportEnvironment(log.exports, env); !s.ok()) return s;
  if (log.exports.s3.empty()) return Status::Ok();
  if (log.path.empty() && !from_file) {
    std::fprintf(stderr, "mecrouter: WARNING: MECROUTER_EXPORT_BUCKET is set but there is no decision log (telemetry.decision_log.path): nothing to export\n");
    return Status::Ok();
  }
  char host[256] = "replica";
  gethostname(host, sizeof host - 1);
  auto exporter = aws::DecisionExporter::Create(log, host, clock_, env, [](const std::string& line) {
    std::fprintf(stderr, "mecrouter: %s\n", line.c_str());
  });
  if (!exporter.ok()) return exporter.status();
  p.exporter = std::move(*exporter);
  return Status::Ok();
}

std::string GatewayRuntime::base_url() const { return (server_->tls() ? "https://" : "http://") + server_->address(); }

Status GatewayRuntime::ReloadTls() { return server_->ReloadTls(); }

std::string GatewayRuntime::dashboard_url() const {
  const Options& o = options();
  if (!o.dashboard.enabled) return "";
  return base_url() + "/dashboard" + (parts_->token.empty() ? "" : "?token=$" + o.dashboard.token_env);
}

void GatewayRuntime::PrintBanner(const std::vector<std::string>& extra) const {
  const Options& options = this->options();
  const std::string base = base_url();
  std::printf("mecrouter: listening on %s (%s; policy %s, complexity model %s)\n", base.c_str(), options.source.c_str(),
              options.routing.policy.c_str(), std::string(complexity_->Name()).c_str());
  for (const auto& line : extra) std::printf("  %s\n", line.c_str());
  for (const auto& b : parts_->pool->all())
    std::printf("  backend %-14s %-6s %s\n", b->name().c_str(), std::string(TierName(b->tier())).c_str(), b->options().url.c_str());
  if (options.dashboard.enabled)
    std::printf("  dashboard: %s%s\n", dashboard_url().c_str(),
                parts_->token.empty() ? "" : "  (bearer token required for /dashboard, /api, /admin, /v1/feedback)");
  const auto& tel = options.telemetry;
  std::printf("  telemetry: metrics %s, decision log %s, access log %s\n", tel.metrics ? ("at " + base + "/metrics").c_str() : "off",
              tel.decision_log.path.empty() ? "off" : tel.decision_log.path.c_str(),
              tel.access_log.path.empty() ? "off" : (tel.access_log.path == "-" ? "stderr" : tel.access_log.path.c_str()));
  if (parts_->exporter) std::printf("  decision log export: %s\n", parts_->exporter->Describe().c_str());
  std::printf("  cache: %s\n", options.cache.enabled ? fmt::format("in process, {} MiB, ttl {} s (temperature 0 or a seed; Cache-Control: no-cache bypasses)",
                                                                  options.cache.max_bytes >> 20, options.cache.ttl_ms / 1000).c_str() : "off");
  if (parts_->learning) {
    const auto& l = options.learning;
    std::printf("  learning: %.1f%% of eligible requests judged (reference %s, judge %s, cap $%g/day), refit every %d verdicts\n",
                100 * l.sample_rate, parts_->pool->at(parts_->learning->reference()).name().c_str(),
                parts_->pool->at(parts_->learning->judge()).name().c_str(), l.daily_cap_usd, l.retrain_every);
  }
  if (options.fleet.publish) std::printf("  fleet state: published at %s/v1/fleet/state (bearer token from $%s)\n", base.c_str(), options.fleet.token_env.c_str());
  if (parts_->fleet_poller)
    std::printf("  fleet state: pulled from %s every %g s as priors (stale after %g s)\n", options.fleet.url.c_str(), options.fleet.interval_s,
                options.fleet.stale_s);
  if (parts_->replicas)
    std::printf("  shared state: Redis %s (latency observations%s every %lld ms%s; %s)\n", MaskedRedisUrl(options.state).c_str(),
                options.state.share_ejections ? " and ejections" : "", static_cast<long long>(options.state.sync_ms),
                parts_->shared_cache ? "; response cache shared" : "",
                !options.state.redis_tls ? "plaintext" : options.state.tls_verify ? "TLS" : "TLS NOT VERIFIED");
}

Status GatewayRuntime::Reload(Options next, std::string* summary, std::string* note) {
  if (!running_) return Status::Unavailable("the gateway is not running");
  const Options& now = parts_->options;
  // The listener, its workers and limits stay as started (a new listen address or thread count
  // would need new sockets and threads); the TLS files are re-read by ReloadTls.
  note->clear();
  if (!(next.server == now.server))
    *note = "server: changes to this section take effect at restart (the listener, workers and limits stay as started)";
  if (next.routing.estimate_memo != now.routing.estimate_memo)
    *note += std::string(note->empty() ? "" : "; ") + "routing.estimate_memo: takes effect at restart";
  next.server = now.server;
  auto built = Build(next);
  if (!built.ok()) return built.status();  // the parts built so far stop as they are destroyed
  std::unique_ptr<Parts> p = std::move(*built);
  Launch(*p);
  CarryOver(*parts_, *p);
  // What changed, for the log line.
  std::vector<std::string> added, removed;
  for (const auto& b : p->options.backends)
    if (!TierOf(*parts_->pool, b.name)) added.push_back(b.name);
  for (const auto& b : now.backends)
    if (!TierOf(*p->pool, b.name)) removed.push_back(b.name);
  std::string changes;
  if (!added.empty()) changes = fmt::format("added {}", fmt::join(added, ", "));
  if (!removed.empty()) changes += fmt::format("{}removed {}", changes.empty() ? "" : "; ", fmt::join(removed, ", "));
  *summary = fmt::format("{} backends{}, policy {}{}", p->options.backends.size(), changes.empty() ? "" : " (" + changes + ")",
                         p->options.routing.policy,
                         p->options.routing.policy == now.routing.policy ? "" : " (was " + now.routing.policy + ")");
  auto old = std::make_unique<Retired>();
  old->handlers = server_->ReplaceHandlers(HandlersOn(p->shared.get()));
  old->parts = std::move(parts_);
  parts_ = std::move(p);
  ++generation_;
  // The old generation serves its requests in flight to the end, then stops (its logs' last rows
  // written, its prober and pollers stopped) and is freed.
  Retired* r = old.get();
  const std::string label = fmt::format("mecrouter: configuration {}: ", generation_ - 1);
  r->reaper = std::thread([this, r, label] {
    for (;;) {
      bool in_use = false;
      for (const auto& h : r->handlers) in_use = in_use || !h.expired();
      if (!in_use) {
        StopParts(*r->parts, label.c_str());
        r->parts.reset();
        return;
      }
      if (r->force.load()) {  // Shutdown: the server has stopped; coroutines left behind are freed with it
        StopParts(*r->parts, label.c_str());
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  retired_.push_back(std::move(old));
  return Status::Ok();
}

// What the old generation measured about each backend (latency estimates, ejections and their time
// left) becomes the new one's prior for the backend of the same name and tier, through the fleet
// state's own mapping (backend/fleet_priors.h): capped at 20 observations and for 5 minutes, so
// the new generation's own measurements take over. The apps' feedback is carried over whole.
void GatewayRuntime::CarryOver(const Parts& from, Parts& to) {
  const FleetState state = FleetStateFromSnapshot(from.engine->monitor.Current(), *from.pool, clock_.UnixMillis());
  FleetApplyOptions o;
  o.max_weight = 20;
  o.valid_for = std::chrono::minutes(5);
  o.down_for_unhealthy = std::chrono::seconds(5);
  ApplyFleetState(state, *to.pool, to.engine->monitor, o, clock_.Now());
  to.engine->monitor.Publish(clock_.Now());  // routing sees the priors at once
  // The feedback apps sent (POST /v1/feedback) stays with the backends of the same name and tier.
  if (from.engine->feedback && to.engine->feedback) {
    std::vector<QualityCount> kept;
    for (QualityCount& c : from.engine->feedback->List(std::numeric_limits<size_t>::max())) {
      const std::optional<Tier> was = TierOf(*from.pool, c.backend), is = TierOf(*to.pool, c.backend);
      if (was && was == is) kept.push_back(std::move(c));
    }
    to.engine->feedback->Seed(kept);
  }
}

void GatewayRuntime::StopParts(Parts& p, const char* label) {
  if (p.stopped) return;
  p.stopped = true;
  p.shared->draining = true;
  if (p.learning) {
    const net::LearningStats ls = p.learning->stats();
    p.learning->Stop();
    std::printf("%slearning: %lld verdicts stored, %lld promotions, judge spend $%.4f; live model %s\n", label,
                static_cast<long long>(ls.samples), static_cast<long long>(ls.promotions), ls.spend_usd, ls.model.c_str());
  }
  p.prober->Stop();
  p.engine_poller->Stop();
  if (p.fleet_poller) p.fleet_poller->Stop();
  if (p.keys) p.keys->Stop();  // after the server: no request reserves any more
  if (p.replicas) p.replicas->Stop();
  if (p.shared_cache) p.shared_cache->Stop();  // answers lookups still waiting, while their io_contexts exist
  p.probe_ioc->stop();
  p.probe_thread.join();
  p.telemetry->Close();  // writes every decision still queued
  if (const DecisionLog* log = p.telemetry->decision_log()) {
    const DecisionLogStats st = log->stats();
    std::printf("%sdecision log %s: %llu rows written, %llu dropped (queue full), %llu failed%s%s\n", label,
                p.options.telemetry.decision_log.path.c_str(), static_cast<unsigned long long>(st.written),
                static_cast<unsigned long long>(st.dropped), static_cast<unsigned long long>(st.failed),
                st.last_error.empty() ? "" : ": ", st.last_error.c_str());
  }
  if (p.exporter) {  // one last export of what the log got since the last one (bounded by the request timeouts)
    p.exporter->Stop();
    const aws::DecisionExportStats es = p.exporter->stats();
    std::printf("%sdecision export: %lld objects, %lld rows (through seq %lld), %lld rows lost to retention, %lld failed attempts%s%s\n",
                label, static_cast<long long>(es.objects), static_cast<long long>(es.rows), static_cast<long long>(es.watermark),
                static_cast<long long>(es.skipped), static_cast<long long>(es.failures), es.last_error.empty() ? "" : "; last error: ",
                es.last_error.c_str());
  }
  std::fflush(stdout);
}

void GatewayRuntime::Shutdown(std::chrono::milliseconds grace) {
  if (!running_) return;
  running_ = false;
  parts_->shared->draining = true;
  server_->Shutdown(grace);  // every generation's requests: finished, or out of time
  for (auto& r : retired_) {
    r->force = true;
    if (r->reaper.joinable()) r->reaper.join();
  }
  StopParts(*parts_, "mecrouter: ");
}

}  // namespace mec::cli
