#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <random>

#include <fmt/format.h>

#include <map>
#include <thread>
#include <memory>

#include "backend/backend_monitor.h"
#include "backend/backend_pool.h"
#include "cli/commands.h"
#include "cli/embedded_stack.h"
#include "cli/flags.h"
#include "cli/signals.h"
#include "config/loader.h"
#include "net/gateway_handler.h"
#include "net/health_prober.h"
#include "context/context_builder.h"
#include "context/learned_complexity_model.h"
#include "dashboard/access_guard.h"
#include "dashboard/dashboard.h"
#include "learn/decision_registry.h"
#include "learn/output_tokens.h"
#include "learn/quality_feedback.h"
#include "route/policies.h"
#include "cache/response_cache.h"
#include "state/replica_sync.h"
#include "telemetry/telemetry.h"

namespace mec::cli {

int RunServe(int argc, char** argv) {
  Flags flags(argc, argv, {"config", "listen", "threads"});
  if (!flags.ok()) {
    std::fprintf(stderr, "mecrouter serve: %s\n", flags.error().c_str());
    return 2;
  }
  BlockTerminationSignals();  // before any thread starts, so sigwait below receives them
  SystemClock clock;
  EmbeddedStack demo(clock);
  Options options;
  if (auto path = flags.Get("config")) {
    auto o = LoadOptionsFromFile(*path);
    if (!o.ok()) {
      std::fprintf(stderr, "mecrouter serve: %s\n", o.status().message().c_str());
      return 1;
    }
    options = std::move(*o);
  } else {
    auto o = demo.Start(flags.Get("listen", "127.0.0.1:8080"));
    if (!o.ok()) {
      std::fprintf(stderr, "mecrouter serve: cannot start the embedded demo: %s\n", o.status().message().c_str());
      return 1;
    }
    options = std::move(*o);
  }
  if (auto l = flags.Get("listen")) options.server.listen = *l;
  if (auto t = flags.Get("threads")) options.server.threads = std::atoi(t->c_str());

  // The five parts: Resource (pool + monitor), Context (complexity model, output lengths),
  // Router (every policy), Monitor/learning (feedback, decision registry), Executor (per request).
  BackendPool pool(options.backends);
  BackendMonitor monitor(pool, clock.Now());
  std::unique_ptr<ComplexityModel> complexity = LoadDefaultComplexityModel();
  OutputTokenLearner output_tokens;
  QualityFeedback feedback;
  DecisionRegistry decisions;
  ContextDefaults defaults;
  defaults.min_quality = options.routing.default_min_quality;
  if (options.routing.default_deadline_ms > 0) defaults.deadline_ms = options.routing.default_deadline_ms;
  ContextBuilder context(*complexity, defaults, [&output_tokens](std::string_view task) { return output_tokens.Expected(task); });
  PolicyOptions popts;
  popts.deadline_target = options.routing.deadline_target;
  popts.hedge = options.routing.hedge;
  popts.hedge_threshold = options.routing.hedge_threshold;
  popts.auto_order = options.routing.auto_order;
  std::map<std::string, std::unique_ptr<Router>, std::less<>> policies;
  for (const auto& name : PolicyNames()) policies[name] = MakePolicy(name, popts);
  // Monitor: metrics, decision log (background writer), access log. Closed after the server drains.
  auto telemetry = Telemetry::Create(options.telemetry, pool, PolicyNames(), clock);
  if (!telemetry.ok()) {
    std::fprintf(stderr, "mecrouter serve: %s\n", telemetry.status().message().c_str());
    return 1;
  }
  net::GatewayShared shared{options, clock, pool, monitor, context, policies, nullptr, nullptr, output_tokens, feedback, decisions};
  shared.telemetry = telemetry->get();
  // Cache: answers of repeatable requests, in process (shared by every worker and policy).
  std::unique_ptr<ResponseCache> cache;
  if (options.cache.enabled) cache = std::make_unique<ResponseCache>(options.cache.max_bytes, FromMillis(static_cast<double>(options.cache.ttl_ms)), clock);
  shared.cache = cache.get();
  // Shared state: with `state: redis://...`, replicas exchange latency observations (off the
  // request path, on a thread of its own).
  std::unique_ptr<ReplicaSync> replicas;
  if (!options.state.redis_host.empty()) {
    char host[256] = "replica";
    gethostname(host, sizeof host - 1);
    replicas = std::make_unique<ReplicaSync>(options.state, pool, monitor, clock,
                                             fmt::format("{}-{}-{:08x}", host, static_cast<long>(getpid()), static_cast<uint32_t>(std::random_device{}())));
  }
  shared.replicas = replicas.get();
  shared.policy = policies.at(options.routing.policy).get();
  if (!options.routing.shadow_policy.empty()) shared.shadow = policies.at(options.routing.shadow_policy).get();
  shared.id_salt = std::random_device{}();
  // Dashboard: its page and JSON, live statistics fed with every finished request (through
  // telemetry), and the bearer token of the operator endpoints.
  const std::string& token_env = options.dashboard.token_env;
  auto token = TokenFromEnv(token_env, token_env.empty() ? nullptr : std::getenv(token_env.c_str()));
  if (!token.ok()) {
    std::fprintf(stderr, "mecrouter serve: %s\n", token.status().message().c_str());
    return 1;
  }
  Dashboard dashboard(options.dashboard, *token, pool, clock);
  (*telemetry)->set_outcome_observer(&dashboard.live_stats());
  shared.dashboard = &dashboard;
  if (token->empty() && !IsLoopbackListen(options.server.listen)) {
    std::fprintf(stderr,
                 "mecrouter: WARNING: listening on %s, beyond this machine, with NO TOKEN: /dashboard, /api/..., /admin/... and\n"
                 "mecrouter: WARNING: /v1/feedback are open to anyone who can connect. Set dashboard.token_env to the name of an\n"
                 "mecrouter: WARNING: environment variable that holds a bearer token (docs/dashboard.md).\n",
                 options.server.listen.c_str());
  }
  net::HttpServer server(options.server, [&shared](int worker, net::asio::io_context& ioc) {
    return std::make_shared<net::GatewayHandler>(shared, ioc, worker);
  });
  if (Status s = server.Listen(); !s.ok()) {
    std::fprintf(stderr, "mecrouter serve: %s\n", s.message().c_str());
    return 1;
  }
  server.Start();
  if (replicas) replicas->Start();

  // Active health checks and snapshot publication on their own thread and io_context.
  net::asio::io_context probe_ioc{1};
  net::UpstreamPools probe_pools(probe_ioc, clock, options.backends);
  net::HealthProber prober(probe_ioc, probe_pools, monitor, clock, shared.id_salt);
  prober.set_on_result([&pool](int b, const net::HealthCheckResult& r, bool changed) {
    if (changed)
      std::fprintf(stderr, "mecrouter: backend %s health check %s%s%s\n", pool.at(b).name().c_str(), r.ok ? "passed" : "failed",
                   r.detail.empty() ? "" : ": ", r.detail.c_str());
  });
  prober.Start();
  std::thread probe_thread([&probe_ioc] { probe_ioc.run(); });

  const std::string base = "http://" + server.address();
  std::printf("mecrouter: listening on %s (%s; policy %s, complexity model %s)\n", base.c_str(), options.source.c_str(),
              options.routing.policy.c_str(), std::string(complexity->Name()).c_str());
  for (const auto& line : demo.Describe()) std::printf("  %s\n", line.c_str());
  for (const auto& b : pool.all())
    std::printf("  backend %-14s %-6s %s\n", b->name().c_str(), std::string(TierName(b->tier())).c_str(), b->options().url.c_str());
  if (options.dashboard.enabled)
    std::printf("  dashboard: %s/dashboard%s\n", base.c_str(),
                token->empty() ? "" : ("?token=$" + token_env + "  (bearer token required for /dashboard, /api, /admin, /v1/feedback)").c_str());
  const auto& tel = options.telemetry;
  std::printf("  telemetry: metrics %s, decision log %s, access log %s\n", tel.metrics ? ("at " + base + "/metrics").c_str() : "off",
              tel.decision_log.path.empty() ? "off" : tel.decision_log.path.c_str(),
              tel.access_log.path.empty() ? "off" : (tel.access_log.path == "-" ? "stderr" : tel.access_log.path.c_str()));
  std::printf("  cache: %s\n", options.cache.enabled ? fmt::format("in process, {} MiB, ttl {} s (temperature 0 or a seed; Cache-Control: no-cache bypasses)",
                                                                  options.cache.max_bytes >> 20, options.cache.ttl_ms / 1000).c_str() : "off");
  if (replicas)
    std::printf("  shared state: Redis %s:%d (latency observations every %lld ms; plaintext, DESIGN.md section 7)\n",
                options.state.redis_host.c_str(), options.state.redis_port, static_cast<long long>(options.state.sync_ms));
  std::printf("\ntry:\n");
  std::printf("  curl -s %s/v1/chat/completions -H 'Content-Type: application/json' -d '{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello!\"}]}' -D -\n", base.c_str());
  std::printf("  curl -sN %s/v1/chat/completions -H 'Content-Type: application/json' -d '{\"model\":\"auto\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story\"}]}'\n", base.c_str());
  std::printf("  curl -s %s/v1/chat/completions -H 'Content-Type: application/json' -d '{\"model\":\"device\",\"messages\":[{\"role\":\"user\",\"content\":\"Is the road ahead clear?\"}]}' -D - -o /dev/null\n", base.c_str());
  std::printf("\nCtrl-C stops it (in-flight requests get %lld ms to finish).\n", static_cast<long long>(options.server.shutdown_grace_ms));
  std::fflush(stdout);

  int sig = WaitForTerminationSignal();
  std::printf("mecrouter: %s received, draining (grace %lld ms)\n", sig == SIGINT ? "SIGINT" : "SIGTERM",
              static_cast<long long>(options.server.shutdown_grace_ms));
  std::fflush(stdout);
  shared.draining = true;
  server.Shutdown(std::chrono::milliseconds(options.server.shutdown_grace_ms));
  prober.Stop();
  if (replicas) replicas->Stop();
  probe_ioc.stop();
  probe_thread.join();
  (*telemetry)->Close();  // writes every decision still queued
  if (const DecisionLog* log = (*telemetry)->decision_log()) {
    const DecisionLogStats st = log->stats();
    std::printf("mecrouter: decision log %s: %llu rows written, %llu dropped (queue full), %llu failed%s%s\n",
                options.telemetry.decision_log.path.c_str(), static_cast<unsigned long long>(st.written),
                static_cast<unsigned long long>(st.dropped), static_cast<unsigned long long>(st.failed),
                st.last_error.empty() ? "" : ": ", st.last_error.c_str());
  }
  demo.Stop();
  std::printf("mecrouter: stopped\n");
  return 0;
}

}  // namespace mec::cli
