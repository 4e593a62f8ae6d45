#include "learn/subject_classifier_trainer.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "learn/lbfgs.h"

namespace mec {
namespace {

struct SubjectRow {
  std::vector<uint32_t> slot;   // compact token index
  std::vector<float> count;
  int domain;
};

// Mean cross-entropy + (l2/2)|W|^2 and its gradient at theta = [W (K x C, row-major), b (C)].
double Evaluate(const std::vector<SubjectRow>& rows, size_t k, size_t nc, double l2, const std::vector<double>& theta,
                std::vector<double>* grad, double* accuracy = nullptr) {
  std::fill(grad->begin(), grad->end(), 0.0);
  const double* b = &theta[k * nc];
  double* gb = &(*grad)[k * nc];
  std::vector<double> z(nc);
  double loss = 0;
  size_t correct = 0;
  const double inv_n = 1.0 / static_cast<double>(rows.size());
  for (const SubjectRow& r : rows) {
    for (size_t c = 0; c < nc; ++c) z[c] = b[c];
    for (size_t j = 0; j < r.slot.size(); ++j) {
      const double* w = &theta[static_cast<size_t>(r.slot[j]) * nc];
      const double v = r.count[j];
      for (size_t c = 0; c < nc; ++c) z[c] += v * w[c];
    }
    const size_t top = static_cast<size_t>(std::max_element(z.begin(), z.end()) - z.begin());
    correct += static_cast<int>(top) == r.domain;
    const double m = z[top];
    double sum = 0;
    for (size_t c = 0; c < nc; ++c) {
      z[c] = std::exp(z[c] - m);
      sum += z[c];
    }
    loss -= std::log(z[r.domain] / sum) * inv_n;
    for (size_t c = 0; c < nc; ++c) z[c] = (z[c] / sum - (static_cast<int>(c) == r.domain ? 1.0 : 0.0)) * inv_n;
    for (size_t c = 0; c < nc; ++c) gb[c] += z[c];
    for (size_t j = 0; j < r.slot.size(); ++j) {
      double* g = &(*grad)[static_cast<size_t>(r.slot[j]) * nc];
      const double v = r.count[j];
      for (size_t c = 0; c < nc; ++c) g[c] += v * z[c];
    }
  }
  double reg = 0;
  for (size_t i = 0; i < k * nc; ++i) {
    reg += theta[i] * theta[i];
    (*grad)[i] += l2 * theta[i];
  }
  if (accuracy) *accuracy = static_cast<double>(correct) * inv_n;
  return loss + 0.5 * l2 * reg;
}

}  // namespace

DomainPrior TrainSubjectClassifier(const std::vector<DomainExample>& examples, int num_domains, float temperature,
                                   const SubjectClassifierOptions& o, SubjectClassifierReport* report) {
  const size_t nc = static_cast<size_t>(num_domains);
  const size_t buckets = size_t{1} << o.hash_bits;
  const DomainPrior mapper(o.hash_bits, 1.0f, {DomainPriorClass{}}, {}, {});
  // Known buckets: seen at least min_token_count times in training.
  std::vector<int64_t> total(buckets, 0);
  std::vector<double> n(nc, 0), pos(nc, 0);
  double all_pos = 0;
  for (const auto& e : examples) {
    n[e.domain] += 1;
    pos[e.domain] += e.weak_as_good;
    all_pos += e.weak_as_good;
    for (uint64_t h : *e.tokens) ++total[mapper.Bucket(h)];
  }
  std::vector<int32_t> slot_of(buckets, -1);
  std::vector<uint32_t> bucket_of;
  for (size_t b = 0; b < buckets; ++b) {
    if (total[b] < o.min_token_count) continue;
    slot_of[b] = static_cast<int32_t>(bucket_of.size());
    bucket_of.push_back(static_cast<uint32_t>(b));
  }
  const size_t k = bucket_of.size();
  std::vector<SubjectRow> rows(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    std::vector<uint32_t> s;
    for (uint64_t h : *examples[i].tokens)
      if (const int32_t j = slot_of[mapper.Bucket(h)]; j >= 0) s.push_back(static_cast<uint32_t>(j));
    std::sort(s.begin(), s.end());
    SubjectRow& r = rows[i];
    r.domain = examples[i].domain;
    for (uint32_t j : s) {
      if (!r.slot.empty() && r.slot.back() == j) r.count.back() += 1.0f;
      else {
        r.slot.push_back(j);
        r.count.push_back(1.0f);
      }
    }
  }

  // L-BFGS, starting from W = 0 and the log class frequencies.
  const size_t dim = k * nc + nc;
  std::vector<double> theta(dim, 0.0);
  for (size_t c = 0; c < nc; ++c) theta[k * nc + c] = n[c] > 0 ? std::log(n[c] / examples.size()) : -30.0;
  LbfgsOptions lo;
  lo.max_iterations = o.max_iterations;
  lo.memory = 8;
  lo.tolerance = 1e-6;
  lo.relative_decrease = 1e-9;
  const LbfgsResult fit =
      MinimizeLbfgs([&](const std::vector<double>& t, std::vector<double>* g) { return Evaluate(rows, k, nc, o.l2, t, g); }, theta, lo);

  // Median shift per token row, then keep the largest entries.
  const double min_abs = 1.0 / (32.0 * o.scale);  // rounds to 0 in the file's 1/16 steps
  std::vector<DomainPriorEntry> entries;
  std::vector<double> row(nc);
  for (size_t j = 0; j < k; ++j) {
    for (size_t c = 0; c < nc; ++c) row[c] = theta[j * nc + c];
    std::vector<double> sorted = row;
    std::nth_element(sorted.begin(), sorted.begin() + nc / 2, sorted.end());
    const double med = sorted[nc / 2];
    for (size_t c = 0; c < nc; ++c) {
      const double w = row[c] - med;
      if (std::abs(w) >= min_abs && n[c] > 0)
        entries.push_back({bucket_of[j], static_cast<uint16_t>(c), static_cast<float>(w * o.scale)});
    }
  }
  if (o.max_entries > 0 && entries.size() > o.max_entries) {
    std::vector<float> mags(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) mags[i] = std::abs(entries[i].delta);
    std::nth_element(mags.begin(), mags.begin() + (mags.size() - o.max_entries), mags.end());
    const float cut = mags[mags.size() - o.max_entries];
    std::vector<DomainPriorEntry> kept;
    for (const auto& e : entries)
      if (std::abs(e.delta) > cut || (std::abs(e.delta) == cut && kept.size() < o.max_entries)) kept.push_back(e);
    entries.swap(kept);
  }
  // Entries are generated in bucket order; the known buckets are those with an entry left.
  std::vector<uint32_t> known;
  for (const auto& e : entries)
    if (known.empty() || known.back() != e.bucket) known.push_back(e.bucket);

  const double rate = all_pos / static_cast<double>(examples.size());
  std::vector<DomainPriorClass> classes(nc);
  for (size_t c = 0; c < nc; ++c) {
    classes[c].log_prior = n[c] > 0 ? static_cast<float>(theta[k * nc + c] * o.scale) : -1e30f;
    classes[c].base = 0.0f;
    const double p = (pos[c] + o.value_pseudo_count * rate) / (n[c] + o.value_pseudo_count);
    const double pc = std::min(std::max(p, 1e-4), 1 - 1e-4);
    classes[c].value = static_cast<float>(std::log(pc / (1 - pc)));
  }
  if (report) {
    report->iterations = fit.iterations;
    report->objective = fit.objective;
    std::vector<double> grad(dim);
    Evaluate(rows, k, nc, o.l2, theta, &grad, &report->train_accuracy);
    report->entries = entries.size();
  }
  return DomainPrior(o.hash_bits, static_cast<float>(temperature / o.scale), std::move(classes), std::move(entries),
                     std::move(known));
}

}  // namespace mec
