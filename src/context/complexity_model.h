#pragma once
// The request-complexity model: from a prompt's text, how likely is a weaker model's answer to be
// as good as the strongest tier's? This is the quality scale of DESIGN.md §2 for the edge-class
// model; per-tier qualities are derived from it (see tier_quality.h).
//
// Thread-safety: implementations are immutable after construction and safe to share.

#include <memory>
#include <string_view>

namespace mec {

class ComplexityModel {
 public:
  virtual ~ComplexityModel() = default;
  // P(not (strong model correct and weak model wrong)) for this prompt, in [0, 1].
  // The prompt is the text the user sent (for chat: the messages' text joined by newlines).
  virtual double WeakAsGoodProbability(std::string_view prompt) const = 0;
  // A short name for logs and the decision record ("heuristic", "logreg-v1", ...).
  virtual std::string_view Name() const = 0;
};

}  // namespace mec
