#pragma once
// The learned request-complexity model: a logistic regression over the text features of
// text_features.h, trained offline by `mecrouter complexity train` (src/learn/) on labelled
// per-prompt outcomes, stored as a small text file and embedded into the binary.
//
// Model file (text, one item per line):
//   mecrouter-complexity-model 3
//   name <short name>
//   features <FormatTextFeatureOptions line>
//   bias <float>
//   scale <float>               weight = q * scale, in float
//   weights <count>
//   <index delta> <q>           `count` lines, indices increasing; delta from the previous index
//   [domain ...]                optional domain prior (context/domain_prior.h)
//   [stack ...]                 optional second stage (context/complexity_stacker.h)
//   end
// Feature layout: the text features of text_features.h, then kNumDomainFeatures slots for the
// domain prior's expected difficulty E[D] (all prompts; free-form prompts only).
// Parsing the text it writes reproduces the same floats, so predictions round-trip exactly.
//
// Thread-safety: immutable after construction; WeakAsGoodProbability may be called concurrently.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "context/complexity_model.h"
#include "context/complexity_stacker.h"
#include "context/domain_prior.h"
#include "context/text_features.h"
#include "core/status.h"

namespace mec {

inline constexpr int kNumDomainFeatures = 2;
// Size of the model's weight vector.
inline size_t ModelFeatureSpaceSize(const TextFeatureOptions& o) { return FeatureSpaceSize(o) + kNumDomainFeatures; }
// Appends the domain-prior features of one prompt to its text features `x`.
void AppendDomainFeatures(double expected_difficulty, PromptType type, const TextFeatureOptions& o, SparseVector* x);

class LearnedComplexityModel : public ComplexityModel {
 public:
  // weights are resized to ModelFeatureSpaceSize(options) (missing entries are 0).
  LearnedComplexityModel(std::string name, TextFeatureOptions options, std::vector<float> weights, float bias,
                         DomainPrior domain = DomainPrior());

  // Builds a model from real-valued weights, quantised to the file's precision (so that Save and
  // Parse reproduce it exactly). Weights whose quantised value is 0 are dropped.
  static std::unique_ptr<LearnedComplexityModel> FromWeights(std::string name, TextFeatureOptions options,
                                                             const std::vector<double>& weights, double bias,
                                                             DomainPrior domain = DomainPrior());

  static Result<std::unique_ptr<LearnedComplexityModel>> Parse(std::string_view text);
  static Result<std::unique_ptr<LearnedComplexityModel>> Load(const std::string& path);
  std::string Serialize() const;
  Status Save(const std::string& path) const;

  double WeakAsGoodProbability(std::string_view prompt) const override;
  // With the uncertainty of adapted_complexity_model.h's PredictionSd (no judged samples).
  ComplexityEstimate Estimate(std::string_view prompt) const override;
  std::string_view Name() const override { return name_; }

  // The log-odds behind WeakAsGoodProbability.
  double Logit(std::string_view prompt) const;
  const TextFeatureOptions& options() const { return options_; }
  const std::vector<float>& weights() const { return weights_; }
  float bias() const { return bias_; }
  const DomainPrior& domain() const { return domain_; }
  // The optional second stage (disabled: the logit is the regression's).
  const ComplexityStacker& stacker() const { return stacker_; }
  void set_stacker(ComplexityStacker s) { stacker_ = std::move(s); }
  // All features of a prompt (text features, then domain features); returns the prompt type.
  PromptType Features(std::string_view prompt, SparseVector* x) const;
  // The same, and when domain_gain is not null the second stage's E[G] (stacker().class_gain).
  PromptType FeaturesAndDomainGain(std::string_view prompt, SparseVector* x, double* domain_gain) const;
  // The regression's logit alone (the first stage), from Features' output.
  double LinearLogit(const SparseVector& x) const;
  size_t NonZeroWeights() const;

 private:
  std::string name_;
  TextFeatureOptions options_;
  std::vector<float> weights_;  // dense, ModelFeatureSpaceSize(options_) entries
  float bias_;
  DomainPrior domain_;
  ComplexityStacker stacker_;
  float scale_ = 0.0f;          // quantisation step of the file format (0: not quantised)
};

// The fixed split of the labelled data (models/README.md): an item is a training item when
// FNV-1a-64(item_id) % 10 < 7. The simulator draws only prompts for which this is false, which the
// default model never saw.
bool IsComplexityTrainId(std::string_view item_id);

// The default model embedded at build time from models/complexity_default.model. Never null: if
// the embedded text does not parse (a build defect that context_test catches), it returns a
// constant model named "fallback-prior" that answers the training prior.
std::unique_ptr<ComplexityModel> LoadDefaultComplexityModel();

// The embedded text itself (generated source; empty when the build had no model file).
std::string_view EmbeddedDefaultComplexityModelText();

}  // namespace mec
