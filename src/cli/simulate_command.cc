// `mecrouter simulate`: the discrete-event simulator (issue 5, docs/simulator.md) — the real
// routing engine under a simulated clock, every policy on the same requests, the headline table
// and the JSON.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"
#include "context/learned_complexity_model.h"
#include "route/policies.h"
#include "sim/cached_complexity_model.h"
#include "sim/data_dir.h"
#include "sim/fallback_prompts.h"
#include "sim/html_report.h"
#include "sim/metrics.h"
#include "sim/oracle_policy.h"
#include "sim/outcomes.h"
#include "sim/scenario.h"
#include "sim/simulator.h"
#include "sim/targets.h"
#include "sim/trace_reader.h"
#include "sim/workload.h"

namespace mec::cli {
namespace {

constexpr const char* kSimulateUsage =
    "usage: mecrouter simulate --scenario NAME|FILE [--policy P,...|all] [--requests N] [--rate R] [--seed S]\n"
    "                          [--trace FILE [--time-scale X]] [--no-outages] [--json FILE] [--outcomes FILE.jsonl|FILE.csv]\n"
    "                          [--report FILE.html]\n"
    "                          [--data DIR] [--learning on|off] [--learning-rate X] [--engine-signals on|off]\n"
    "                          [--prefix-affinity on|off] [--edge-kv-tokens N] [--fleet on|off]\n"
    "  NAME: a file in scenarios/ (e.g. mixed); policies: every gateway policy and oracle (default all).\n"
    "  The data directory: --data, else $MECROUTER_DATA, else ../shared/data.\n"
    "  Without a data directory, prompts come from scenarios/fallback_prompts.csv (mode \"fallback\"); regenerate it\n"
    "  with: mecrouter simulate --fit-fallback scenarios/fallback_prompts.csv [--data DIR]\n"
    "  --trace: arrivals and token counts from an Azure LLM trace (.csv) or a Mooncake trace (.jsonl), replayed\n"
    "  --time-scale times faster, through the scenario's fleet (use cases, clients and prompts drawn as usual).\n"
    "  --learning: the online learning loop (the scenario's `learning:` block; docs/learning.md) on or off,\n"
    "  --learning-rate: its sample rate (and turns it on); the judge is the data's labels.\n"
    "  --rate: arrivals per second instead of the scenario's (as `mecrouter demo --rate`).\n"
    "  --engine-signals: the edge sites' engines polled for their queues (the scenario's `engine_signals:`\n"
    "  block; docs/engines.md) on or off.\n"
    "  --prefix-affinity: with the scenario's `prefix_cache:` (a Mooncake trace's blocks), the clients route by\n"
    "  where they sent each prefix (docs/simulator.md \"Prefix reuse\") or not.\n"
    "  --edge-kv-tokens: every edge GPU's KV cache in tokens instead of its profile's (e.g. HBM plus a CPU\n"
    "  offload tier), for the prefix cache.\n"
    "  --fleet: the clients take a regional gateway's fleet state as priors every `fleet.interval_s` (the\n"
    "  scenario's `fleet:` block; docs/fleet.md) or not.\n"
    "  --outcomes FILE.jsonl: one JSON line per request and policy (tier, TTFT, latency, deadline met), as in\n"
    "  `mecrouter demo --json`; FILE.csv: one CSV row per request and policy (labels, predictions, what happened,\n"
    "  each tier's idle timing), which scripts/sim_bounds.py reads.\n";

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// --fit-fallback FILE: the data-absent fallback's parameter file, fitted from the held-out prompts.
int FitFallbackFile(const Flags& flags) {
  auto dir = sim::ResolveDataDir(flags.Get("data", ""));
  if (!dir) {
    std::fprintf(stderr, "mecrouter simulate --fit-fallback: needs the data directory (--data, $MECROUTER_DATA or ../shared/data)\n");
    return 2;
  }
  auto prompts = sim::LoadHeldOutPrompts(*dir);
  if (!prompts.ok()) {
    std::fprintf(stderr, "mecrouter simulate: %s\n", prompts.status().message().c_str());
    return 2;
  }
  std::unique_ptr<ComplexityModel> model = LoadDefaultComplexityModel();
  const std::string csv = sim::FallbackCsv(sim::FitFallback(*prompts, *model));
  std::ofstream out(*flags.Get("fit-fallback"), std::ios::binary);
  out << csv;
  if (!out) {
    std::fprintf(stderr, "mecrouter simulate: cannot write %s\n", flags.Get("fit-fallback")->c_str());
    return 1;
  }
  std::fprintf(stderr, "wrote %s from %zu held-out prompts\n", flags.Get("fit-fallback")->c_str(), prompts->items.size());
  return 0;
}

}  // namespace

int RunSimulate(int argc, char** argv) {
  Flags flags(argc, argv, {"scenario", "policy", "requests", "seed", "json", "data", "trace", "time-scale", "report", "fit-fallback",
                                 "learning", "learning-rate", "rate", "outcomes", "engine-signals",
                                 "prefix-affinity", "edge-kv-tokens", "fleet"});
  if (flags.ok() && flags.Has("fit-fallback")) return FitFallbackFile(flags);
  if (!flags.ok() || !flags.Has("scenario")) {
    std::fprintf(stderr, "%s%s%s", flags.ok() ? "" : flags.error().c_str(), flags.ok() ? "" : "\n", kSimulateUsage);
    return 2;
  }
  std::error_code ec;
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  auto file = sim::FindScenarioFile(flags.Get("scenario", ""), exe);
  if (!file.ok()) {
    std::fprintf(stderr, "mecrouter simulate: %s\n", file.status().message().c_str());
    return 2;
  }
  auto scenario_or = sim::LoadScenarioFile(*file);
  if (!scenario_or.ok()) {
    std::fprintf(stderr, "mecrouter simulate: %s\n", scenario_or.status().message().c_str());
    return 2;
  }
  sim::Scenario scenario = std::move(*scenario_or);
  uint64_t seed = 1;
  try {
    if (flags.Has("requests")) scenario.requests = std::stoll(*flags.Get("requests"));
    if (flags.Has("seed")) seed = std::stoull(*flags.Get("seed"));
    if (flags.Has("rate")) scenario.rate_per_s = std::stod(*flags.Get("rate"));
  } catch (const std::exception&) {
    std::fprintf(stderr, "mecrouter simulate: --requests and --seed take integers, --rate a number\n");
    return 2;
  }
  if (!(scenario.rate_per_s > 0 && scenario.rate_per_s <= 1e6)) {
    std::fprintf(stderr, "mecrouter simulate: --rate takes requests/s in (0, 1000000]\n");
    return 2;
  }
  if (flags.Has("learning")) {
    const std::string v = flags.Get("learning", "");
    if (v != "on" && v != "off") {
      std::fprintf(stderr, "mecrouter simulate: --learning takes on or off\n");
      return 2;
    }
    scenario.learning.enabled = v == "on";
  }
  if (flags.Has("engine-signals")) {
    const std::string v = flags.Get("engine-signals", "");
    if (v != "on" && v != "off") {
      std::fprintf(stderr, "mecrouter simulate: --engine-signals takes on or off\n");
      return 2;
    }
    scenario.engine_signals.enabled = v == "on";
  }
  if (flags.Has("prefix-affinity")) {
    const std::string v = flags.Get("prefix-affinity", "");
    if (v != "on" && v != "off") {
      std::fprintf(stderr, "mecrouter simulate: --prefix-affinity takes on or off\n");
      return 2;
    }
    scenario.prefix_cache.affinity = v == "on";
  }
  if (flags.Has("fleet")) {
    const std::string v = flags.Get("fleet", "");
    if (v != "on" && v != "off") {
      std::fprintf(stderr, "mecrouter simulate: --fleet takes on or off\n");
      return 2;
    }
    scenario.fleet.enabled = v == "on";
  }
  if (flags.Has("edge-kv-tokens")) {
    const std::string v = flags.Get("edge-kv-tokens", "");
    char* end = nullptr;
    const long long n = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < 1 || n > (1ll << 40)) {
      std::fprintf(stderr, "mecrouter simulate: --edge-kv-tokens takes a number of tokens >= 1\n");
      return 2;
    }
    for (auto& e : scenario.edge_sites) e.profile.kv_capacity_tokens = n;
  }
  if (flags.Has("learning-rate")) {
    char* end = nullptr;
    const std::string v = flags.Get("learning-rate", "");
    const double rate = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !(rate > 0 && rate <= 1)) {
      std::fprintf(stderr, "mecrouter simulate: --learning-rate takes a share in (0, 1]\n");
      return 2;
    }
    scenario.learning.sample_rate = rate;
    scenario.learning.enabled = true;
  }
  if (flags.Has("no-outages")) {
    scenario.outages.clear();
    scenario.name += "-no-outages";
  }
  if (scenario.requests < 1) {
    std::fprintf(stderr, "mecrouter simulate: --requests must be >= 1\n");
    return 2;
  }

  // Policies: the gateway's, plus the oracle; cloud-only always runs (U's cost normalizer).
  std::vector<std::string> names;
  const std::string pol = flags.Get("policy", "all");
  if (pol == "all") {
    names = PolicyNames();
    names.push_back("oracle");
  } else {
    names = SplitComma(pol);
  }
  PolicyOptions po;
  po.deadline_target = scenario.deadline_target;
  po.shed_below = scenario.shed_below;
  po.spread = scenario.spread;
  po.hedge = scenario.hedge;
  po.hedge_threshold = scenario.hedge_threshold;
  po.min_quality_per_request = scenario.min_quality_per_request;
  std::vector<std::unique_ptr<Router>> routers;
  bool has_cloud_only = false;
  for (const auto& n : names) {
    if (n == "oracle") {
      routers.push_back(std::make_unique<sim::OraclePolicy>());
      continue;
    }
    auto r = MakePolicy(n, po);
    if (!r) {
      std::string known;
      for (const auto& k : PolicyNames()) known += k + ", ";
      std::fprintf(stderr, "mecrouter simulate: unknown policy '%s' (known: %soracle, all)\n", n.c_str(), known.c_str());
      return 2;
    }
    has_cloud_only |= n == "cloud-only";
    routers.push_back(std::move(r));
  }
  if (!has_cloud_only) routers.push_back(MakePolicy("cloud-only", po));

  // Data: the held-out labelled prompts, or without the data directory the fitted fallback.
  std::shared_ptr<const ComplexityModel> model = LoadDefaultComplexityModel();
  sim::CachedComplexityModel cached(*model);
  std::string data_desc;
  auto prompts = sim::LoadPromptsOrFallback(flags.Get("data", ""), exe, seed, cached, &data_desc);
  if (!prompts.ok()) {
    std::fprintf(stderr, "mecrouter simulate: %s\n", prompts.status().message().c_str());
    return 2;
  }
  std::vector<sim::TraceRow> trace;
  if (flags.Has("trace")) {
    double scale = 1;
    try {
      scale = std::stod(flags.Get("time-scale", "1"));
    } catch (const std::exception&) {
      scale = -1;
    }
    auto t = sim::LoadTrace(*flags.Get("trace"), scale);
    if (!t.ok()) {
      std::fprintf(stderr, "mecrouter simulate: %s\n", t.status().message().c_str());
      return 2;
    }
    trace = std::move(*t);
    if (!flags.Has("requests")) scenario.requests = static_cast<int64_t>(trace.size());
    scenario.requests = std::min<int64_t>(scenario.requests, static_cast<int64_t>(trace.size()));
    // Outage windows are fractions of the replayed span.
    const double span = trace[static_cast<size_t>(scenario.requests - 1)].arrival_s;
    if (span > 0) scenario.rate_per_s = static_cast<double>(scenario.requests) / span;
    scenario.name += "+trace:" + std::filesystem::path(*flags.Get("trace")).filename().string();
  }
  const auto fleet = sim::MakeFleet(scenario, seed);
  const auto requests = trace.empty() ? sim::MakeWorkload(scenario, fleet, *prompts, scenario.requests, seed)
                                      : sim::MakeWorkloadFromTrace(scenario, fleet, *prompts, trace, scenario.requests, seed);
  const auto parsed = sim::MakeParsedPrompts(*prompts);
  sim::SimInputs in{scenario, fleet, requests, *prompts, cached, &parsed, model};
  std::fprintf(stderr, "simulate: scenario %s (%s), %lld requests, %zu clients, %zu labelled prompts (%s), seed %llu\n",
               scenario.name.c_str(), file->c_str(), static_cast<long long>(scenario.requests), fleet.size(), prompts->items.size(),
               data_desc.c_str(), static_cast<unsigned long long>(seed));

  std::vector<sim::PolicyRun> runs;
  double wall_total = 0;
  uint64_t simulated_requests = 0;
  SystemClock wall_clock;  // only to report how fast the simulation ran; simulated time is the engine's
  for (const auto& r : routers) {
    const TimePoint t0 = wall_clock.Now();
    runs.push_back(sim::RunPolicy(in, *r, seed));
    const double wall = ToSeconds(wall_clock.Now() - t0);
    wall_total += wall;
    simulated_requests += requests.size();
    std::fprintf(stderr, "  %-14s %6.2f s wall, %8.0f simulated requests/s, %llu events\n", std::string(r->name()).c_str(), wall,
                 static_cast<double>(requests.size()) / wall, static_cast<unsigned long long>(runs.back().events));
  }
  double cloud_mean = 0;
  for (const auto& run : runs) {
    if (run.policy != "cloud-only") continue;
    double sum = 0;
    for (const auto& o : run.outcomes) sum += o.cost_usd;
    cloud_mean = sum / static_cast<double>(std::max<size_t>(1, run.outcomes.size()));
  }
  std::vector<sim::PolicyMetrics> metrics;
  for (const auto& run : runs) metrics.push_back(sim::ComputeMetrics(run, scenario, requests, cloud_mean));
  sim::ReportHeader h{scenario.name, seed, prompts->mode, scenario.requests};
  std::fputs(sim::MetricsTable(h, metrics).c_str(), stdout);
  // The targets are defined on `mixed` (and its trace replays); other fleets have none.
  const auto targets = scenario.name.rfind("mixed", 0) == 0 ? sim::EvaluateTargets(metrics, scenario) : std::vector<sim::TargetResult>{};
  std::fputs(sim::TargetsTable(targets).c_str(), stdout);
  if (flags.Has("report")) {
    std::ofstream out(*flags.Get("report"), std::ios::binary);
    out << sim::HtmlReport({h, scenario, requests, runs, metrics, targets});
    if (!out) {
      std::fprintf(stderr, "mecrouter simulate: cannot write %s\n", flags.Get("report")->c_str());
      return 1;
    }
  }
  std::fprintf(stdout, "speed: %.0f simulated requests/s over all policies (%.1f s wall)\n", simulated_requests / wall_total, wall_total);
  if (flags.Has("json")) {
    std::ofstream out(*flags.Get("json"), std::ios::binary);
    out << sim::MetricsJson(h, metrics);
    if (!out) {
      std::fprintf(stderr, "mecrouter simulate: cannot write %s\n", flags.Get("json")->c_str());
      return 1;
    }
  }
  if (flags.Has("outcomes")) {
    std::ofstream out(*flags.Get("outcomes"), std::ios::binary);
    const std::string path = *flags.Get("outcomes");  // a copy: Get() returns a value
    if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0) sim::WriteOutcomesCsv(out, in, sim::IdleTimings(in, seed), runs);
    else
      for (const auto& run : runs) out << sim::OutcomesJsonl(run, scenario, requests);
    if (!out) {
      std::fprintf(stderr, "mecrouter simulate: cannot write %s\n", flags.Get("outcomes")->c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace mec::cli
