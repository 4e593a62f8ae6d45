#pragma once
// Plain routers to compare the learned complexity model against, on the same items:
//   random          a constant score (EvaluateRouting then gives the exact expected value);
//   length          P(weak as good) from log(prompt_chars) alone, per benchmark;
//   subject+length  from the MMLU subject (one-hot) and log(prompt_chars), per benchmark.
// The fitted ones are logistic regressions on the *training* items. Unlike the model, baselines
// may use the subject label and the benchmark name: they are yardsticks, not routers we ship.

#include <vector>

#include "learn/router_eval_data.h"

namespace mec {

enum class Baseline { kRandom, kLength, kSubjectLength };

// Scores for `test` (one per item, same order). With an empty `train`, the length baseline falls
// back to "longer is harder" (score = -log(chars)) and subject+length to the same, since nothing
// can be fitted; callers should say so.
std::vector<double> BaselineScores(Baseline b, const std::vector<LabelledItem>& train, const std::vector<LabelledItem>& test);

}  // namespace mec
