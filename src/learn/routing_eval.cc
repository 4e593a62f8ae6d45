#include "learn/routing_eval.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace mec {
namespace {

bool WeakAsGood(const RoutedItem& it) { return !(it.strong_correct && !it.weak_correct); }

struct TieGroup {
  size_t size;
  double gain;  // sum over the group of strong_correct - weak_correct
};

// Groups of equal score, lowest score first (the order in which items go to the strong model).
std::vector<TieGroup> Groups(const std::vector<RoutedItem>& items) {
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return items[a].score < items[b].score; });
  std::vector<TieGroup> groups;
  for (size_t k = 0; k < order.size(); ++k) {
    const RoutedItem& it = items[order[k]];
    const double gain = static_cast<double>(it.strong_correct) - static_cast<double>(it.weak_correct);
    if (k > 0 && items[order[k - 1]].score == it.score) {
      groups.back().size += 1;
      groups.back().gain += gain;
    } else {
      groups.push_back({1, gain});
    }
  }
  return groups;
}

}  // namespace

std::vector<RoutingCurvePoint> RoutingCurve(const std::vector<RoutedItem>& items) {
  std::vector<RoutingCurvePoint> curve;
  const double n = static_cast<double>(items.size());
  if (items.empty()) return curve;
  double correct = 0;
  for (const auto& it : items) correct += it.weak_correct;
  size_t k = 0;
  curve.push_back({0.0, correct / n});
  for (const TieGroup& g : Groups(items)) {
    k += g.size;
    correct += g.gain;
    curve.push_back({k / n, correct / n});
  }
  return curve;
}

double RoutingAuc(const std::vector<RoutedItem>& items) {
  // Mann-Whitney U with average ranks for ties.
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return items[a].score < items[b].score; });
  double pos = 0, rank_sum = 0;
  size_t k = 0;
  while (k < order.size()) {
    size_t end = k;
    while (end < order.size() && items[order[end]].score == items[order[k]].score) ++end;
    const double avg_rank = 0.5 * static_cast<double>(k + 1 + end);  // ranks k+1 .. end
    for (size_t j = k; j < end; ++j) {
      if (WeakAsGood(items[order[j]])) {
        pos += 1;
        rank_sum += avg_rank;
      }
    }
    k = end;
  }
  const double neg = static_cast<double>(items.size()) - pos;
  if (pos == 0 || neg == 0) return std::numeric_limits<double>::quiet_NaN();
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

RoutingMetrics EvaluateRouting(const std::vector<RoutedItem>& items, double quality_target) {
  RoutingMetrics m;
  m.quality_target = quality_target;
  m.n = items.size();
  if (items.empty()) return m;
  const double n = static_cast<double>(items.size());
  double weak = 0, strong = 0;
  for (const auto& it : items) {
    weak += it.weak_correct;
    strong += it.strong_correct;
  }
  m.weak_accuracy = weak / n;
  m.strong_accuracy = strong / n;
  m.auc = RoutingAuc(items);

  // Walk the expected curve (in counts): within a tie group accuracy is linear in the number routed.
  const double target = quality_target * strong;
  const double tol = 1e-9 * std::max(1.0, n);
  double correct = weak, routed = 0, area = 0;
  bool found = weak + tol >= target;
  double strong_routed = 0;
  for (const TieGroup& g : Groups(items)) {
    const double next = correct + g.gain;
    area += 0.5 * (correct - weak + next - weak) * g.size;
    if (!found && next + tol >= target) {
      // Route k more items of this group, chosen at random: expected gain k/size * group gain.
      const double need = g.gain > 0 ? (target - correct) / g.gain * g.size : g.size;
      const double k = std::clamp(std::ceil(need - tol), 0.0, static_cast<double>(g.size));
      strong_routed = routed + k;
      found = true;
    }
    routed += g.size;
    correct = next;
  }
  if (!found) strong_routed = n;  // unreachable for quality_target <= 1
  m.strong_fraction = strong_routed / n;
  m.calls_saved = 1.0 - m.strong_fraction;
  m.apgr = strong != weak ? area / (n * (strong - weak)) : std::numeric_limits<double>::quiet_NaN();
  return m;
}

double WithinGroupAuc(const std::vector<RoutedItem>& items, const std::vector<std::string>& group) {
  std::map<std::string, std::vector<RoutedItem>> by_group;
  for (size_t i = 0; i < items.size(); ++i) by_group[group[i]].push_back(items[i]);
  double sum = 0, weight = 0;
  for (const auto& [name, g] : by_group) {
    const double auc = RoutingAuc(g);
    if (std::isnan(auc)) continue;
    sum += auc * static_cast<double>(g.size());
    weight += static_cast<double>(g.size());
  }
  return weight > 0 ? sum / weight : std::numeric_limits<double>::quiet_NaN();
}

PairedDifference BootstrapCallsSavedDifference(const std::vector<RoutedItem>& a, const std::vector<RoutedItem>& b,
                                               int reps, double quality_target, Rng& rng) {
  PairedDifference d;
  d.reps = reps;
  d.observed = EvaluateRouting(a, quality_target).calls_saved - EvaluateRouting(b, quality_target).calls_saved;
  if (a.empty() || reps < 2) return d;
  std::vector<double> diffs;
  std::vector<RoutedItem> ra(a.size()), rb(b.size());
  for (int r = 0; r < reps; ++r) {
    for (size_t i = 0; i < a.size(); ++i) {
      const size_t j = rng.Below(a.size());
      ra[i] = a[j];
      rb[i] = b[j];
    }
    diffs.push_back(EvaluateRouting(ra, quality_target).calls_saved - EvaluateRouting(rb, quality_target).calls_saved);
  }
  double sum = 0;
  for (double x : diffs) sum += x;
  d.mean = sum / reps;
  double ss = 0;
  for (double x : diffs) ss += (x - d.mean) * (x - d.mean);
  d.sd = std::sqrt(ss / (reps - 1));
  return d;
}

}  // namespace mec
