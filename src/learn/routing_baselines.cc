#include "learn/routing_baselines.h"

#include <cmath>
#include <map>
#include <string>
#include <utility>

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

// (1 - strong + weak) / 2: 1 when only the weak model is right, 1/2 for a tie, 0 when only the strong one is.
double Gain(const LabelledItem& it) { return 0.5 * (1.0 - it.strong_correct + it.weak_correct); }

struct Mean {
  double sum = 0;
  double n = 0;
};

// Per-subject mean gain of `train` within one benchmark, shrunk to the benchmark mean.
std::vector<double> SubjectGainScores(const std::vector<LabelledItem>& train, const std::vector<LabelledItem>& test,
                                      double pseudo_items) {
  std::map<std::string, Mean> bench_mean;
  std::map<std::pair<std::string, std::string>, Mean> subject_mean;
  for (const auto& it : train) {
    const double g = Gain(it);
    bench_mean[it.benchmark].sum += g;
    bench_mean[it.benchmark].n += 1;
    auto& m = subject_mean[{it.benchmark, it.subject}];
    m.sum += g;
    m.n += 1;
  }
  std::vector<double> scores(test.size(), 0.5);
  for (size_t i = 0; i < test.size(); ++i) {
    auto b = bench_mean.find(test[i].benchmark);
    if (b == bench_mean.end()) continue;  // benchmark never trained on: a constant (random order)
    const double prior = b->second.sum / b->second.n;
    auto s = subject_mean.find({test[i].benchmark, test[i].subject});
    scores[i] = s == subject_mean.end() ? prior : (s->second.sum + pseudo_items * prior) / (s->second.n + pseudo_items);
  }
  return scores;
}

}  // namespace

std::vector<double> SubjectOracleScores(const std::vector<LabelledItem>& items) {
  return SubjectGainScores(items, items, 0.0);
}

std::vector<double> BaselineScores(Baseline b, const std::vector<LabelledItem>& train, const std::vector<LabelledItem>& test) {
  std::vector<double> scores(test.size(), 0.0);
  if (b == Baseline::kRandom) return scores;
  if (b == Baseline::kSubjectGain) return SubjectGainScores(train, test, 2.0);
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
