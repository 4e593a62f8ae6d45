#pragma once
// The optional second stage of the learned complexity model (learned_complexity_model.h): it
// re-scores a prompt from a few dense inputs,
//   f = (z, E[D], free-form, the kNumDense dense text features, E[G]),
// where z is the first stage's (the logistic regression's) logit and E[D] the domain prior's
// expected difficulty, E[G] the expectation under the same domain posterior of the domain's mean
// accuracy gain of the weak over the strong model (weak_correct - strong_correct over its training
// items; class_gain, optional: 0 without). One stage per prompt type (multiple choice, free form); a type without a
// stage keeps z. A stage computes
//   F = l0 + l1 z + l2 E[D] + sum of its trees' values(f),     logit = calib_a + calib_b F.
// The linear part can stretch the first stage and the domain prior's contribution; the trees
// (gradient-boosted, learn/gbdt_trainer.h) add interactions; the calibration maps F back to the
// log-odds of "weak as good" (F may have been fitted to another target).
//
// Text form (after the model's domain section):
//   stack
//   [classgain <n> <g_0> ... <g_n-1>]                         optional, one per domain class
//   stage <type 0|1> <l0> <l1> <l2> <calib_a> <calib_b>     once per type that has a stage
//   <GbdtModel text>
// Thread-safety: immutable after construction.

#include <array>
#include <string>
#include <string_view>

#include "context/gbdt_model.h"
#include "context/text_features.h"
#include "core/status.h"

namespace mec {

inline constexpr int kNumStackFeatures = 3 + kNumDense + 1;
inline constexpr int kStackDomainGainFeature = 3 + kNumDense;
using StackFeatureVector = std::array<float, kNumStackFeatures>;

// The second stage's inputs from a prompt's full model features `x` (text features and domain
// features, learned_complexity_model.h) and the first stage's logit.
// REQUIRES: every dense and domain entry of x comes after every hashed entry, as
// ExtractTextFeatures + AppendDomainFeatures write them and as index-sorted rows have them.
StackFeatureVector StackFeatures(const SparseVector& x, PromptType type, double stage1_logit, const TextFeatureOptions& o,
                                 double domain_gain = 0.0);

struct StackStage {
  bool enabled = false;
  std::array<float, 3> linear{0, 1, 0};
  GbdtModel trees;
  float calib_a = 0;
  float calib_b = 1;

  // F (before calibration), optionally with only the first `tree_count` trees.
  double Margin(const StackFeatureVector& f, size_t tree_count = SIZE_MAX) const;
  double Logit(const StackFeatureVector& f) const { return calib_a + calib_b * Margin(f); }
};

struct ComplexityStacker {
  std::array<StackStage, 2> stages;  // indexed by PromptType
  std::vector<float> class_gain;      // per domain class (empty: E[G] is 0)

  bool enabled() const { return stages[0].enabled || stages[1].enabled; }
  const StackStage& stage(PromptType t) const { return stages[static_cast<int>(t)]; }

  void AppendTo(std::string* out) const;
  // Parses what AppendTo wrote (starting at the "stack" line), advancing `text` past it.
  static Result<ComplexityStacker> Parse(std::string_view* text);
};

}  // namespace mec
