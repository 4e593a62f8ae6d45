#pragma once
// Learning each tier's quality from the deployment's own traffic: judged samples (a tier's answer
// compared with the reference tier's, by exact match or a judge model; feedback scores) refit the
// corrections of context/adapted_complexity_model.h on top of the shipped model, which stays the
// prior. One function is the whole fit, so that the gateway's background trainer and
// `mecrouter complexity learn` (which replays labelled data as if it were judged) run the same code.
//
// The fit, per tier class with at least min_samples samples: an L2 logistic regression whose
// offset is the prior's logit (for the device class: the logit of the device quality implied by the
// already corrected edge quality), over the prompt's hashed words, the prior's logit and the prior's
// domain posterior; the L2 strength is chosen by k-fold cross-validation on the samples (log loss),
// so few samples give a correction close to 0 and many give a sharper one. Deterministic: the same
// samples in the same order give the same model.
//
// Thread-safety: free functions without shared state.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "context/adapted_complexity_model.h"
#include "core/status.h"
#include "learn/routing_eval.h"

namespace mec {

// One judged sample: how a tier class's answer to `prompt` compared with the reference tier's.
struct JudgedSample {
  std::string prompt;
  QualityClass tier_class = QualityClass::kEdge;
  // P(the tier's answer is as good as the reference's): the share of judge orders that said
  // "as good or better"; 1/0 for exact match agreement/disagreement or a labelled item.
  double as_good = 1.0;
  // (1 + P(tier better) - P(reference better)) / 2: 1 the tier's answer was better, 1/2 a tie,
  // 0 the reference was needed (a labelled item: (1 - strong_correct + weak_correct) / 2).
  double gain = 0.5;
  // When the prompt text is gone (past the retention), its features as they were computed then
  // (with the same base model and word_bits); ignored when `prompt` is set.
  std::optional<AdaptFeatures> features{};
};

// A labelled item as a judged sample (the data's labels as the judge): as good unless the strong
// (reference) model was correct and the weak one was not; gain (1 - strong + weak) / 2.
JudgedSample LabelledVerdict(std::string prompt, QualityClass tier, bool weak_correct, bool strong_correct);

enum class OnlineTarget { kAsGood, kGain };

struct OnlineLearnOptions {
  int word_bits = 16;
  bool topic = true;               // the prior's domain posterior as features
  bool base_slope = true;          // the prior's logit as a feature (recalibration)
  bool dense = true;               // the dense text features (length, numbers, ...)
  bool memo = true;                // remember prompts judged before, word for word (QualityCorrection::memo)
  // L2 multiplier of the dense block (standardised, so one unit of weight is cheap next to a
  // word's): shape features must show more evidence than words before they move a prediction.
  double dense_l2_factor = 4.0;
  std::vector<double> l2_grid = {0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0};
  int cv_folds = 4;
  int min_samples = 20;            // a tier class with fewer samples gets no correction
  int max_iterations = 150;
  // What the correction ranks by. kGain (the default) ranks by what the reference adds, the
  // routing curve's own measure (calls saved, APGR), then calibrates to "as good" (a 1-D logistic
  // regression of the as-good verdicts on the corrected logit), so the router still reads a
  // probability of "as good"; kAsGood fits "as good" directly (no calibration).
  OnlineTarget target = OnlineTarget::kGain;
};

struct OnlineFitClassReport {
  int samples = 0;
  double chosen_l2 = 0;
  double cv_log_loss = 0;          // at the chosen l2
  double prior_log_loss = 0;       // of the prior alone on the same samples
};
struct OnlineFitReport {
  std::array<OnlineFitClassReport, kQualityClasses> classes;
};

// REQUIRES: base != nullptr. Samples of a class below min_samples leave that class uncorrected.
Result<std::unique_ptr<AdaptedComplexityModel>> FitAdaptedModel(std::shared_ptr<const ComplexityModel> base,
                                                                const std::vector<JudgedSample>& samples, int version,
                                                                const DeviceQualityAssumption& device,
                                                                const OnlineLearnOptions& options,
                                                                OnlineFitReport* report = nullptr);

// Judged samples as routed items for EvaluateRouting (the metric of `complexity eval`):
// weak_correct = as_good >= 1/2, strong_correct = gain <= 1/2. Exact for labelled items except
// that "both wrong" reads as "both right" (a judge cannot tell them apart), which raises both
// accuracies equally.
std::vector<RoutedItem> RoutedItemsFromSamples(const std::vector<JudgedSample>& samples,
                                               const std::vector<double>& scores);

// The promotion gate of the background trainer: is `candidate` no worse than `live` on the
// held-back samples, in every tier class that has some? "Worse" is a drop in calls saved at 95%
// quality larger than kGateZ standard errors of the paired bootstrap on those samples (a holdout
// of eight verdicts cannot tell a 25-point drop from chance; a broken fit on forty can). APGR is
// reported, not gated on. A device sample is scored with the model's device quality (learned, or derived
// from the edge's through `device`). A sample without its prompt (past the retention, or from
// another replica) is scored from its stored features: then both models must be the base the
// features were computed under, or adapted on it.
struct GateResult {
  bool pass = false;
  std::array<RoutingMetrics, kQualityClasses> live;
  std::array<RoutingMetrics, kQualityClasses> candidate;
  std::array<size_t, kQualityClasses> held_back{0, 0};
  std::array<double, kQualityClasses> drop_sd{0, 0};  // bootstrap standard error of the calls-saved difference
  std::string reason;
};
inline constexpr double kGateZ = 1.28;          // one-sided 90%
inline constexpr int kGateResamples = 400;
inline constexpr uint64_t kGateSeed = 0x6a7465ull;
GateResult CompareOnHoldout(const ComplexityModel& live, const ComplexityModel& candidate,
                            const std::vector<JudgedSample>& holdout, const DeviceQualityAssumption& device);

// Whether the verdict with this id is held back from fitting to judge candidates (a hash of the
// id under `share`): the gateway's trainer, `complexity train --judged` and the simulator agree.
bool IsHeldBack(std::string_view id, double share);

// One refit of the background trainer (the gateway's net/learning_worker.h and the simulator's
// sim/sim_learner.h run this same step): a candidate fitted on `train` on top of `base`, promoted
// only when CompareOnHoldout passes against `live` on `holdout`.
struct RetrainResult {
  std::shared_ptr<const ComplexityModel> promoted;  // null: the candidate was kept aside (or failed)
  std::string reason;                               // the gate's (or the fit's) one-line reason
};
RetrainResult RetrainAndGate(std::shared_ptr<const ComplexityModel> base, const ComplexityModel& live,
                             const std::vector<JudgedSample>& train, const std::vector<JudgedSample>& holdout, int version,
                             const DeviceQualityAssumption& device, const OnlineLearnOptions& options);

}  // namespace mec
