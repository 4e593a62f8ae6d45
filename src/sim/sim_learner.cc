#include "sim/sim_learner.h"

#include <utility>

namespace mec::sim {

SimLearner::SimLearner(std::shared_ptr<const ComplexityModel> base, const ComplexityModel& start, const LearningSpec& spec,
                       DeviceQualityAssumption device)
    : base_(std::move(base)), start_(start), spec_(spec), device_(device) {
  st_.model = std::string(start_.Name());
}

void SimLearner::AddVerdict(uint32_t id, const std::string& prompt, QualityClass tier, bool correct, bool cloud_correct) {
  ids_.push_back(std::to_string(id));
  samples_.push_back(LabelledVerdict(prompt, tier, correct, cloud_correct));
  ++st_.sampled;
  if (++new_since_fit_ >= spec_.retrain_every) Retrain();
}

void SimLearner::Retrain() {
  new_since_fit_ = 0;
  std::vector<JudgedSample> train, holdout;
  for (size_t i = 0; i < samples_.size(); ++i) (IsHeldBack(ids_[i], spec_.holdout_share) ? holdout : train).push_back(samples_[i]);
  OnlineLearnOptions o;
  o.min_samples = spec_.min_samples;
  o.word_bits = spec_.word_bits;
  const ComplexityModel& live = live_ ? *live_ : *base_;
  RetrainResult r = RetrainAndGate(base_, live, train, holdout, static_cast<int>(st_.retrains + 1), device_, o);
  ++st_.retrains;
  st_.last_gate = (r.promoted ? "promoted: " : "kept aside: ") + r.reason;
  if (r.promoted) {
    live_ = std::move(r.promoted);
    ++st_.promotions;
    st_.model = std::string(live_->Name());
    cache_.clear();
  }
}

ComplexityEstimate SimLearner::Estimate(std::string_view prompt) const {
  if (!live_) return start_.Estimate(prompt);
  auto it = cache_.find(prompt.data());
  if (it != cache_.end() && it->second.first == prompt) return it->second.second;
  const ComplexityEstimate e = live_->Estimate(prompt);
  cache_[prompt.data()] = {std::string(prompt), e};
  return e;
}

SimLearningStats SimLearner::stats() const { return st_; }

}  // namespace mec::sim
