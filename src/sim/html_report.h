#pragma once
// `mecrouter simulate --report FILE.html`: one self-contained page (inline SVG, no scripts or
// external assets) with the headline table, the targets, end-to-end latency CDFs per
// policy, cost against quality per policy, and adaptive's tier split over time with the outage
// windows marked.

#include <string>
#include <vector>

#include "sim/metrics.h"
#include "sim/simulator.h"
#include "sim/targets.h"

namespace mec::sim {

struct ReportInputs {
  const ReportHeader& header;
  const Scenario& scenario;
  const std::vector<SimRequest>& requests;
  const std::vector<PolicyRun>& runs;          // same order as metrics
  const std::vector<PolicyMetrics>& metrics;
  const std::vector<TargetResult>& targets;
};

std::string HtmlReport(const ReportInputs& in);

}  // namespace mec::sim
