// One routing decision over 3 tiers x 10 backends, for every policy (issue "The routing engine":
// adaptive under 5 us median). The snapshot and context are built once; each iteration is one
// Decide() as the gateway calls it, including the quality-feedback lookup (one per decision, through
// RouteEnv::quality_feedback; BM_DecideAdjustFn: per backend, through RouteEnv::adjust_quality).

#include <benchmark/benchmark.h>

#include <cmath>

#include "backend/backend_monitor.h"
#include "learn/quality_feedback.h"
#include "route/policies.h"

namespace mec {
namespace {

struct Fixture {
  Fixture() : pool(Options()), monitor(pool, TimePoint{}) {
    for (int i = 0; i < 30; ++i) {
      AttemptOutcome o;
      o.ttft_s = 0.05 + 0.02 * (i % 10);
      o.tpot_s = 0.01 + 0.001 * (i % 7);
      o.output_tokens = 50;
      monitor.OnAttemptEnd(i, o, TimePoint{} + std::chrono::milliseconds(10));
    }
    monitor.Publish(TimePoint{} + std::chrono::milliseconds(20));
    feedback.Observe("edge-3", "chat", 0.4);
    ctx.model = "auto";
    ctx.input_tokens = 300;
    ctx.output_tokens = 120;
    ctx.deadline_ms = 1500;
    ctx.min_quality = 0.8;
    ctx.task_class = "chat";
    ctx.tier_quality = {0.65, 0.84, 1.0};
    adjust = [this](int b, const std::string& task, double q) { return feedback.Adjusted(pool.at(b).name(), task, q); };
  }
  static std::vector<BackendOptions> Options() {
    std::vector<BackendOptions> v;
    for (int t = 0; t < 3; ++t) {
      for (int i = 0; i < 10; ++i) {
        BackendOptions b;
        b.tier = static_cast<Tier>(t);
        b.name = std::string(TierName(b.tier)) + "-" + std::to_string(i);
        b.url = "http://127.0.0.1:1/v1";
        b.models = {"m" + std::to_string(t)};
        b.max_concurrency = 8;
        b.context_window = 32768;
        b.expect = TierDefaultExpect(b.tier);
        if (t == 0) b.price.watts = 5, b.price.usd_per_kwh = 0.15;
        if (t == 1) b.price.gpu_per_hour = 1.006, b.price.gpu_tokens_per_second = 495;
        if (t == 2) b.price.input_per_1m = 2.5, b.price.output_per_1m = 10;
        v.push_back(b);
      }
    }
    return v;
  }
  BackendPool pool;
  BackendMonitor monitor;
  QualityFeedback feedback;
  RequestContext ctx;
  std::function<double(int, const std::string&, double)> adjust;
  Rng rng{7};
};

// The learned quality comes from the feedback table in one lookup per decision
// (RouteEnv::quality_feedback); `per_backend_fn` measures the older per-backend std::function
// (RouteEnv::adjust_quality) instead.
void Run(benchmark::State& state, const char* policy, bool per_backend_fn) {
  Fixture f;
  auto router = MakePolicy(policy, PolicyOptions{});
  RouteEnv env{f.pool, f.monitor.Current(), f.rng, TimePoint{}, &f.adjust};
  if (!per_backend_fn) env.quality_feedback = &f.feedback;
  for (auto _ : state) {
    auto d = router->Decide(f.ctx, env);
    benchmark::DoNotOptimize(d);
  }
}

void BM_Decide(benchmark::State& state, const char* policy) { Run(state, policy, false); }
void BM_DecideAdjustFn(benchmark::State& state, const char* policy) { Run(state, policy, true); }

BENCHMARK_CAPTURE(BM_Decide, adaptive_30_backends, "adaptive");
BENCHMARK_CAPTURE(BM_Decide, cloud_only_30_backends, "cloud-only");
BENCHMARK_CAPTURE(BM_Decide, least_latency_30_backends, "least-latency");
BENCHMARK_CAPTURE(BM_Decide, random_30_backends, "random");
BENCHMARK_CAPTURE(BM_DecideAdjustFn, adaptive_30_backends, "adaptive");

}  // namespace
}  // namespace mec
