#pragma once
// A routing profile: a Router made of plugins (route/plugin.h). Every built-in policy is one
// (route/policies.cc), and so is each profile in routing.profiles.
//
// Decide: BuildCandidates (the shared hard filters and predictions); the profile's filters, in
// order, drop candidates (without recording why: a profile's choice is not a backend's fault);
// saturated engines are skipped while another candidate remains (route/saturation.h; recorded);
// each scorer's [0, 1] scores, times its weight, are summed per candidate; the picker orders the
// survivors. Then the steps every profile shares: NotFound / Unavailable errors that say why,
// shedding (every candidate is full and even the best cannot meet the deadline by waiting: 429),
// hedging when enabled (the primary's P(meet) below hedge_threshold), and the reason line: the
// picker's, else the profile's head and each scorer's detail ("least-latency: 120ms expected"),
// then "; " and the saturation note (an overflow, a skipped replica), the cold note, "; edge-a
// holds ~512 of 700 prompt tokens (prefix cache)" when prefix affinity predicts a hit, then "; "
// and AppendQualityNote when the complexity model said how sure it is.
//
// Thread-safety: Decide may run concurrently (plugins are constant, see plugin.h).

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "route/plugin.h"
#include "route/policy_options.h"

namespace mec {

class Profile final : public Router {
 public:
  struct WeightedScorer {
    std::unique_ptr<Scorer> scorer;
    double weight = 1;
  };
  // REQUIRES: picker is not null. `head` starts the reason line unless the picker writes it.
  Profile(std::string name, std::string head, std::vector<std::unique_ptr<Filter>> filters,
          std::vector<WeightedScorer> scorers, std::unique_ptr<Picker> picker, const PolicyOptions& o);

  std::string_view name() const override { return name_; }
  Result<Decision> Decide(const RequestContext& ctx, const RouteEnv& env) const override;

 private:
  // Writes the profile's weighted score of each of `ids` into scores (indexed like cs.all); leaves
  // scores empty when the profile has no scorers.
  void ScoreAll(const RequestContext& ctx, const CandidateSet& cs, const std::vector<int>& ids, std::vector<double>& scores) const;

  std::string name_;
  std::string head_;
  std::vector<std::unique_ptr<Filter>> filters_;
  std::vector<WeightedScorer> scorers_;
  std::vector<const Scorer*> scorer_order_;  // scorers_, for Cycle::scorers
  std::unique_ptr<Picker> picker_;
  double deadline_target_;
  double shed_below_;
  bool hedge_;
  double hedge_threshold_;
};

// A profile from its config (routing.profiles, or a built-in's spec). InvalidArgument naming the
// plugin when a name is unknown or a weight is not > 0.
Result<std::unique_ptr<Router>> MakeProfile(const ProfileOptions& p, const PolicyOptions& o);

}  // namespace mec
