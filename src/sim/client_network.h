#pragma once
// One client's network (issue 5): round trips to its home edge site, the other sites and the cloud
// drawn per attempt from its link type's lognormal, upload time from the link's bandwidth, a
// retransmission timeout with the link's loss probability, and for mobile clients handovers (a
// Poisson process whose interruption delays an attempt in flight) and coverage gaps (alternating
// covered / uncovered periods with exponential lengths, during which nothing is reachable).
//
// The coverage timeline comes from its own stream (seed, "client/<i>/coverage") and is generated in
// order, so it is the same whatever the policy does; per-attempt draws use (seed, "client/<i>/net").
// Queries must come in non-decreasing time (the simulation's present).
// Thread-safety: none.

#include <cstdint>

#include "core/clock.h"
#include "core/rng.h"
#include "sim/scenario.h"

namespace mec::sim {

class ClientNetwork {
 public:
  ClientNetwork(const LinkSpec& link, const DeviceClassSpec& device, uint64_t seed, uint32_t client);

  const LinkSpec& link() const { return *link_; }
  // True while a coverage gap lasts at `t`.
  bool Offline(TimePoint t);
  // The start of the next coverage gap at or after `t` (TimePoint::max() without gaps).
  TimePoint NextGapStart(TimePoint t);

  // One attempt's round trip (seconds) to the cloud or an edge site (`extra_ms` for a site that is
  // not the client's home).
  double DrawRttS(bool cloud, double extra_ms);
  // Seconds to upload `input_tokens` (ASSUMPTION: 4 bytes per token on the wire).
  double UploadS(int64_t input_tokens) const;
  // Extra delay of one attempt from loss (one retransmission timeout, with the link's probability).
  double DrawLossDelayS();
  // Extra delay from a handover during an attempt whose first byte takes `window_s`: with a
  // Poisson handover rate, P(at least one) = 1 - exp(-window / interval); the interruption is
  // uniform in [min, max] ms. 0 for clients without handovers.
  double DrawHandoverDelayS(double window_s);

 private:
  void AdvanceTo(TimePoint t);

  const LinkSpec* link_;
  const DeviceClassSpec* device_;
  Rng net_;
  Rng coverage_;
  // The current or next gap [gap_start_, gap_end_).
  TimePoint gap_start_ = TimePoint::max(), gap_end_ = TimePoint::max();
};

}  // namespace mec::sim
