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
  out->dim = FeatureSpaceSize(features);
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

Result<std::unique_ptr<LearnedComplexityModel>> TrainComplexityModel(const std::vector<LabelledPrompt>& items,
                                                                      const ComplexityTrainOptions& options,
                                                                      ComplexityTrainReport* report) {
  if (items.empty()) return Status::InvalidArgument("no training items");
  if (options.l2_grid.empty()) return Status::InvalidArgument("empty l2 grid");
  SparseDataset data;
  BuildComplexityDataset(items, options.features, &data);
  LogisticOptions lo;
  lo.max_iterations = options.max_iterations;
  lo.standardize_from = HashedSpaceSize(options.features);

  ComplexityTrainReport rep;
  rep.examples = items.size();
  double best_l2 = options.l2_grid.front();
  if (options.l2_grid.size() > 1 && options.cv_folds >= 2) {
    // Folds by a hash of the item id: deterministic and independent of the split rule's hash.
    std::vector<int> fold(items.size());
    for (size_t i = 0; i < items.size(); ++i) fold[i] = static_cast<int>(Fnv1a64(items[i].item.item_id, 0x5eedf01dull) % options.cv_folds);
    double best_auc = -1;
    for (double l2 : options.l2_grid) {
      lo.l2 = l2;
      std::vector<double> held_out(items.size(), 0.0);
      for (int f = 0; f < options.cv_folds; ++f) {
        std::vector<size_t> tr, te;
        for (size_t i = 0; i < items.size(); ++i) (fold[i] == f ? te : tr).push_back(i);
        if (tr.empty() || te.empty()) continue;
        auto fit = TrainLogistic(SubsetRows(data, tr), lo);
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
      CrossValidationPoint p{l2, 0.5, loss / items.size(), {}};
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
      }
    }
  }
  rep.chosen_l2 = best_l2;
  lo.l2 = best_l2;
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
  auto model = LearnedComplexityModel::FromWeights(options.name, options.features, w, fit->bias);
  rep.non_zero_weights = model->NonZeroWeights();
  if (report) *report = rep;
  return model;
}

}  // namespace mec
