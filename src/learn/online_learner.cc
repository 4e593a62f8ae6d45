#include "learn/online_learner.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/rng.h"
#include "learn/logistic_trainer.h"

namespace mec {
namespace {

double Logit(double p) {
  p = std::clamp(p, 1e-6, 1 - 1e-6);
  return std::log(p / (1 - p));
}

// Column layout of one correction's regression: word buckets, then the prior's logit, then the
// domain posterior.
struct Layout {
  size_t words = 0;
  size_t base = 0;
  size_t dense = 0;
  size_t denses = 0;
  size_t topic = 0;
  size_t topics = 0;
  size_t dim = 0;
};

// A key of a prompt known only by its features (its word buckets).
std::string FeatureKey(const AdaptFeatures& f) {
  std::string k;
  for (const auto& [b, v] : f.words) k += std::to_string(b) + ",";
  return k;
}

SparseVector Row(const AdaptFeatures& f, const Layout& l, const OnlineLearnOptions& o) {
  SparseVector x;
  for (const auto& [b, v] : f.words) x.Add(b, v);
  if (o.base_slope) x.Add(static_cast<uint32_t>(l.base), static_cast<float>(f.base_logit));
  if (l.denses > 0 && f.dense.size() == l.denses) {
    for (size_t k = 0; k < l.denses; ++k)
      if (f.dense[k] != 0.0f) x.Add(static_cast<uint32_t>(l.dense + k), f.dense[k]);
  }
  if (l.topics > 0 && f.topic.size() == l.topics) {
    for (size_t k = 0; k < l.topics; ++k) x.Add(static_cast<uint32_t>(l.topic + k), static_cast<float>(f.topic[k]));
  }
  return x;
}

QualityCorrection ToCorrection(const LogisticFit& fit, const Layout& l, int samples,
                               const std::vector<const AdaptFeatures*>& feats) {
  QualityCorrection c;
  c.samples = samples;
  c.bias = static_cast<float>(fit.bias);
  c.base_slope = static_cast<float>(fit.weights[l.base]);
  for (size_t k = 0; k < l.topics; ++k) c.topic.push_back(static_cast<float>(fit.weights[l.topic + k]));
  for (size_t k = 0; k < l.denses; ++k) {
    c.dense.push_back(static_cast<float>(fit.weights[l.dense + k]));
    float lo = INFINITY, hi = -INFINITY;
    for (const AdaptFeatures* f : feats) {
      if (f->dense.size() != l.denses) continue;
      lo = std::min(lo, f->dense[k]);
      hi = std::max(hi, f->dense[k]);
    }
    if (!(lo <= hi)) lo = hi = 0;
    c.dense_lo.push_back(lo);
    c.dense_hi.push_back(hi);
  }
  for (size_t b = 0; b < l.words; ++b) {
    const float w = static_cast<float>(fit.weights[b]);
    if (w != 0.0f) c.words.emplace_back(static_cast<uint32_t>(b), w);
  }
  std::map<uint32_t, uint32_t> support;
  for (const AdaptFeatures* f : feats)
    for (const auto& [b, v] : f->words) ++support[b];
  c.support.assign(support.begin(), support.end());
  return c;
}

// The exact-prompt memory of a class: every prompt judged, its count and as-good sum.
std::vector<QualityCorrection::Memo> Memos(const std::vector<const AdaptFeatures*>& feats, const std::vector<double>& as_good) {
  std::map<uint64_t, std::pair<uint32_t, double>> m;
  for (size_t i = 0; i < feats.size(); ++i) {
    auto& e = m[feats[i]->key];
    ++e.first;
    e.second += as_good[i];
  }
  std::vector<QualityCorrection::Memo> out;
  out.reserve(m.size());
  for (const auto& [k, v] : m) out.push_back({k, v.first, static_cast<float>(v.second)});
  return out;
}

// Fits one class's correction; `offsets` are the prior's logits for these rows.
Result<QualityCorrection> FitClass(const std::vector<const AdaptFeatures*>& feats, const std::vector<uint64_t>& groups,
                                   const std::vector<double>& labels,
                                   const std::vector<double>& offsets, const Layout& layout,
                                   const OnlineLearnOptions& o, OnlineFitClassReport* rep,
                                   const std::vector<double>* calibrate_to) {
  const size_t n = feats.size();
  SparseDataset d;
  for (size_t i = 0; i < n; ++i) d.rows.push_back(Row(*feats[i], layout, o));
  // The regression runs on the word buckets these rows use, renumbered densely (the others would
  // only carry zero weights through every L-BFGS step: 2^word_bits of them), and the weights are
  // mapped back to `layout` afterwards. The same fit, bit for bit, at a fraction of the cost.
  std::vector<uint32_t> used;
  for (const auto& r : d.rows)
    for (uint32_t c : r.index)
      if (c < layout.words) used.push_back(c);
  std::sort(used.begin(), used.end());
  used.erase(std::unique(used.begin(), used.end()), used.end());
  const size_t shift = layout.words - used.size();  // the non-word columns move down by this much
  for (auto& r : d.rows)
    for (uint32_t& c : r.index)
      c = c < layout.words ? static_cast<uint32_t>(std::lower_bound(used.begin(), used.end(), c) - used.begin())
                           : static_cast<uint32_t>(c - shift);
  Layout compact = layout;
  compact.words = used.size();
  compact.base -= shift;
  compact.dense -= shift;
  compact.topic -= shift;
  compact.dim -= shift;
  d.dim = compact.dim;
  d.labels = labels;
  d.offsets = offsets;
  rep->samples = static_cast<int>(n);
  rep->prior_log_loss = 0;
  for (size_t i = 0; i < n; ++i) rep->prior_log_loss += LogLoss(Sigmoid(offsets[i]), labels[i]) / n;

  LogisticOptions lo;
  lo.max_iterations = o.max_iterations;
  lo.standardize_from = compact.words;
  if (o.dense_l2_factor != 1.0 && compact.denses > 0) {
    lo.l2_column_factor.assign(compact.dim, 1.0);
    for (size_t k = 0; k < compact.denses; ++k) lo.l2_column_factor[compact.dense + k] = o.dense_l2_factor;
  }
  double best_l2 = o.l2_grid.empty() ? 0.1 : o.l2_grid.back();
  double best_loss = INFINITY;
  const int k = std::max(2, o.cv_folds);
  if (o.l2_grid.size() > 1 && n >= static_cast<size_t>(2 * k)) {
    for (double l2 : o.l2_grid) {
      lo.l2 = l2;
      double loss = 0;
      for (int fold = 0; fold < k; ++fold) {
        std::vector<size_t> train, test;
        // Folds by prompt: the same prompt asked again must not sit on both sides of a fold
        // (repeated prompts are common in real traffic, and would make CV choose to memorise).
        for (size_t i = 0; i < n; ++i) (static_cast<int>(groups[i] % k) == fold ? test : train).push_back(i);
        auto fit = TrainLogistic(SubsetRows(d, train), lo);
        if (!fit.ok()) return fit.status();
        for (size_t i : test) loss += LogLoss(Sigmoid(offsets[i] + fit->Logit(d.rows[i])), labels[i]);
      }
      loss /= static_cast<double>(n);
      if (loss < best_loss - 1e-12) {
        best_loss = loss;
        best_l2 = l2;
      }
    }
  } else if (!o.l2_grid.empty()) {
    best_l2 = o.l2_grid.back();  // too few samples to choose: the strongest shrinkage
  }
  rep->chosen_l2 = best_l2;
  rep->cv_log_loss = std::isfinite(best_loss) ? best_loss : 0;
  lo.l2 = best_l2;
  auto fit = TrainLogistic(d, lo);
  if (!fit.ok()) return fit.status();
  LogisticFit full = *fit;  // the weights in `layout`'s columns
  full.weights.assign(layout.dim, 0.0);
  for (size_t j = 0; j < used.size(); ++j) full.weights[used[j]] = fit->weights[j];
  for (size_t j = compact.words; j < compact.dim; ++j) full.weights[j + shift] = fit->weights[j];
  QualityCorrection c = ToCorrection(full, layout, static_cast<int>(n), feats);
  if (calibrate_to != nullptr) {
    // Calibration to "as good": sigmoid(a + b z) on the corrected logits z of the same rows.
    SparseDataset cal;
    cal.dim = 1;
    for (size_t i = 0; i < n; ++i) {
      SparseVector x;
      x.Add(0, static_cast<float>(offsets[i] + fit->Logit(d.rows[i])));
      cal.rows.push_back(std::move(x));
    }
    cal.labels = *calibrate_to;
    LogisticOptions co;
    co.l2 = 0.05;  // few samples that the ranking separates must not give a near-step calibration
    auto cf = TrainLogistic(cal, co);
    if (!cf.ok()) return cf.status();
    c.calib_a = static_cast<float>(cf->bias);
    c.calib_b = static_cast<float>(cf->weights[0]);
    // The calibration must neither turn the ranking round (few or noisy samples can fit b <= 0)
    // nor make it a step: keep kMinSlope <= b <= kMaxSlope and refit a alone (the mean of the
    // as-good verdicts at that slope).
    constexpr double kMinSlope = 0.1, kMaxSlope = 2.0;
    if (!(cf->weights[0] >= kMinSlope && cf->weights[0] <= kMaxSlope)) {
      const double slope = std::clamp(std::isfinite(cf->weights[0]) ? cf->weights[0] : kMinSlope, kMinSlope, kMaxSlope);
      c.calib_b = static_cast<float>(slope);
      double lo = -30, hi = 30, mean = 0;
      for (double v : *calibrate_to) mean += v / static_cast<double>(n);
      for (int it = 0; it < 60; ++it) {  // solve mean_i sigmoid(a + b z_i) = mean by bisection
        const double a = (lo + hi) / 2;
        double m = 0;
        for (const auto& r : cal.rows) m += Sigmoid(a + slope * r.value[0]) / static_cast<double>(n);
        (m < mean ? lo : hi) = a;
      }
      c.calib_a = static_cast<float>((lo + hi) / 2);
    }
  }
  return c;
}

}  // namespace

Result<std::unique_ptr<AdaptedComplexityModel>> FitAdaptedModel(std::shared_ptr<const ComplexityModel> base,
                                                                const std::vector<JudgedSample>& samples, int version,
                                                                const DeviceQualityAssumption& device,
                                                                const OnlineLearnOptions& o, OnlineFitReport* report) {
  if (base == nullptr) return Status::InvalidArgument("FitAdaptedModel: no base model");
  if (o.word_bits < 8 || o.word_bits > 24) return Status::InvalidArgument("FitAdaptedModel: word_bits out of [8, 24]");
  OnlineFitReport local;
  if (report == nullptr) report = &local;
  *report = OnlineFitReport();

  std::vector<AdaptFeatures> feats;
  feats.reserve(samples.size());
  for (const auto& s : samples) {
    feats.push_back(s.prompt.empty() && s.features ? *s.features
                                                   : AdaptedComplexityModel::Features(*base, s.prompt, o.word_bits));
  }
  Layout layout;
  layout.words = size_t{1} << o.word_bits;
  layout.base = layout.words;
  layout.dense = layout.base + 1;
  layout.denses = o.dense ? static_cast<size_t>(kNumDense) : 0;
  layout.topic = layout.dense + layout.denses;
  layout.topics = 0;
  if (o.topic) {
    for (const auto& f : feats) layout.topics = std::max(layout.topics, f.topic.size());
  }
  layout.dim = layout.topic + layout.topics;

  auto label = [&](const JudgedSample& s) {
    return std::clamp(o.target == OnlineTarget::kGain ? s.gain : s.as_good, 0.0, 1.0);
  };
  std::array<QualityCorrection, kQualityClasses> corr;
  // Edge first: the device class's offsets read the corrected edge quality.
  for (QualityClass qc : {QualityClass::kEdge, QualityClass::kDevice}) {
    std::vector<const AdaptFeatures*> f;
    std::vector<uint64_t> groups;
    std::vector<double> y, off, as_good;
    for (size_t i = 0; i < samples.size(); ++i) {
      if (samples[i].tier_class != qc) continue;
      f.push_back(&feats[i]);
      groups.push_back(samples[i].prompt.empty() ? Fnv1a64(FeatureKey(feats[i])) : Fnv1a64(samples[i].prompt));
      y.push_back(label(samples[i]));
      as_good.push_back(std::clamp(samples[i].as_good, 0.0, 1.0));
      if (qc == QualityClass::kEdge) {
        off.push_back(feats[i].base_logit);
      } else {
        const double edge =
            AdaptedComplexityModel::CorrectedQuality(corr[static_cast<int>(QualityClass::kEdge)], feats[i], feats[i].base_logit);
        off.push_back(Logit(DeviceQualityFromEdge(edge, device)));
      }
    }
    auto& rep = report->classes[static_cast<int>(qc)];
    rep.samples = static_cast<int>(f.size());
    if (static_cast<int>(f.size()) < std::max(1, o.min_samples)) continue;
    auto c = FitClass(f, groups, y, off, layout, o, &rep, o.target == OnlineTarget::kGain ? &as_good : nullptr);
    if (!c.ok()) return c.status();
    if (o.memo) c->memo = Memos(f, as_good);
    corr[static_cast<int>(qc)] = std::move(*c);
  }
  return std::make_unique<AdaptedComplexityModel>(std::move(base), version, o.word_bits, device, std::move(corr));
}

std::vector<RoutedItem> RoutedItemsFromSamples(const std::vector<JudgedSample>& samples, const std::vector<double>& scores) {
  std::vector<RoutedItem> items;
  items.reserve(samples.size());
  for (size_t i = 0; i < samples.size() && i < scores.size(); ++i) {
    RoutedItem r;
    r.score = scores[i];
    r.weak_correct = samples[i].as_good >= 0.5;
    r.strong_correct = samples[i].gain <= 0.5;
    items.push_back(r);
  }
  return items;
}

GateResult CompareOnHoldout(const ComplexityModel& live, const ComplexityModel& candidate,
                            const std::vector<JudgedSample>& holdout, const DeviceQualityAssumption& device) {
  GateResult g;
  auto num = [](double v) { return std::isfinite(v) ? v : 0.0; };
  auto quality = [&](const ComplexityModel& m, const JudgedSample& s) {
    if (s.prompt.empty()) {
      // Past the retention, or from another replica: from the stored features, which were computed
      // under the base that both models are (or are adapted on).
      if (const auto* a = dynamic_cast<const AdaptedComplexityModel*>(&m)) {
        const QualityPrediction p = a->PredictFromFeatures(*s.features);
        return s.tier_class == QualityClass::kEdge ? p.edge : p.device;
      }
      const double edge = Sigmoid(s.features->base_logit);
      return s.tier_class == QualityClass::kEdge ? edge : DeviceQualityFromEdge(edge, device);
    }
    const ComplexityEstimate e = m.Estimate(s.prompt);
    if (s.tier_class == QualityClass::kEdge) return e.edge;
    return e.device ? *e.device : DeviceQualityFromEdge(e.edge, device);
  };
  bool any = false, worse = false;
  std::string why;
  for (int k = 0; k < kQualityClasses; ++k) {
    std::vector<JudgedSample> cls;
    for (const auto& s : holdout)
      if (static_cast<int>(s.tier_class) == k && (!s.prompt.empty() || s.features)) cls.push_back(s);
    g.held_back[k] = cls.size();
    if (cls.empty()) continue;
    any = true;
    std::vector<double> a, b;
    for (const auto& s : cls) {
      a.push_back(quality(live, s));
      b.push_back(quality(candidate, s));
    }
    const std::vector<RoutedItem> live_items = RoutedItemsFromSamples(cls, a), cand_items = RoutedItemsFromSamples(cls, b);
    g.live[k] = EvaluateRouting(live_items);
    g.candidate[k] = EvaluateRouting(cand_items);
    const RoutingMetrics &l = g.live[k], &c = g.candidate[k];
    // Worse only when the drop in calls saved is larger than the noise of this holdout: a paired
    // bootstrap (the same resample for both models, a fixed seed so the gate is deterministic).
    Rng rng(kGateSeed, static_cast<uint64_t>(k));
    const PairedDifference d = BootstrapCallsSavedDifference(cand_items, live_items, kGateResamples, 0.95, rng);
    g.drop_sd[k] = d.sd;
    const double drop = l.calls_saved - c.calls_saved;
    const bool class_worse = drop > 1e-12 && drop > kGateZ * d.sd;
    worse |= class_worse;
    char buf[240];
    std::snprintf(buf, sizeof(buf), "%s%s %zu held back: calls saved %.1f%% vs live %.1f%% (+-%.1f%%)%s, APGR %.3f vs %.3f",
                  why.empty() ? "" : "; ", std::string(QualityClassName(static_cast<QualityClass>(k))).c_str(), cls.size(),
                  100 * c.calls_saved, 100 * l.calls_saved, 100 * d.sd, class_worse ? " worse" : "", num(c.apgr), num(l.apgr));
    why += buf;
  }
  g.pass = any && !worse;
  g.reason = any ? why : "no held-back samples";
  return g;
}

JudgedSample LabelledVerdict(std::string prompt, QualityClass tier, bool weak_correct, bool strong_correct) {
  JudgedSample s;
  s.prompt = std::move(prompt);
  s.tier_class = tier;
  s.as_good = (strong_correct && !weak_correct) ? 0.0 : 1.0;
  s.gain = (1.0 - (strong_correct ? 1.0 : 0.0) + (weak_correct ? 1.0 : 0.0)) / 2.0;
  return s;
}

bool IsHeldBack(std::string_view id, double share) {
  return static_cast<double>(Fnv1a64(id, 0x9e3779b97f4a7c15ull) % 10000) < share * 10000.0;
}

RetrainResult RetrainAndGate(std::shared_ptr<const ComplexityModel> base, const ComplexityModel& live,
                             const std::vector<JudgedSample>& train, const std::vector<JudgedSample>& holdout, int version,
                             const DeviceQualityAssumption& device, const OnlineLearnOptions& options) {
  RetrainResult r;
  auto candidate = FitAdaptedModel(std::move(base), train, version, device, options);
  if (!candidate.ok()) {
    r.reason = "fit failed: " + candidate.status().message();
    return r;
  }
  const GateResult g = CompareOnHoldout(live, **candidate, holdout, device);
  r.reason = g.reason;
  if (g.pass) r.promoted = std::shared_ptr<const ComplexityModel>(std::move(*candidate));
  return r;
}

}  // namespace mec
