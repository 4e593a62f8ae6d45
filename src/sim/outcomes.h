#pragma once
// The per-request dump of a simulation (`mecrouter simulate --outcomes FILE.csv`): one row per
// request and policy, with what the workload drew, the labels, what the engine predicted, what
// happened, and what each tier would have taken with nothing queued. scripts/sim_bounds.py reads
// it to decompose a policy's figures and to bound what any routing could reach (docs/simulator.md,
// "How far the issue 14 targets are").

#include <cstdint>
#include <ostream>
#include <vector>

#include "sim/simulator.h"

namespace mec::sim {

// One request on each tier with nothing queued, noise-free (jitter 1, the link's median round
// trip): a server's base + prefill, as TierModel::ExpectedPlan shapes it on an idle server. The
// noise the simulation adds is in the columns' sigmas (the jitter's, the link's), so a reader can
// draw it. The edge is the nearest site up at the arrival; a tier that is down (an outage, a
// coverage gap) is marked so.
struct IdleTiming {
  bool offline = false;           // a coverage gap at the arrival: only the device answers
  bool edge_up = true, cloud_up = true;
  float device_ttft_ms = 0, device_e2e_ms = 0;
  float edge_server_ttft_ms = 0, edge_e2e_ms = 0;   // edge_e2e_ms includes the median round trip
  float cloud_server_ttft_ms = 0, cloud_e2e_ms = 0;
  float edge_rtt_ms = 0, cloud_rtt_ms = 0;          // the link's median round trip (the nearest site up)
  float upload_ms = 0;
  double device_cost_usd = 0, edge_cost_usd = 0, cloud_cost_usd = 0;
};

// REQUIRES: in.requests sorted by arrival (as MakeWorkload draws them).
std::vector<IdleTiming> IdleTimings(const SimInputs& in, uint64_t seed);

// Writes the CSV: a header, then one row per request of every run (runs in order).
void WriteOutcomesCsv(std::ostream& out, const SimInputs& in, const std::vector<IdleTiming>& idle, const std::vector<PolicyRun>& runs);

}  // namespace mec::sim
