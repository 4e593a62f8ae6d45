#pragma once
// The minimum quality held as a per-class average (the simulator issue's quality contract: "in
// every use case, the share of answers as good as the strongest tier's is at least the use
// case's minimum"), instead of a floor on every single request.
//
// A class is a (use case, minimum quality) pair; without a use case, the minimum quality alone.
// Its target is min + margin x (1 - min): the margin is a fraction of the shortfall the minimum
// allows (0.25: a 0.95 class aims at 0.9625, a 0.5 class at 0.625). Per class, two numbers:
//
//   credit  c = sum over the class's decisions of (q - target), clamped to [-cap, +cap], where q
//           is the predicted quality (route/, from the complexity model and the tier profiles)
//           of the answer the router chose. c >= 0 means the chosen answers' mean predicted
//           quality is at least the target (the cap bounds how much a long good history can
//           buy at once: at most `credit_cap` answers' worth of quality).
//   threshold t, in [0, target], a Robbins-Monro controller: t += step x (target - q) after every
//           decision, starting at the target. It falls while the chosen answers run above the
//           target and rises while they run below, so the credit is spent on the most promising
//           cheap answers (RouteLLM-style threshold calibration, online).
//
// The contract (Admits): a candidate of predicted quality q is acceptable for the class when
//     q >= target, or (q >= t and c + q - target >= 0)
// so, as long as the router takes an acceptable candidate, the class's cumulative mean predicted
// quality never drops below its target, hence never below its minimum. When nothing acceptable
// can meet the deadline the router degrades as before and the charge drives c below zero: the
// next cheap answers are then refused until stronger ones have paid it back. The router reads
// (Gate) while deciding; the caller charges (Charge) once it acts on the decision — never for a
// shadow decision or a shed request.
//
// Thread-safety: every method may be called from any thread, lock-free (atomics; a concurrent
// Gate and Charge may see each other's update or not, so under concurrency a class can overdraw by
// at most one answer per concurrent decision). Memory is bounded: `max_classes` slots, fixed at
// construction; when they are all taken, Gate answers "no slot" and the router falls back to the
// per-request floor (q >= min) for that request. Deterministic: no clock, no randomness.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace mec {

struct QualityBudgetOptions {
  double margin = 0.25;      // target = min + margin x (1 - min); REQUIRES: in [0, 1]
  double step = 1.0;         // the threshold's step per unit of (target - q); REQUIRES: > 0
  double credit_cap = 1.0;   // |credit| at most this; REQUIRES: > 0
  size_t max_classes = 64;   // slots; REQUIRES: > 0
};

// What the router needs of one request's class.
struct QualityGate {
  int slot = -1;             // -1: no slot (table full): use the per-request floor
  double min_quality = 0;
  double target = 0;         // min + margin x (1 - min)
  double threshold = 0;      // t
  double credit = 0;         // c
  // The lowest acceptable predicted quality: min(target, max(t, target - c)), which is the
  // contract above; the minimum itself for slot -1.
  double Bar() const {
    if (slot < 0) return min_quality;
    return std::min(target, std::max(threshold, target - credit));
  }
  // Whether a candidate of predicted quality q is acceptable: q >= Bar().
  bool Admits(double q) const { return AdmitsAtBar(q, Bar()); }
  // The same, for a bar already computed (the router tests every candidate against one bar).
  static bool AdmitsAtBar(double q, double bar) { return q + 1e-9 >= bar; }
};

class QualityBudget {
 public:
  explicit QualityBudget(QualityBudgetOptions options = {});
  ~QualityBudget();
  QualityBudget(const QualityBudget&) = delete;
  QualityBudget& operator=(const QualityBudget&) = delete;

  // The class of a request (its use case, may be empty, and its minimum quality, rounded to
  // 0.001), created at its initial state (t = target, c = 0) on first use.
  QualityGate Gate(std::string_view use_case, double min_quality);
  // Records that the router chose an answer of predicted quality q for the class of `gate`.
  // No-op for slot -1.
  void Charge(const QualityGate& gate, double q);

  double TargetFor(double min_quality) const;
  const QualityBudgetOptions& options() const { return o_; }
  size_t classes_in_use() const;

 private:
  struct Slot;
  QualityBudgetOptions o_;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace mec
