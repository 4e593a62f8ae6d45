#pragma once
// What `mecrouter demo` measured: one outcome per request, the per-use-case figures of its summary,
// and its JSON (`--json FILE`). The JSON has the per-use-case fields of `mecrouter simulate --json`
// (requests, deadline_attainment, e2e_ms, computed with the simulator's own percentiles) and one
// line per request in the shape of `simulate --outcomes`, so that the live run and the simulation
// of the same workload can be put side by side (tests/node/integration/agree.test.mjs,
// docs/simulator.md "The simulator and the live gateway").

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/metrics.h"
#include "sim/scenario.h"

namespace mec::cli {

// What became of one request. Exactly one of answered / error.
struct DemoOutcome {
  size_t index = 0;      // in the plan (= the simulator's request index for the same workload)
  double sent_s = 0;
  double latency_ms = 0;
  double ttft_ms = -1;   // to the first bytes of the stream; -1: none came
  int use_case = 0;      // index into Scenario::use_cases
  bool answered = false;
  bool met_deadline = false;  // answered within the deadline and the TTFT deadline (the simulator's rule)
  std::string tier = "none";  // X-MEC-Tier, or "none" when the reply had none
  int attempts = 0;           // X-MEC-Attempts
  bool hedged = false;        // X-MEC-Hedged: one of the attempts was a hedge (at most one is)
  // Attempts after a failed one: the attempts but the first and the hedge.
  int failovers() const { return std::max(0, attempts - 1 - (hedged ? 1 : 0)); }
  std::string error;          // one line: "HTTP 503 no_backend" or "no response: read: timed out"
  int64_t input_tokens = 0, output_tokens = 0;  // the workload's drawn sizes
};

struct DemoUseCase {
  std::string key;
  size_t requests = 0, answered = 0, met = 0;
  double deadline_ms = 60000;
  std::optional<double> ttft_deadline_ms;
  sim::LatencySummary e2e_ms, ttft_ms;  // over answered requests
  size_t device = 0, edge = 0, cloud = 0;  // answers by tier
  double attainment() const { return requests ? static_cast<double>(met) / static_cast<double>(requests) : 0.0; }
};

// One entry per use case of the scenario, in its order (use cases without requests included).
std::vector<DemoUseCase> SummarizeUseCases(const sim::Scenario& s, const std::vector<DemoOutcome>& outcomes);

struct DemoRunInfo {
  std::string scenario, mode;
  uint64_t seed = 0;
  double rate_per_s = 0, duration_s = 0;
  bool outage = false;
};

// The JSON of `--json FILE` (outcomes in plan order).
std::string DemoJson(const DemoRunInfo& info, const sim::Scenario& s, std::vector<DemoOutcome> outcomes);

}  // namespace mec::cli
