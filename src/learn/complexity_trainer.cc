#include "learn/complexity_trainer.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/rng.h"
#include "learn/logistic_trainer.h"
#include "learn/routing_eval.h"

namespace mec {

void BuildComplexityDataset(const std::vector<LabelledPrompt>& items, const TextFeatureOptions& features,
                            SparseDataset* out) {
  out->dim = ModelFeatureSpaceSize(features);
  out->rows.assign(items.size(), SparseVector());
  out->labels.assign(items.size(), 0.0);
  out->weights.clear();
  for (size_t i = 0; i < items.size(); ++i) {
    ExtractTextFeatures(items[i].prompt, features, &out->rows[i]);
    // Merge repeated indices: fewer entries make every training pass cheaper.
    SparseVector& x = out->rows[i];
    std::vector<std::pair<uint32_t, float>> e(x.size());
    for (size_t k = 0; k < x.size(); ++k) e[k] = {x.index[k], x.value[k]};
    std::sort(e.begin(), e.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    x.Clear();
    for (const auto& [idx, v] : e) {
      if (x.size() > 0 && x.index.back() == idx) x.value.back() += v;
      else x.Add(idx, v);
    }
    x.index.shrink_to_fit();
    x.value.shrink_to_fit();
    out->labels[i] = items[i].item.WeakAsGood() ? 1.0 : 0.0;
  }
}

namespace {

// y' = (1 - s) y + s * (leave-one-out label rate of the item's subject).
std::vector<double> SmoothedLabels(const std::vector<LabelledPrompt>& items, const std::vector<size_t>& rows, double s) {
  std::map<std::string, std::pair<double, double>> by_subject;  // (positives, count)
  for (size_t r : rows) {
    auto& [pos, n] = by_subject[items[r].item.benchmark + "/" + items[r].item.subject];
    pos += items[r].item.WeakAsGood();
    n += 1;
  }
  std::vector<double> y(rows.size());
  for (size_t k = 0; k < rows.size(); ++k) {
    const auto& it = items[rows[k]].item;
    const double label = it.WeakAsGood() ? 1.0 : 0.0;
    const auto& [pos, n] = by_subject[it.benchmark + "/" + it.subject];
    const double rate = n > 1 ? (pos - label) / (n - 1) : label;
    y[k] = (1 - s) * label + s * rate;
  }
  return y;
}

// Fits the domain prior on all items, and appends out-of-fold E[D] features to the rows of `data`.
DomainPrior FitDomainPrior(const std::vector<LabelledPrompt>& items, const ComplexityTrainOptions& o, SparseDataset* data,
                           ComplexityTrainReport* rep) {
  std::map<std::string, int> domain_of;
  for (const auto& it : items) domain_of.emplace(it.item.benchmark + "/" + it.item.subject, 0);
  int nd = 0;
  for (auto& [name, id] : domain_of) id = nd++;
  std::vector<std::vector<uint64_t>> tokens(items.size());
  std::vector<DomainExample> examples(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    HashWordTokens(items[i].prompt, &tokens[i]);
    examples[i] = {&tokens[i], domain_of[items[i].item.benchmark + "/" + items[i].item.subject], items[i].item.WeakAsGood()};
  }
  const int folds = std::max(2, o.domain_folds);
  std::vector<std::vector<double>> oof(o.temperature_grid.size(), std::vector<double>(items.size(), 0.0));
  std::vector<double> scores;
  size_t correct = 0;
  for (int f = 0; f < folds; ++f) {
    std::vector<DomainExample> train;
    std::vector<size_t> held;
    for (size_t i = 0; i < items.size(); ++i) {
      if (static_cast<int>(Fnv1a64(items[i].item.item_id, 0xd0a1f01dull) % folds) == f) held.push_back(i);
      else train.push_back(examples[i]);
    }
    if (train.empty()) continue;
    const DomainPrior prior = o.discriminative_domain ? TrainSubjectClassifier(train, nd, 1.0f, o.subject)
                                                      : TrainDomainPrior(train, nd, 1.0f, o.domain);
    for (size_t i : held) {
      prior.ClassScores(tokens[i], &scores);
      const size_t top = static_cast<size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
      correct += static_cast<int>(top) == examples[i].domain;
      for (size_t t = 0; t < o.temperature_grid.size(); ++t)
        oof[t][i] = prior.ExpectedValue(scores, prior.temperature() * o.temperature_grid[t]);
    }
  }
  size_t best = 0;
  double best_auc = -1;
  for (size_t t = 0; t < o.temperature_grid.size(); ++t) {
    std::map<std::string, std::vector<RoutedItem>> by_bench;
    for (size_t i = 0; i < items.size(); ++i)
      by_bench[items[i].item.benchmark].push_back({oof[t][i], items[i].item.weak_correct, items[i].item.strong_correct});
    double sum = 0, weight = 0;
    for (const auto& [b, r] : by_bench) {
      const double auc = RoutingAuc(r);
      if (std::isnan(auc)) continue;
      sum += auc * r.size();
      weight += r.size();
    }
    const double auc = weight > 0 ? sum / weight : 0.5;
    rep->temperature_auc.emplace_back(o.temperature_grid[t], auc);
    if (auc > best_auc) {
      best_auc = auc;
      best = t;
    }
  }
  rep->chosen_temperature = o.temperature_grid[best];
  rep->domain_oof_accuracy = static_cast<double>(correct) / static_cast<double>(items.size());
  for (size_t i = 0; i < items.size(); ++i)
    AppendDomainFeatures(oof[best][i], DetectPromptType(items[i].prompt), o.features, &data->rows[i]);
  const float temperature = static_cast<float>(o.temperature_grid[best]);
  return o.discriminative_domain ? TrainSubjectClassifier(examples, nd, temperature, o.subject)
                                 : TrainDomainPrior(examples, nd, temperature, o.domain);
}

}  // namespace

Result<std::unique_ptr<LearnedComplexityModel>> TrainComplexityModel(const std::vector<LabelledPrompt>& items,
                                                                      const ComplexityTrainOptions& options,
                                                                      ComplexityTrainReport* report) {
  if (items.empty()) return Status::InvalidArgument("no training items");
  if (options.l2_grid.empty()) return Status::InvalidArgument("empty l2 grid");
  if (options.domain_prior && options.temperature_grid.empty()) return Status::InvalidArgument("empty temperature grid");
  SparseDataset data;
  BuildComplexityDataset(items, options.features, &data);
  ComplexityTrainReport rep;
  DomainPrior domain;
  if (options.domain_prior) domain = FitDomainPrior(items, options, &data, &rep);
  LogisticOptions lo;
  lo.max_iterations = options.max_iterations;
  lo.standardize_from = HashedSpaceSize(options.features);

  rep.examples = items.size();
  if (options.subject_smoothing_grid.empty()) return Status::InvalidArgument("empty subject smoothing grid");
  for (double sm : options.subject_smoothing_grid)
    if (sm < 0 || sm > 1) return Status::InvalidArgument("subject smoothing must be in [0, 1]");
  double best_l2 = options.l2_grid.front();
  double best_smoothing = options.subject_smoothing_grid.front();
  double best_conj = options.conjoined_l2_factor_grid.empty() ? 1.0 : options.conjoined_l2_factor_grid.front();
  if (options.conjoined_l2_factor_grid.empty()) return Status::InvalidArgument("empty conjoined l2 factor grid");
  // Column factors for a given conjoined-block multiplier.
  auto factors = [&](double conj) {
    std::vector<double> f(data.dim, 1.0);
    for (size_t j = ConjoinedBlockStart(options.features); j < HashedSpaceSize(options.features); ++j) f[j] = conj;
    for (size_t j = HashedSpaceSize(options.features); j < data.dim; ++j) f[j] = options.dense_l2_factor;
    return f;
  };
  std::vector<size_t> all_rows(items.size());
  for (size_t i = 0; i < items.size(); ++i) all_rows[i] = i;
  if (options.l2_grid.size() * options.subject_smoothing_grid.size() * options.conjoined_l2_factor_grid.size() > 1 &&
      options.cv_folds >= 2) {
    // Folds by a hash of the item id: deterministic and independent of the split rule's hash.
    std::vector<int> fold(items.size());
    for (size_t i = 0; i < items.size(); ++i) fold[i] = static_cast<int>(Fnv1a64(items[i].item.item_id, 0x5eedf01dull) % options.cv_folds);
    double best_auc = -1;
    for (double sm : options.subject_smoothing_grid)
    for (double conj : options.conjoined_l2_factor_grid)
    for (double l2 : options.l2_grid) {
      lo.l2 = l2;
      lo.l2_column_factor = factors(conj);
      std::vector<double> held_out(items.size(), 0.0);
      for (int f = 0; f < options.cv_folds; ++f) {
        std::vector<size_t> tr, te;
        for (size_t i = 0; i < items.size(); ++i) (fold[i] == f ? te : tr).push_back(i);
        if (tr.empty() || te.empty()) continue;
        SparseDataset fold_data = SubsetRows(data, tr);
        fold_data.labels = SmoothedLabels(items, tr, sm);
        auto fit = TrainLogistic(fold_data, lo);
        if (!fit.ok()) return fit.status();
        for (size_t i : te) held_out[i] = fit->Probability(data.rows[i]);
      }
      std::map<std::string, std::vector<RoutedItem>> by_bench;
      double loss = 0;
      for (size_t i = 0; i < items.size(); ++i) {
        by_bench[items[i].item.benchmark].push_back({held_out[i], items[i].item.weak_correct, items[i].item.strong_correct});
        loss += LogLoss(held_out[i], data.labels[i]);
      }
      double auc_sum = 0;
      int auc_n = 0;
      CrossValidationPoint p{l2, sm, conj, 0.5, loss / items.size(), {}};
      for (const auto& [bench, routed] : by_bench) {
        p.benchmarks.emplace_back(bench, EvaluateRouting(routed));
        const double auc = p.benchmarks.back().second.auc;
        if (!std::isnan(auc)) {
          auc_sum += auc;
          ++auc_n;
        }
      }
      p.mean_auc = auc_n ? auc_sum / auc_n : 0.5;
      rep.cv.push_back(p);
      if (p.mean_auc > best_auc) {
        best_auc = p.mean_auc;
        best_l2 = l2;
        best_smoothing = sm;
        best_conj = conj;
      }
    }
  }
  rep.chosen_l2 = best_l2;
  rep.chosen_subject_smoothing = best_smoothing;
  rep.chosen_conjoined_l2_factor = best_conj;
  lo.l2 = best_l2;
  lo.l2_column_factor = factors(best_conj);
  data.labels = SmoothedLabels(items, all_rows, best_smoothing);
  auto fit = TrainLogistic(data, lo);
  if (!fit.ok()) return fit.status();
  rep.iterations = fit->iterations;
  rep.converged = fit->converged;

  std::vector<double> w = fit->weights;
  if (options.max_weights > 0 && options.max_weights < w.size()) {
    // Keep the largest |w| among hashed features; dense features are always kept.
    const size_t hashed = HashedSpaceSize(options.features);
    std::vector<double> mags;
    for (size_t j = 0; j < hashed; ++j)
      if (w[j] != 0) mags.push_back(std::abs(w[j]));
    if (mags.size() > options.max_weights) {
      std::nth_element(mags.begin(), mags.begin() + (mags.size() - options.max_weights), mags.end());
      const double cut = mags[mags.size() - options.max_weights];
      for (size_t j = 0; j < hashed; ++j)
        if (std::abs(w[j]) < cut) w[j] = 0;
    }
  }
  auto model = LearnedComplexityModel::FromWeights(options.name, options.features, w, fit->bias, std::move(domain));
  rep.non_zero_weights = model->NonZeroWeights();
  if (report) *report = rep;
  return model;
}

}  // namespace mec
