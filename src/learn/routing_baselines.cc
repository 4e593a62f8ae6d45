#include "learn/routing_baselines.h"

#include <cmath>
#include <map>
#include <string>

#include "learn/logistic_trainer.h"

namespace mec {
namespace {

// Feature rows for one benchmark: column 0 is log(chars); with subjects, 1 + subject index.
SparseVector Row(const LabelledItem& it, const std::map<std::string, uint32_t>* subjects) {
  SparseVector x;
  x.Add(0, static_cast<float>(std::log1p(it.prompt_chars)));
  if (subjects) {
    auto s = subjects->find(it.subject);
    if (s != subjects->end()) x.Add(s->second, 1.0f);  // an unseen subject gets no subject term
  }
  return x;
}

}  // namespace

std::vector<double> BaselineScores(Baseline b, const std::vector<LabelledItem>& train, const std::vector<LabelledItem>& test) {
  std::vector<double> scores(test.size(), 0.0);
  if (b == Baseline::kRandom) return scores;
  if (train.empty()) {
    for (size_t i = 0; i < test.size(); ++i) scores[i] = -std::log1p(test[i].prompt_chars);
    return scores;
  }
  std::map<std::string, std::vector<size_t>> test_by_bench;
  for (size_t i = 0; i < test.size(); ++i) test_by_bench[test[i].benchmark].push_back(i);
  for (const auto& [bench, idx] : test_by_bench) {
    std::map<std::string, uint32_t> subjects;
    SparseDataset d;
    for (const auto& it : train) {
      if (it.benchmark != bench) continue;
      if (b == Baseline::kSubjectLength) subjects.emplace(it.subject, 0);
    }
    uint32_t next = 1;
    for (auto& [name, index] : subjects) index = next++;
    const auto* subj = b == Baseline::kSubjectLength ? &subjects : nullptr;
    for (const auto& it : train) {
      if (it.benchmark != bench) continue;
      d.rows.push_back(Row(it, subj));
      d.labels.push_back(it.WeakAsGood() ? 1.0 : 0.0);
    }
    if (d.rows.empty()) {  // benchmark absent from training: fall back to "longer is harder"
      for (size_t i : idx) scores[i] = -std::log1p(test[i].prompt_chars);
      continue;
    }
    d.dim = next;
    LogisticOptions o;
    o.l2 = 1e-4;
    o.standardize_from = 0;
    auto fit = TrainLogistic(d, o);
    for (size_t i : idx) scores[i] = fit.ok() ? fit->Logit(Row(test[i], subj)) : -std::log1p(test[i].prompt_chars);
  }
  return scores;
}

}  // namespace mec
