#pragma once
// Per-policy metrics of a simulation run (issue 5) and their two renderings: the JSON of the
// issue (deterministic: same runs, same bytes) and a readable table.
//
// Utility per request: U = 1[answered, correct and within its deadline] - 0.5 x cost / (mean cost
// per request of cloud-only on the same run). Latency statistics are over completed requests;
// deadline attainment, availability and U are over all requests (a failed request misses).
// Time-critical: use cases with a deadline <= 3 s.

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/scenario.h"
#include "sim/simulator.h"
#include "sim/workload.h"

namespace mec::sim {

struct LatencySummary {
  double mean = 0, p50 = 0, p95 = 0, p99 = 0;
  int64_t n = 0;
};
// Nearest-rank percentiles; REQUIRES nothing (empty: zeros).
LatencySummary Summarize(std::vector<float> values_ms);

struct UseCaseMetrics {
  int64_t requests = 0;
  double deadline_attainment = 0;
  double as_good_share = 0;   // over answered requests: not (cloud correct and this answer wrong)
  double min_quality = 0;     // the use case's minimum (context/use_cases.cc)
  // The use case's quality contract: as_good_share >= min_quality. A use case with requests and
  // no answer breaks it; one without requests keeps it.
  bool contract_kept = true;
  LatencySummary e2e_ms;
};

struct PolicyMetrics {
  std::string policy;
  int64_t requests = 0, completed = 0, failed = 0;
  double availability = 0;
  LatencySummary ttft_ms, e2e_ms;
  double deadline_attainment = 0;
  LatencySummary tc_e2e_ms, tc_ttft_ms;
  double tc_deadline_attainment = 0;
  double quality = 0;          // accuracy of the answers against the labels (over answered requests)
  double cost_usd = 0, cost_per_1k_usd = 0;
  double utility = 0;          // mean U
  bool contract_kept = true;   // every use case's contract (UseCaseMetrics::contract_kept)
  std::array<double, 3> tier_share{0, 0, 0};  // device, edge, cloud: over answered requests
  int64_t fallbacks = 0;       // requests that needed at least one failover attempt
  int64_t continued = 0;       // requests whose stream was cut and continued elsewhere (docs/continuation.md)
  int64_t hedges = 0;          // hedge attempts started
  int64_t model_loads = 0;     // edge GPUs that loaded another model (PolicyRun)
  int64_t cold_waits = 0;      // edge attempts that waited for their model to load
  std::map<std::string, int64_t> failures;  // reason -> requests
  std::map<std::string, UseCaseMetrics> use_cases;
  // Mean U of each quarter of the requests in arrival order (does learning raise it over the run?).
  std::array<double, 4> utility_by_quarter{0, 0, 0, 0};
  // The online learning loop (PolicyRun; rendered only when it ran).
  int64_t learning_verdicts = 0;
  std::vector<std::pair<std::string, SimLearningStats>> learners;
  // Prefix caching at the edge (PolicyRun; rendered only when the scenario enables it).
  int64_t prefix_query_tokens = 0, prefix_hit_tokens = 0;
  LatencySummary edge_ttft_ms;  // TTFT of the requests answered at the edge (with prefix caching only)
  // A drift (the scenario's first outage with a slowdown): how the share of answers from that
  // site moved. Baseline: its share of the answers to arrivals in the 60 s before the window.
  // Shift: seconds from the window's start until the share over the last 5 s of arrivals is at
  // most half the baseline; return: seconds from its end until it is at least half again. NaN:
  // never (within the run). Rendered only for a scenario with a slowdown.
  bool drift = false;
  std::string drift_site;
  double drift_baseline_share = 0, drift_share_during = 0, drift_shift_s = 0, drift_return_s = 0;
};

// `cloud_mean_cost`: mean cost per request of cloud-only on the same run (U's normalizer).
PolicyMetrics ComputeMetrics(const PolicyRun& run, const Scenario& s, const std::vector<SimRequest>& requests, double cloud_mean_cost);

struct ReportHeader {
  std::string scenario;
  uint64_t seed = 0;
  std::string mode;            // "data" or "fallback"/"synthetic"
  int64_t requests = 0;
};

std::string MetricsJson(const ReportHeader& h, const std::vector<PolicyMetrics>& policies);
// One JSON object per line and request of `run`: policy, i (index), use_case, tier (device, edge,
// cloud or none), ttft_ms and e2e_ms (null unless answered), met, attempts, failure ("" or its
// reason), input_tokens, output_tokens (`simulate --outcomes`; `demo --json` writes the same keys).
std::string OutcomesJsonl(const PolicyRun& run, const Scenario& s, const std::vector<SimRequest>& requests);
std::string MetricsTable(const ReportHeader& h, const std::vector<PolicyMetrics>& policies);

}  // namespace mec::sim
