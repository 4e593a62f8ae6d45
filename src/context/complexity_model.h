#pragma once
// The request-complexity model: from a prompt's text, how likely is a weaker model's answer to be
// as good as the strongest tier's? This is the quality scale of DESIGN.md §2 for the edge-class
// model; per-tier qualities are derived from it (see tier_quality.h).
//
// Thread-safety: implementations are immutable after construction and safe to share.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

namespace mec {

// What a model says about one prompt, with how sure it is.
struct ComplexityEstimate {
  double edge = 1;                     // P(edge-class answer as good as the strongest tier's)
  std::optional<double> device;        // learned device-class quality; unset: derive it from `edge`
  double familiarity = -1;             // PromptFamiliarity below, in [0, 1]; -1 unknown
  double judged_support = 0;           // judged samples that shared the prompt's words (median per word)
  double sd = -1;                      // approximate standard deviation of `edge`; -1 unknown
};

// A rough standard deviation of a predicted probability q: sqrt(q (1 - q) / (1 + n)), with
// n = kPriorEquivalentSamples * familiarity + judged_support, i.e. the shipped model counts as
// that many samples on prompts whose words it knows and as none on prompts it has never seen
// (ASSUMPTION: the value 20 is not measured; it only orders "unsure" before "sure").
inline constexpr double kPriorEquivalentSamples = 20;
inline double PredictionSd(double q, double familiarity, double judged_support) {
  q = std::clamp(q, 0.0, 1.0);
  const double n = kPriorEquivalentSamples * std::clamp(familiarity, 0.0, 1.0) + std::max(0.0, judged_support);
  return std::sqrt(q * (1 - q) / (1.0 + n));
}

// How familiar a prompt is to a model trained on the labelled benchmarks: the share of its words
// the model's vocabulary knows, times min(1, chars / 81), 81 bytes being the 1st percentile of
// the training prompts' lengths (routellm_mmlu_gsm8k_correctness.csv, prompt_chars; min 41, 5th
// percentile 111, median 291): a greeting or a one-line lookup is shorter than 99% of what the
// model has seen, whatever its words.
inline constexpr double kTrainingPromptCharsP1 = 81;
inline double PromptFamiliarity(double known_share, size_t prompt_chars) {
  return std::clamp(known_share, 0.0, 1.0) * std::min(1.0, static_cast<double>(prompt_chars) / kTrainingPromptCharsP1);
}

class ComplexityModel {
 public:
  virtual ~ComplexityModel() = default;
  // The estimate with its uncertainty; by default only `edge`.
  virtual ComplexityEstimate Estimate(std::string_view prompt) const {
    ComplexityEstimate e;
    e.edge = WeakAsGoodProbability(prompt);
    return e;
  }
  // P(not (strong model correct and weak model wrong)) for this prompt, in [0, 1].
  // The prompt is the text the user sent (for chat: the messages' text joined by newlines).
  virtual double WeakAsGoodProbability(std::string_view prompt) const = 0;
  // A short name for logs and the decision record ("heuristic", "logreg-v1", ...).
  virtual std::string_view Name() const = 0;
};

}  // namespace mec
