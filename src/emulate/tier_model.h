#pragma once
// One tier's latency, capacity and failure model, driven by the caller's clock and with no I/O
// (DESIGN.md §3, "One tier model"). The emulator wraps it in HTTP; the simulator calls it directly.
//
//   TTFT = rtt + queue wait + base + input tokens / prefill rate     (x slowdown, x lognormal jitter)
//   then one token every (1 / decode rate) x (1 + k x (active streams - 1)) x slowdown
//
// Requests take one of max_concurrency slots (of the least-busy GPU when the profile has several:
// active streams, and so the batch slowdown, count per GPU); the rest wait in a FIFO queue
// (bounded: 429 past it) and start when a slot is released. Queue wait is therefore emergent, not drawn.
// Thread-safety: none; the owner serializes calls.

#include <cstdint>
#include <deque>
#include <vector>

#include "core/clock.h"
#include "core/rng.h"
#include "emulate/tier_profile.h"

namespace mec {

// What one request will experience once it has a slot.
struct ServicePlan {
  Duration ttft{0};           // from the moment it got a slot to the first token (includes rtt)
  Duration per_token{0};      // between consecutive tokens
  int64_t output_tokens = 0;  // tokens to generate
  bool truncated = false;     // output_tokens was capped by max_tokens (finish_reason "length")
  bool hang = false;          // sends nothing until the client gives up
  int64_t drop_after = -1;    // >= 0: the stream is cut after this many tokens
};

enum class Admission { kStarted, kQueued, kOutage, kError, kRateLimited, kQueueFull };

struct WorkItem {
  uint64_t ticket = 0;
  int64_t input_tokens = 0;
  int64_t max_tokens = -1;    // -1: uncapped
  uint64_t content_hash = 0;  // makes the answer length deterministic per prompt
  int64_t output_tokens = -1; // >= 0: the answer's length is known (the simulator's workload); -1: drawn
};

class TierModel {
 public:
  TierModel(TierProfile profile, Rng rng, TimePoint start);

  // A request arrives. kStarted: it holds a slot and `plan` is filled. kQueued: it waits until a
  // Release() returns it. Anything else is a rejection and holds nothing.
  Admission Arrive(TimePoint now, const WorkItem& w, ServicePlan* plan);
  // The request with `ticket` finished or was abandoned (queued or running). Frees its slot and
  // returns the queued work that starts now, each with its plan.
  std::vector<std::pair<WorkItem, ServicePlan>> Release(TimePoint now, uint64_t ticket);

  FaultState& faults() { return profile_.faults; }
  const TierProfile& profile() const { return profile_; }
  int active() const { return static_cast<int>(running_.size()); }  // over every GPU
  int queued() const { return static_cast<int>(queue_.size()); }
  // What a request arriving now would experience once it had a slot, without jitter or faults
  // (the simulator's oracle reads it; queue wait is not included).
  ServicePlan ExpectedPlan(const WorkItem& w) const;
  // Seconds a 429 asks the client to wait.
  double RetryAfterSeconds() const;
  bool InOutage(TimePoint now) const;

 private:
  ServicePlan Plan(TimePoint now, const WorkItem& w, int streams);
  // The least-busy GPU (lowest index on ties).
  int LeastBusyGpu() const;
  // Starts `w` on `gpu` (which has a free slot) and returns its plan.
  ServicePlan StartOn(TimePoint now, const WorkItem& w, int gpu);
  // The formula shared by Plan and ExpectedPlan: TTFT x jitter, per-token time at `streams`.
  ServicePlan Shape(const WorkItem& w, double jitter, int streams) const;
  bool TakeRateToken(TimePoint now);

  TierProfile profile_;
  Rng rng_;
  TimePoint start_;
  struct Running {
    uint64_t ticket;
    int gpu;
  };
  std::vector<Running> running_;
  std::vector<int> gpu_active_;  // running requests per GPU
  std::deque<WorkItem> queue_;
  double bucket_tokens_ = 0;
  TimePoint bucket_at_{};
};

// Number of output tokens for a request: lognormal around the profile's mean, seeded by the
// content hash so the same prompt gets the same length; capped by max_tokens.
int64_t DrawOutputTokens(double mean, uint64_t content_hash, int64_t max_tokens, bool* truncated);

}  // namespace mec
