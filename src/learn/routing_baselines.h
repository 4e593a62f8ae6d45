#pragma once
// Plain routers to compare the learned complexity model against, on the same items:
//   random          a constant score (EvaluateRouting then gives the exact expected value);
//   length          P(weak as good) from log(prompt_chars) alone, per benchmark;
//   subject+length  from the MMLU subject (one-hot) and log(prompt_chars), per benchmark;
//   subject gain    the mean accuracy gain (1 - strong_correct + weak_correct) / 2 of the training
//                   items of the item's subject, shrunk to its benchmark's mean by 2 pseudo-items
//                   (an unseen subject gets the benchmark's mean): the subject and nothing else,
//                   ranked by what the strong model adds (the routing curve's own measure).
// The fitted ones are logistic regressions on the *training* items. Unlike the model, baselines
// may use the subject label and the benchmark name: they are yardsticks, not routers we ship.

#include <vector>

#include "learn/router_eval_data.h"

namespace mec {

enum class Baseline { kRandom, kLength, kSubjectLength, kSubjectGain };

// Scores for `test` (one per item, same order). With an empty `train`, the length baseline falls
// back to "longer is harder" (score = -log(chars)) and subject+length to the same, since nothing
// can be fitted (subject gain is then a constant: random); callers should say so.
std::vector<double> BaselineScores(Baseline b, const std::vector<LabelledItem>& train, const std::vector<LabelledItem>& test);

// A reference ceiling, not a router: every item is scored by the mean gain of its (benchmark,
// subject) over `items` themselves, i.e. it reads the labels being evaluated. Within a subject the
// order is random (ties), so the expected routing curve is piecewise linear with one segment per
// subject of slope mean(strong - weak); ordering the segments by slope gives the highest curve at
// every point. Hence no router whose score depends on the subject alone can save more strong calls
// on these items than this; beating it needs information *within* subjects.
std::vector<double> SubjectOracleScores(const std::vector<LabelledItem>& items);

}  // namespace mec
