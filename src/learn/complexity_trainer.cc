#include "learn/complexity_trainer.h"

#include <algorithm>
#include <cmath>
#include <array>
#include <map>
#include <tuple>

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

// The regression's target value of one item before smoothing.
double TargetValue(const LabelledItem& it, ComplexityTarget t) {
  if (t == ComplexityTarget::kLabel) return it.WeakAsGood() ? 1.0 : 0.0;
  return (1.0 - static_cast<double>(it.strong_correct) + static_cast<double>(it.weak_correct)) / 2;
}

// y' = (1 - s) y + s * (leave-one-out mean of y over the item's subject), y the target value.
std::vector<double> SmoothedLabels(const std::vector<LabelledPrompt>& items, const std::vector<size_t>& rows, double s,
                                   ComplexityTarget target = ComplexityTarget::kLabel) {
  std::map<std::string, std::pair<double, double>> by_subject;  // (sum of targets, count)
  for (size_t r : rows) {
    auto& [pos, n] = by_subject[items[r].item.benchmark + "/" + items[r].item.subject];
    pos += TargetValue(items[r].item, target);
    n += 1;
  }
  std::vector<double> y(rows.size());
  for (size_t k = 0; k < rows.size(); ++k) {
    const auto& it = items[rows[k]].item;
    const double label = TargetValue(it, target);
    const auto& [pos, n] = by_subject[it.benchmark + "/" + it.subject];
    const double rate = n > 1 ? (pos - label) / (n - 1) : label;
    y[k] = (1 - s) * label + s * rate;
  }
  return y;
}

// Fits the domain prior on all items, and appends out-of-fold E[D] features to the rows of `data`.
// Per domain: the mean of weak_correct - strong_correct over `rows`, shrunk towards the overall
// mean by 2 pseudo-items.
std::vector<float> DomainGains(const std::vector<DomainExample>& ex, const std::vector<double>& gain,
                               const std::vector<size_t>& rows, int nd) {
  std::vector<double> sum(nd, 0.0), n(nd, 0.0);
  double all = 0;
  for (size_t i : rows) {
    sum[ex[i].domain] += gain[i];
    n[ex[i].domain] += 1;
    all += gain[i];
  }
  const double mean = rows.empty() ? 0.0 : all / static_cast<double>(rows.size());
  std::vector<float> g(nd);
  for (int c = 0; c < nd; ++c) g[c] = static_cast<float>((sum[c] + 2 * mean) / (n[c] + 2));
  return g;
}

// With oof_gain/class_gain (both or neither): also E[G] out of fold and the per-domain gains.
DomainPrior FitDomainPrior(const std::vector<LabelledPrompt>& items, const ComplexityTrainOptions& o, SparseDataset* data,
                           ComplexityTrainReport* rep, std::vector<double>* oof_gain = nullptr,
                           std::vector<float>* class_gain = nullptr) {
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
  std::vector<double> gain(items.size());
  for (size_t i = 0; i < items.size(); ++i)
    gain[i] = static_cast<double>(items[i].item.weak_correct) - static_cast<double>(items[i].item.strong_correct);
  std::vector<std::vector<double>> held_scores(oof_gain ? items.size() : 0);
  std::vector<std::vector<float>> fold_gain(folds);
  std::vector<int> fold_of(items.size(), 0);
  for (int f = 0; f < folds; ++f) {
    std::vector<DomainExample> train;
    std::vector<size_t> held, train_rows;
    for (size_t i = 0; i < items.size(); ++i) {
      if (static_cast<int>(Fnv1a64(items[i].item.item_id, 0xd0a1f01dull) % folds) == f) held.push_back(i), fold_of[i] = f;
      else train.push_back(examples[i]), train_rows.push_back(i);
    }
    if (train.empty()) continue;
    if (oof_gain) fold_gain[f] = DomainGains(examples, gain, train_rows, nd);
    const DomainPrior prior = o.discriminative_domain ? TrainSubjectClassifier(train, nd, 1.0f, o.subject)
                                                      : TrainDomainPrior(train, nd, 1.0f, o.domain);
    for (size_t i : held) {
      prior.ClassScores(tokens[i], &scores);
      const size_t top = static_cast<size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
      correct += static_cast<int>(top) == examples[i].domain;
      for (size_t t = 0; t < o.temperature_grid.size(); ++t)
        oof[t][i] = prior.ExpectedValue(scores, prior.temperature() * o.temperature_grid[t]);
      if (oof_gain) held_scores[i] = scores;
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
  if (oof_gain) {
    DomainPrior probe;  // ExpectedOf needs no fitted state beyond the scores
    oof_gain->assign(items.size(), 0.0);
    for (size_t i = 0; i < items.size(); ++i)
      if (!held_scores[i].empty()) (*oof_gain)[i] = probe.ExpectedOf(held_scores[i], temperature, fold_gain[fold_of[i]]);
    std::vector<size_t> all(items.size());
    for (size_t i = 0; i < items.size(); ++i) all[i] = i;
    *class_gain = DomainGains(examples, gain, all, nd);
  }
  return o.discriminative_domain ? TrainSubjectClassifier(examples, nd, temperature, o.subject)
                                 : TrainDomainPrior(examples, nd, temperature, o.domain);
}


// Mean over benchmarks of the pooled APGR and AUC of `score` over the items `rows`.
void ScoreByBenchmark(const std::vector<LabelledPrompt>& items, const std::vector<size_t>& rows,
                      const std::vector<double>& score, StackCandidate* c) {
  std::map<std::string, std::vector<RoutedItem>> by_bench;
  for (size_t i : rows)
    by_bench[items[i].item.benchmark].push_back({score[i], items[i].item.weak_correct, items[i].item.strong_correct});
  double apgr = 0, auc = 0;
  int na = 0, nu = 0;
  for (const auto& [bench, routed] : by_bench) {
    c->benchmarks.emplace_back(bench, EvaluateRouting(routed));
    const RoutingMetrics& m = c->benchmarks.back().second;
    if (!std::isnan(m.apgr)) apgr += m.apgr, ++na;
    if (!std::isnan(m.auc)) auc += m.auc, ++nu;
  }
  c->mean_apgr = na ? apgr / na : 0.5;
  c->mean_auc = nu ? auc / nu : 0.5;
}

// A stage's linear part: logistic regression of the target on (z, E[D]) over `rows`.
Result<std::array<float, 3>> FitStackLinear(const std::vector<StackFeatureVector>& f, const std::vector<double>& y,
                                            const std::vector<size_t>& rows) {
  SparseDataset d;
  d.dim = 2;
  for (size_t r : rows) {
    SparseVector x;
    x.Add(0, f[r][0]);
    x.Add(1, f[r][1]);
    d.rows.push_back(std::move(x));
    d.labels.push_back(y[r]);
  }
  LogisticOptions lo;
  lo.l2 = 1e-4;
  lo.standardize_from = 0;
  lo.max_iterations = 200;
  auto fit = TrainLogistic(d, lo);
  if (!fit.ok()) return fit.status();
  return std::array<float, 3>{static_cast<float>(fit->bias), static_cast<float>(fit->weights[0]),
                              static_cast<float>(fit->weights[1])};
}

DenseRows StackRows(const std::vector<StackFeatureVector>& f, const std::vector<size_t>& rows) {
  DenseRows d;
  d.dim = kNumStackFeatures;
  d.x.reserve(rows.size() * kNumStackFeatures);
  for (size_t r : rows) d.x.insert(d.x.end(), f[r].begin(), f[r].end());
  return d;
}

std::vector<double> TargetValues(const std::vector<LabelledPrompt>& items, ComplexityTarget t) {
  std::vector<double> y(items.size());
  for (size_t i = 0; i < items.size(); ++i) y[i] = TargetValue(items[i].item, t);
  return y;
}

// 1-D logistic regression of the label on a margin over `rows`: (a, b) with
// P(weak as good) = sigmoid(a + b m).
Result<std::pair<float, float>> Calibrate(const std::vector<LabelledPrompt>& items, const std::vector<size_t>& rows,
                                          const std::vector<double>& m) {
  SparseDataset d;
  d.dim = 1;
  for (size_t i : rows) {
    SparseVector x;
    x.Add(0, static_cast<float>(m[i]));
    d.rows.push_back(std::move(x));
    d.labels.push_back(items[i].item.WeakAsGood() ? 1.0 : 0.0);
  }
  LogisticOptions lo;
  lo.l2 = 1e-6;
  auto fit = TrainLogistic(d, lo);
  if (!fit.ok()) return fit.status();
  return std::make_pair(static_cast<float>(fit->bias), static_cast<float>(fit->weights[0]));
}

// One prompt type's stage: candidates by cross-validation over that type's rows (out-of-fold
// inputs), then the chosen one fitted on all of them (disabled when "none" wins and the first
// stage was fitted to the label).
Result<StackStage> TrainStackStage(const std::vector<LabelledPrompt>& items, const ComplexityTrainOptions& o, int type,
                                   const std::vector<size_t>& rows, const std::vector<StackFeatureVector>& f,
                                   const std::vector<double>& oof_logit, ComplexityTrainReport* rep) {
  const StackOptions& so = o.stack;
  std::vector<int> counts = so.tree_counts;
  std::sort(counts.begin(), counts.end());
  counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
  const int folds = o.cv_folds;
  const size_t n = items.size();
  std::vector<int> fold(n, 0);
  for (size_t i : rows) fold[i] = static_cast<int>(Fnv1a64(items[i].item.item_id, 0x5eedf01dull) % folds);

  const size_t first = rep->stack_cv.size();
  StackCandidate none;
  none.type = type;
  none.none = true;
  ScoreByBenchmark(items, rows, oof_logit, &none);
  rep->stack_cv.push_back(none);
  std::vector<std::vector<double>> oof_margins;  // per candidate after `none`
  const bool enough = rows.size() >= static_cast<size_t>(4 * folds * so.gbdt.min_leaf);
  for (ComplexityTarget target : so.enabled && enough ? so.targets : std::vector<ComplexityTarget>{}) {
    const std::vector<double> y = TargetValues(items, target);
    for (int depth : so.depths) {
      std::vector<std::vector<double>> margin(counts.size(), std::vector<double>(n, 0.0));
      for (int fo = 0; fo < folds; ++fo) {
        std::vector<size_t> tr, te;
        for (size_t i : rows) (fold[i] == fo ? te : tr).push_back(i);
        if (tr.empty() || te.empty()) continue;
        auto lin = FitStackLinear(f, y, tr);
        if (!lin.ok()) return lin.status();
        StackStage st;
        st.linear = *lin;
        std::vector<double> base(tr.size()), ytr(tr.size());
        for (size_t k = 0; k < tr.size(); ++k) base[k] = st.Margin(f[tr[k]]), ytr[k] = y[tr[k]];
        GbdtOptions go = so.gbdt;
        go.trees = counts.back();
        go.depth = depth;
        auto trees = TrainGbdt(StackRows(f, tr), ytr, base, go);
        if (!trees.ok()) return trees.status();
        st.trees = std::move(trees).value();
        for (size_t c = 0; c < counts.size(); ++c)
          for (size_t i : te) margin[c][i] = st.Margin(f[i], static_cast<size_t>(counts[c]));
      }
      for (size_t c = 0; c < counts.size(); ++c) {
        StackCandidate cand;
        cand.type = type;
        cand.target = target;
        cand.depth = depth;
        cand.trees = counts[c];
        ScoreByBenchmark(items, rows, margin[c], &cand);
        rep->stack_cv.push_back(cand);
        oof_margins.push_back(std::move(margin[c]));
      }
    }
  }
  size_t best = first;
  for (size_t c = first + 1; c < rep->stack_cv.size(); ++c)
    if (rep->stack_cv[c].mean_apgr > rep->stack_cv[best].mean_apgr) best = c;
  rep->chosen_stack[type] = static_cast<int>(best);
  StackStage st;
  const StackCandidate& b = rep->stack_cv[best];
  if (b.none) {
    if (rep->chosen_target == ComplexityTarget::kLabel) return st;
    auto ab = Calibrate(items, rows, oof_logit);  // the regression was fitted to another target
    if (!ab.ok()) return ab.status();
    std::tie(st.calib_a, st.calib_b) = *ab;
    st.enabled = true;
    return st;
  }
  const std::vector<double> y = TargetValues(items, b.target);
  auto lin = FitStackLinear(f, y, rows);
  if (!lin.ok()) return lin.status();
  st.linear = *lin;
  if (b.trees > 0) {
    std::vector<double> base(rows.size()), ytr(rows.size());
    for (size_t k = 0; k < rows.size(); ++k) base[k] = st.Margin(f[rows[k]]), ytr[k] = y[rows[k]];
    GbdtOptions go = so.gbdt;
    go.trees = b.trees;
    go.depth = b.depth;
    auto trees = TrainGbdt(StackRows(f, rows), ytr, base, go);
    if (!trees.ok()) return trees.status();
    st.trees = std::move(trees).value();
  }
  if (b.target != ComplexityTarget::kLabel) {
    // Calibration to P(weak as good), on the out-of-fold margins.
    auto ab = Calibrate(items, rows, oof_margins[best - first - 1]);
    if (!ab.ok()) return ab.status();
    std::tie(st.calib_a, st.calib_b) = *ab;
  }
  st.enabled = true;
  return st;
}

// The second stage: one per prompt type.
Result<ComplexityStacker> TrainStacker(const std::vector<LabelledPrompt>& items, const ComplexityTrainOptions& o,
                                       const SparseDataset& data, const std::vector<double>& oof_logit,
                                       const std::vector<double>& oof_gain, ComplexityTrainReport* rep) {
  const StackOptions& so = o.stack;
  if (so.targets.empty() || so.depths.empty() || so.tree_counts.empty()) return Status::InvalidArgument("empty stack grid");
  if (*std::min_element(so.tree_counts.begin(), so.tree_counts.end()) < 0) return Status::InvalidArgument("negative tree count");
  const size_t n = items.size();
  std::vector<StackFeatureVector> f(n);
  std::array<std::vector<size_t>, 2> rows;
  for (size_t i = 0; i < n; ++i) {
    const PromptType type = DetectPromptType(items[i].prompt);
    f[i] = StackFeatures(data.rows[i], type, oof_logit[i], o.features, oof_gain.empty() ? 0.0 : oof_gain[i]);
    rows[static_cast<int>(type)].push_back(i);
  }
  ComplexityStacker st;
  for (int t = 0; t < 2; ++t) {
    if (rows[t].empty()) continue;
    auto stage = TrainStackStage(items, o, t, rows[t], f, oof_logit, rep);
    if (!stage.ok()) return stage.status();
    st.stages[t] = std::move(stage).value();
  }
  return st;
}

// The running mean of logistic fits' weights and biases.
struct FoldAverage {
  std::vector<double> w;
  double b = 0;
  int n = 0;
  void Add(const LogisticFit& fit) {
    if (w.empty()) w.assign(fit.weights.size(), 0.0);
    for (size_t j = 0; j < w.size(); ++j) w[j] += fit.weights[j];
    b += fit.bias;
    ++n;
  }
  void Finish(std::vector<double>* weights, double* bias) const {
    weights->resize(w.size());
    for (size_t j = 0; j < w.size(); ++j) (*weights)[j] = w[j] / n;
    *bias = b / n;
  }
};

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
  std::vector<double> oof_gain;
  std::vector<float> class_gain;
  const bool want_gain = options.stack.enabled && options.stack.domain_gain && options.domain_prior;
  if (options.domain_prior)
    domain = FitDomainPrior(items, options, &data, &rep, want_gain ? &oof_gain : nullptr, want_gain ? &class_gain : nullptr);
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
  std::vector<double> oof_logit;  // the regression's held-out logits at the chosen point
  // The mean of the fold models that produced oof_logit (with stack.average_fold_models).
  FoldAverage best_average;
  const int refit_folds =
      options.stack.first_stage_folds == options.cv_folds ? 0 : std::max(0, options.stack.first_stage_folds);
  if (options.stack.first_stage_folds == 1) return Status::InvalidArgument("stack first-stage folds must be 0 or >= 2");
  if (options.target_grid.empty()) return Status::InvalidArgument("empty target grid");
  const bool other_target = std::any_of(options.target_grid.begin(), options.target_grid.end(),
                                        [](ComplexityTarget t) { return t != ComplexityTarget::kLabel; });
  ComplexityTarget best_target = options.target_grid.front();
  if ((options.l2_grid.size() * options.subject_smoothing_grid.size() * options.conjoined_l2_factor_grid.size() *
           options.target_grid.size() > 1 ||
       options.stack.enabled || other_target) &&
      options.cv_folds >= 2) {
    // Folds by a hash of the item id: deterministic and independent of the split rule's hash.
    std::vector<int> fold(items.size());
    for (size_t i = 0; i < items.size(); ++i) fold[i] = static_cast<int>(Fnv1a64(items[i].item.item_id, 0x5eedf01dull) % options.cv_folds);
    double best_score = -1;
    const bool keep_fold_average = options.stack.average_fold_models && refit_folds == 0;
    for (ComplexityTarget target : options.target_grid)
    for (double sm : options.subject_smoothing_grid)
    for (double conj : options.conjoined_l2_factor_grid)
    for (double l2 : options.l2_grid) {
      lo.l2 = l2;
      lo.l2_column_factor = factors(conj);
      std::vector<double> held_out(items.size(), 0.0), held_out_logit(items.size(), 0.0);
      FoldAverage avg;
      for (int f = 0; f < options.cv_folds; ++f) {
        std::vector<size_t> tr, te;
        for (size_t i = 0; i < items.size(); ++i) (fold[i] == f ? te : tr).push_back(i);
        if (tr.empty() || te.empty()) continue;
        SparseDataset fold_data = SubsetRows(data, tr);
        fold_data.labels = SmoothedLabels(items, tr, sm, target);
        auto fit = TrainLogistic(fold_data, lo);
        if (!fit.ok()) return fit.status();
        for (size_t i : te) {
          held_out_logit[i] = fit->Logit(data.rows[i]);
          held_out[i] = Sigmoid(held_out_logit[i]);
        }
        if (keep_fold_average) avg.Add(*fit);
      }
      std::map<std::string, std::vector<RoutedItem>> by_bench;
      double loss = 0;
      for (size_t i = 0; i < items.size(); ++i) {
        by_bench[items[i].item.benchmark].push_back({held_out[i], items[i].item.weak_correct, items[i].item.strong_correct});
        loss += LogLoss(held_out[i], data.labels[i]);
      }
      double auc_sum = 0, apgr_sum = 0;
      int auc_n = 0, apgr_n = 0;
      CrossValidationPoint p{l2, sm, conj, target, 0.5, 0.5, loss / items.size(), {}};
      for (const auto& [bench, routed] : by_bench) {
        p.benchmarks.emplace_back(bench, EvaluateRouting(routed));
        const double auc = p.benchmarks.back().second.auc;
        const double apgr = p.benchmarks.back().second.apgr;
        if (!std::isnan(auc)) {
          auc_sum += auc;
          ++auc_n;
        }
        if (!std::isnan(apgr)) {
          apgr_sum += apgr;
          ++apgr_n;
        }
      }
      p.mean_auc = auc_n ? auc_sum / auc_n : 0.5;
      p.mean_apgr = apgr_n ? apgr_sum / apgr_n : 0.5;
      rep.cv.push_back(p);
      const double score = options.cv_metric == CvMetric::kAuc ? p.mean_auc : p.mean_apgr;
      if (score > best_score) {
        best_score = score;
        best_target = target;
        best_l2 = l2;
        best_smoothing = sm;
        best_conj = conj;
        oof_logit = held_out_logit;
        best_average = std::move(avg);
      }
    }
  }
  rep.chosen_l2 = best_l2;
  rep.chosen_subject_smoothing = best_smoothing;
  rep.chosen_conjoined_l2_factor = best_conj;
  rep.chosen_target = best_target;
  lo.l2 = best_l2;
  lo.l2_column_factor = factors(best_conj);
  const bool stage_wanted = options.stack.enabled || best_target != ComplexityTarget::kLabel;
  if (stage_wanted && refit_folds > 0 && !oof_logit.empty()) {
    // Out-of-fold logits from refit_folds folds at the chosen point (closer to the full fit).
    std::vector<int> fold(items.size());
    for (size_t i = 0; i < items.size(); ++i) fold[i] = static_cast<int>(Fnv1a64(items[i].item.item_id, 0x5eedf01dull) % refit_folds);
    best_average = FoldAverage();
    for (int f = 0; f < refit_folds; ++f) {
      std::vector<size_t> tr, te;
      for (size_t i = 0; i < items.size(); ++i) (fold[i] == f ? te : tr).push_back(i);
      if (tr.empty() || te.empty()) continue;
      SparseDataset fold_data = SubsetRows(data, tr);
      fold_data.labels = SmoothedLabels(items, tr, best_smoothing, best_target);
      auto fit = TrainLogistic(fold_data, lo);
      if (!fit.ok()) return fit.status();
      for (size_t i : te) oof_logit[i] = fit->Logit(data.rows[i]);
      if (options.stack.average_fold_models) best_average.Add(*fit);
    }
  }
  data.labels = SmoothedLabels(items, all_rows, best_smoothing, best_target);
  std::vector<double> w;
  double bias = 0;
  if (stage_wanted && options.stack.average_fold_models && best_average.n > 0) {
    // The shipped regression is the fold models' mean: what the stage's inputs came from.
    best_average.Finish(&w, &bias);
    rep.iterations = 0;
    rep.converged = true;
  } else {
    auto fit = TrainLogistic(data, lo);
    if (!fit.ok()) return fit.status();
    rep.iterations = fit->iterations;
    rep.converged = fit->converged;
    w = fit->weights;
    bias = fit->bias;
  }
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
  auto model = LearnedComplexityModel::FromWeights(options.name, options.features, w, bias, std::move(domain));
  rep.non_zero_weights = model->NonZeroWeights();
  if (stage_wanted) {
    if (oof_logit.empty()) return Status::InvalidArgument("the second stage needs cross-validation (cv_folds >= 2)");
    auto st = TrainStacker(items, options, data, oof_logit, oof_gain, &rep);
    if (!st.ok()) return st.status();
    if (!oof_gain.empty() && st->enabled()) st->class_gain = class_gain;
    model->set_stacker(std::move(st).value());
  }
  if (report) *report = rep;
  return model;
}

}  // namespace mec
