#pragma once
// The three kinds of routing plugin a profile combines (llm-d's scheduler; DESIGN.md §3 Router):
//
//   Filter   rules a backend out, and says why
//   Scorer   scores each surviving candidate in [0, 1] (1 = best); the profile weights and sums
//   Picker   orders the survivors into the decision's chain, best first
//
// One decision (route/profile.h): BuildCandidates (the shared hard filters and predictions), the
// profile's filters, its scorers, its picker, then the shared steps (errors, shedding, hedging,
// the reason line). Plugins hold constant configuration only (the round-robin picker's counter
// excepted, an atomic), perform no I/O and read time and randomness only through RouteEnv, so one
// instance serves concurrent decisions.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "route/candidate_set.h"
#include "route/router.h"

namespace mec {

class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::string_view name() const = 0;
  // Whether backend b may serve the request (cheap: no allocation).
  virtual bool Keep(const RequestContext& ctx, const Backend& b, const BackendView& v) const = 0;
  // Why not, in a few words (Candidate::filtered_by). REQUIRES: !Keep(ctx, b, v).
  virtual std::string Why(const RequestContext& ctx, const Backend& b, const BackendView& v) const = 0;
};

class Scorer {
 public:
  virtual ~Scorer() = default;
  virtual std::string_view name() const = 0;
  // Writes out[k], in [0, 1], for the candidate cs.all[ids[k]]. REQUIRES: out.size() == ids.size().
  virtual void Score(const RequestContext& ctx, const CandidateSet& cs, std::span<const int> ids,
                     std::span<double> out) const = 0;
  // The value the score ranks, lower = better (latency_s for latency, -quality for quality): the
  // max-score picker orders equal scores by it, since normalizing may round two close values
  // to one score.
  virtual double Key(const RequestContext& ctx, const Candidate& c) const = 0;
  // Appends to `reason` what the reason line says after the profile's head about the primary
  // (e.g. "120ms expected"); appends nothing when it has nothing to say.
  virtual void Detail(const RequestContext&, const Candidate& /*primary*/, std::string& /*reason*/) const {}
};

// One decision's scratch state (llm-d's CycleState), handed to the picker.
struct Cycle {
  const RequestContext& ctx;
  const RouteEnv& env;
  CandidateSet& cs;
  std::vector<int>& ids;              // the survivors (indices into cs.all), in pool order
  const std::vector<double>& scores;  // the profile's weighted score, indexed like cs.all; empty without scorers
  std::span<const Scorer* const> scorers;  // the profile's, in order (for the scorers' keys)
  Decision& decision;
};

class Picker {
 public:
  virtual ~Picker() = default;
  virtual std::string_view name() const = 0;
  // Orders cycle.ids best first (it may not add ids). Writes the reason line's head into `reason`,
  // or leaves it empty for the profile's (its head and its scorers' detail).
  // REQUIRES: cycle.ids is not empty.
  virtual void Pick(Cycle& cycle, std::string& reason) const = 0;
};

}  // namespace mec
