// Simulated requests per second of wall time on one core (issue 5: at least 100,000), for the
// `mixed` scenario with 1,000 clients. Setup (scenario, prompts, fleet, workload, the complexity
// model's score of every prompt) is done once; each iteration runs one policy over 20,000
// requests: context building, decisions, the executor, the world's events and the metrics inputs.
// Uses the held-out router_eval prompts when the data directory exists, else synthetic ones.

#include <benchmark/benchmark.h>

#include <memory>

#include "context/learned_complexity_model.h"
#include "core/rng.h"
#include "route/policies.h"
#include "sim/cached_complexity_model.h"
#include "sim/data_dir.h"
#include "sim/oracle_policy.h"
#include "sim/scenario.h"
#include "sim/simulator.h"
#include "sim/workload.h"

namespace mec::sim {
namespace {

constexpr int kRequests = 20000;

PromptSet Prompts() {
  if (auto dir = ResolveDataDir(""))
    if (auto p = LoadHeldOutPrompts(*dir); p.ok()) return *p;
  PromptSet p;
  p.mode = "synthetic";
  Rng r(7, "bench-prompts");
  for (int i = 0; i < 2000; ++i) {
    LabelledPromptItem it;
    it.id = "synthetic/" + std::to_string(i);
    it.text = "Question " + std::to_string(i) + ": " + std::string(static_cast<size_t>(200 + r.Below(800)), 'x');
    it.edge_correct = r.Bernoulli(0.68);
    it.cloud_correct = r.Bernoulli(0.81);
    p.items.push_back(std::move(it));
  }
  return p;
}

struct Setup {
  Setup() {
    auto file = FindScenarioFile("mixed", "");
    auto s = LoadScenarioFile(file.ok() ? *file : "scenarios/mixed.yaml");
    if (!s.ok()) throw std::runtime_error(s.status().message());
    scenario = std::make_unique<Scenario>(*s);
    prompts = Prompts();
    model = LoadDefaultComplexityModel();
    cached = std::make_unique<CachedComplexityModel>(*model);
    for (const auto& p : prompts.items) cached->WeakAsGoodProbability(p.text);  // once per prompt
    fleet = MakeFleet(*scenario, 1);
    requests = MakeWorkload(*scenario, fleet, prompts, kRequests, 1);
    parsed = MakeParsedPrompts(prompts);
  }
  std::unique_ptr<Scenario> scenario;
  PromptSet prompts;
  std::unique_ptr<ComplexityModel> model;
  std::unique_ptr<CachedComplexityModel> cached;
  std::vector<ClientSpec> fleet;
  std::vector<SimRequest> requests;
  std::vector<ParsedRequest> parsed;
};

Setup& Shared() {
  static Setup s;
  return s;
}

void BM_Simulate(benchmark::State& state, const char* policy) {
  Setup& s = Shared();
  PolicyOptions po;
  po.hedge = s.scenario->hedge;
  std::unique_ptr<Router> router = std::string(policy) == "oracle" ? std::unique_ptr<Router>(new OraclePolicy()) : MakePolicy(policy, po);
  SimInputs in{*s.scenario, s.fleet, s.requests, s.prompts, *s.cached, &s.parsed};
  uint64_t events = 0;
  for (auto _ : state) {
    PolicyRun run = RunPolicy(in, *router, 1);
    events += run.events;
    benchmark::DoNotOptimize(run.outcomes.data());
  }
  state.counters["requests_per_s"] = benchmark::Counter(static_cast<double>(kRequests) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["events_per_request"] = static_cast<double>(events) / (static_cast<double>(kRequests) * state.iterations());
}

BENCHMARK_CAPTURE(BM_Simulate, adaptive, "adaptive")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Simulate, cloud_only, "cloud-only")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Simulate, least_latency, "least-latency")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Simulate, oracle, "oracle")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace mec::sim
