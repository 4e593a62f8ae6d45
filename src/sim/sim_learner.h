#pragma once
// The online learning loop of docs/learning.md under the simulator: answers of the edge and the
// device are sampled at the scenario's `learning.sample_rate`, judged by the data's labels (the
// emulated judge: "as good" unless the cloud was correct and this answer was not; gain
// (1 - cloud_correct + correct) / 2), and every `retrain_every` verdicts the same retrain step as
// the gateway's trainer (learn/online_learner.h RetrainAndGate: fit on the verdicts not held back,
// promote only through the gate on the held-back ones) replaces the model every client's engine
// routes with.
//
// MODEL: one learner per device class (a fleet of identical devices shares one model), fed the
// edge verdicts of the whole fleet and the device verdicts of its class, as if every client's
// gateway shared its verdicts and received each promoted model at once (docs/learning.md:
// replicas share labels; client-side gateways receiving the model needs the fleet state of issue
// 16). The fit runs inside the event loop at zero simulated time (the gateway fits in a
// background thread: seconds of wall time). The simulator draws whether an answer is sampled
// (Sample()) once per answer and gives a sampled edge verdict to every learner.
//
// The learner is the ComplexityModel the engines hold: Estimate() answers with the current model,
// cached per prompt buffer (the simulator keeps one string per prompt) until the next promotion.
// Each verdict is charged to its request's cost: one cloud reference call (the exact-match judge:
// every router_eval prompt is checkable, so no judge model is called).
// Thread-safety: none (one simulation thread). Deterministic: the same calls, the same models.

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "context/complexity_model.h"
#include "context/tier_quality.h"
#include "learn/online_learner.h"
#include "sim/scenario.h"

namespace mec::sim {

struct SimLearningStats {
  int64_t sampled = 0;      // verdicts collected
  int64_t retrains = 0, promotions = 0;
  std::string model;        // the model routing at the end of the run
  std::string last_gate;    // the last retrain's reason
};

class SimLearner final : public ComplexityModel {
 public:
  // `base`: the shipped model the corrections are fitted on (the real one, not a cache: the fit
  // reads its vocabulary); `start`: what routes before the first promotion (base, or a cache of it).
  // REQUIRES: base != nullptr; `start` outlives this.
  SimLearner(std::shared_ptr<const ComplexityModel> base, const ComplexityModel& start, const LearningSpec& spec,
             DeviceQualityAssumption device);

  // A sampled edge or device answer to `prompt` (request `id`): its verdict from the data's labels
  // (`correct`, `cloud_correct`); retrains when `retrain_every` verdicts have arrived since the last.
  void AddVerdict(uint32_t id, const std::string& prompt, QualityClass tier, bool correct, bool cloud_correct);

  ComplexityEstimate Estimate(std::string_view prompt) const override;
  double WeakAsGoodProbability(std::string_view prompt) const override { return Estimate(prompt).edge; }
  std::string_view Name() const override { return live_ ? live_->Name() : start_.Name(); }

  SimLearningStats stats() const;

 private:
  void Retrain();

  std::shared_ptr<const ComplexityModel> base_;
  const ComplexityModel& start_;
  std::shared_ptr<const ComplexityModel> live_;  // null until the first promotion
  LearningSpec spec_;
  DeviceQualityAssumption device_;
  std::vector<std::string> ids_;
  std::vector<JudgedSample> samples_;
  int64_t new_since_fit_ = 0;
  SimLearningStats st_;
  mutable std::unordered_map<const char*, std::pair<std::string, ComplexityEstimate>> cache_;
};

}  // namespace mec::sim
