#pragma once
// The discrete-event simulator (issue 5, DESIGN.md §3): the real routing engine — ContextBuilder,
// BackendPool/BackendMonitor (estimators, outlier detection), a route/ policy, the FailoverMachine's
// failover and hedging state machine, the output-token learner — one engine per client, as in
// the client-side deployment, driven by a simulated clock (a ManualClock set from the event queue)
// instead of sockets. Only the world around it is modelled: each client's device and links
// (sim/client_network.h) and the servers, whose timing is the one tier model (emulate/tier_model.h).
//
// The flow per request mirrors net/gateway_handler.cc's Proxy(): build the context, decide
// (publishing the snapshot first if it is older than the gateway's publish interval), shed or
// give up as it does, then run the executor: AdmitAttempt before each attempt (OnSkipped if
// ejected), OnFailureOf / OnFirstByteFrom / OnHedgeTimer as simulated events arrive, each
// attempt's outcome fed to BackendMonitor::OnAttemptEnd (Publish at once when health changed) and
// answer lengths to the OutputTokenLearner.
//
// Deterministic: same inputs and seed, same outcomes (one thread, seeded streams per component,
// ties in the event queue broken by insertion order).

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "api/request.h"
#include "context/complexity_model.h"
#include "route/router.h"
#include "sim/scenario.h"
#include "sim/sim_learner.h"
#include "sim/workload.h"

namespace mec::sim {

struct SimInputs {
  const Scenario& scenario;
  const std::vector<ClientSpec>& fleet;
  const std::vector<SimRequest>& requests;
  const PromptSet& prompts;
  const ComplexityModel& complexity;  // wrap in CachedComplexityModel for speed
  // Optional: the prompts as the gateway would parse them (MakeParsedPrompts), shared by runs so
  // that the complexity cache sees the same buffers; null: each run builds its own.
  const std::vector<ParsedRequest>* parsed = nullptr;
  // The shipped model itself (not a cache of it), which the online learning loop adapts when the
  // scenario's `learning.enabled` is set (sim/sim_learner.h); null: no learning whatever the scenario.
  std::shared_ptr<const ComplexityModel> learning_base = nullptr;
};

// One request per prompt as a client sends it: one user message, model "auto", streamed.
std::vector<ParsedRequest> MakeParsedPrompts(const PromptSet& prompts);

enum class FailureReason : uint8_t { kNone, kNoBackend, kShed, kGaveUp, kDeadline, kRateLimited, kMidstream };
const char* FailureReasonName(FailureReason r);

// What happened to one request under one policy.
struct RequestOutcome {
  bool completed = false;
  int8_t tier = -1;            // the tier that answered (Tier as int), -1 if none
  int8_t site = -1;            // the edge site that answered (Scenario::edge_sites index), -1 if none
  bool correct = false;        // that tier's answer is correct (labels)
  bool as_good = false;        // not (cloud correct and this answer wrong)
  bool met_deadline = false;   // completed within its deadline and TTFT deadline (no deadline: completed)
  FailureReason failure = FailureReason::kNone;
  uint8_t attempts = 0, hedges = 0, failovers = 0;
  uint8_t continued = 0;       // times its stream was cut and continued on another backend
  float ttft_ms = 0, e2e_ms = 0;  // from arrival (completed requests)
  double cost_usd = 0;         // every attempt's cost (device energy, edge GPU time, cloud tokens)
  // What the engine predicted: the context's quality of each tier (device, edge, cloud) and that
  // of the backend it chose first (the per-request dump, --outcomes).
  std::array<float, 3> tier_quality{0, 0, 0};
  float chosen_quality = 0;
  // The decision's P(meet the deadline) of each tier's best backend (-1: none passed the filters)
  // and the minimum quality it held the candidates to (the class's bar, or the request's floor).
  std::array<float, 3> p_meet{-1, -1, -1};
  float quality_bar = 0;
  // The attempt that gave the first byte: sent this long after the arrival (later than 0 after a
  // failover or for a hedge), and waited this long at its server for a slot (a queue, a model load).
  float answer_sent_ms = 0, slot_wait_ms = 0;
};

struct PolicyRun {
  std::string policy;
  std::vector<RequestOutcome> outcomes;  // indexed like SimInputs::requests
  uint64_t events = 0;
  double simulated_s = 0;
  int64_t model_loads = 0;   // edge GPUs that loaded another model (placement moves and cold requests)
  int64_t cold_waits = 0;    // edge attempts that found their model on no warm GPU and waited for a load
  // The online learning loop (empty when off): verdicts drawn, and each device class's learner.
  int64_t learning_verdicts = 0;
  std::vector<std::pair<std::string, SimLearningStats>> learners;
  // Prefix caching (scenario prefix_cache): prompt tokens the edge engines looked up, and found.
  int64_t prefix_query_tokens = 0, prefix_hit_tokens = 0;
};

// Mean cost per request of sending every request to the cloud at list price (the oracle's
// reference; the utility uses cloud-only's measured mean).
double CloudReferenceCost(const SimInputs& in);

// Runs every request of `in` under `policy` (an OraclePolicy is given the truth of each request).
PolicyRun RunPolicy(const SimInputs& in, const Router& policy, uint64_t seed);

}  // namespace mec::sim
