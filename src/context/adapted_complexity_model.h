#pragma once
// The complexity model adapted to a deployment's own traffic: the shipped model as the prior, plus
// a small correction per tier class fitted on judged samples (learn/online_learner.h), so that
//     logit q_edge(x)   = base_logit(x) + c_edge(x)
//     logit q_device(x) = logit DeviceQualityFromEdge(q_edge(x)) + c_device(x)
// where each correction is linear in a few features of the prompt that the judged samples can
// teach: the prompt's words (hashed unigrams, present or not), its dense text features (length,
// numbers, options, ...: what makes a prompt hard differs between deployments), the prior's own
// logit (a recalibration slope), and the prior's domain posterior (which known domain the words
// resemble).
// A tier class with no judged samples has no correction: device quality then follows the edge
// quality through the documented assumption of tier_quality.h, as without adaptation.
//
// It also says how sure it is (Uncertainty): how familiar the prompt's words are to the prior's
// vocabulary and how many judged samples of the tier class shared them.
//
// Text form (Serialize/Parse; the base model is not part of it and must be supplied):
//   mecrouter-adapted-model 1
//   base <base model name>
//   version <n>
//   word_bits <b>
//   device_assumption <r> <k>
//   tier <edge|device> <samples> <bias> <base_slope> <topic count> <dense count> <word count> <support count>
//        <calib_a> <calib_b> <memo count>
//   <topic weights on one line>          (omitted when topic count is 0)
//   <dense weights on one line>          (omitted when dense count is 0)
//   <dense lows> / <dense highs>         two lines, the ranges seen (omitted when dense count is 0)
//   <bucket> <weight>                    `word count` lines, buckets increasing
//   <bucket> <samples>                   `support count` lines, buckets increasing
//   <key> <count> <as_good sum>          `memo count` lines, keys increasing
//   end
// Thread-safety: immutable after construction; every method may be called concurrently.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "context/complexity_model.h"
#include "context/learned_complexity_model.h"
#include "context/tier_quality.h"
#include "core/status.h"

namespace mec {

// The tier classes a correction is learned for (the cloud is the reference: quality 1).
enum class QualityClass { kEdge = 0, kDevice = 1 };
inline constexpr int kQualityClasses = 2;
std::string_view QualityClassName(QualityClass c);
bool ParseQualityClass(std::string_view s, QualityClass* out);

// The correction of one tier class.
struct QualityCorrection {
  int samples = 0;                  // judged samples it was fitted on (0: no correction)
  // The corrected logit z ranks prompts (fitted to the gain target by default); the quality is
  // sigmoid(calib_a + calib_b z), a calibration to "as good" fitted on the same samples.
  float calib_a = 0, calib_b = 1;
  float bias = 0;
  float base_slope = 0;             // weight of the prior logit
  std::vector<float> topic;         // weights of the prior's domain posterior (one per class) or empty
  std::vector<float> dense;         // weights of the dense text features (kNumDense) or empty
  // Per dense feature, the range seen in the fit: a value outside it is clamped into it (a
  // near-constant feature gets a large weight, which must not extrapolate).
  std::vector<float> dense_lo, dense_hi;
  std::vector<std::pair<uint32_t, float>> words;     // (word bucket, weight), buckets increasing
  std::vector<std::pair<uint32_t, uint32_t>> support;  // (word bucket, judged samples with that word)
  // Prompts judged before, word for word (AdaptFeatures::key): their own verdicts count, blended
  // with the corrected prediction as kMemoPseudoCount samples of it (repeated prompts are common:
  // a game's NPC lines, a fleet's status questions). Sorted by key.
  struct Memo {
    uint64_t key = 0;
    uint32_t count = 0;
    float as_good_sum = 0;
  };
  std::vector<Memo> memo;
};
inline constexpr double kMemoPseudoCount = 2;

// The features of one prompt that a correction reads (computed once per prompt).
struct AdaptFeatures {
  double base_logit = 0;                    // the prior's logit of q_edge
  std::vector<std::pair<uint32_t, float>> words;  // (bucket, value), buckets distinct
  std::vector<double> topic;                // the prior's domain posterior, or empty
  std::vector<float> dense;                 // DenseTextFeatures (length, numbers, ...): kNumDense values
  double familiarity = 0;                   // PromptFamiliarity under the prior (0 without a vocabulary)
  uint64_t key = 0;                         // PromptKey(prompt)
};

// The prediction for one prompt, with its uncertainty.
struct QualityPrediction {
  double edge = 1;
  double device = 1;
  bool device_learned = false;  // device quality from judged device samples (else from the assumption)
  double familiarity = 0;       // [0, 1], see AdaptFeatures
  double judged_support = 0;    // median over the prompt's distinct words of judged edge samples with that word
  double sd = 0;                // an approximate standard deviation of `edge` (see Uncertainty)
};

class AdaptedComplexityModel : public ComplexityModel {
 public:
  // REQUIRES: base != nullptr; 8 <= word_bits <= 24.
  AdaptedComplexityModel(std::shared_ptr<const ComplexityModel> base, int version, int word_bits,
                         DeviceQualityAssumption device, std::array<QualityCorrection, kQualityClasses> corrections);

  // The features a correction reads (also used by the trainer, so training and inference agree).
  static AdaptFeatures Features(const ComplexityModel& base, std::string_view prompt, int word_bits);

  // A correction's logit term for these features.
  static double CorrectionLogit(const QualityCorrection& c, const AdaptFeatures& f);
  // The quality a correction gives on top of the prior logit `offset`: sigmoid of the calibrated
  // corrected logit (the offset alone when the correction is empty).
  static double CorrectedQuality(const QualityCorrection& c, const AdaptFeatures& f, double offset);

  QualityPrediction Predict(std::string_view prompt) const;
  QualityPrediction PredictFromFeatures(const AdaptFeatures& f) const;
  double WeakAsGoodProbability(std::string_view prompt) const override { return Predict(prompt).edge; }
  ComplexityEstimate Estimate(std::string_view prompt) const override;
  // "<base name>+judged.v<version>"
  std::string_view Name() const override { return name_; }

  int version() const { return version_; }
  int word_bits() const { return word_bits_; }
  const ComplexityModel& base() const { return *base_; }
  std::shared_ptr<const ComplexityModel> base_ptr() const { return base_; }
  const DeviceQualityAssumption& device_assumption() const { return device_; }
  const QualityCorrection& correction(QualityClass c) const { return corrections_[static_cast<int>(c)]; }

  std::string Serialize() const;
  // `base` must be the model named on the `base` line (else FailedPrecondition).
  static Result<std::unique_ptr<AdaptedComplexityModel>> Parse(std::string_view text,
                                                               std::shared_ptr<const ComplexityModel> base);

 private:
  std::shared_ptr<const ComplexityModel> base_;
  int version_;
  int word_bits_;
  DeviceQualityAssumption device_;
  std::array<QualityCorrection, kQualityClasses> corrections_;
  std::string name_;
};

// The key of a prompt's exact-prompt memory: its letters and digits, lower-cased, word by word
// (case, punctuation and spacing aside: "Hello there!" and "hello  there" are one prompt).
uint64_t PromptKey(std::string_view prompt);

// The prior's familiarity with a prompt (PromptFamiliarity with the base model's domain-prior
// vocabulary; 0 for a model without one).
double BaseFamiliarity(const ComplexityModel& base, std::string_view prompt);

}  // namespace mec
