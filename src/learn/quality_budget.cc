#include "learn/quality_budget.h"

#include <algorithm>
#include <cmath>

namespace mec {

// A slot's zero state is the class's initial state: the threshold is stored as t - target.
struct QualityBudget::Slot {
  std::atomic<uint64_t> key{0};      // 0: free
  std::atomic<double> offset{0};     // t - target, in [-target, 0]
  std::atomic<double> credit{0};
};

namespace {

uint64_t ClassKey(std::string_view use_case, long milli) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  auto mix = [&](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (char c : use_case) mix(static_cast<unsigned char>(c));
  mix(0);
  for (int i = 0; i < 4; ++i) mix(static_cast<unsigned char>((milli >> (8 * i)) & 0xff));
  return h == 0 ? 1 : h;
}

// Adds `d` to `a`, keeping the result in [lo, hi].
void AddClamped(std::atomic<double>& a, double d, double lo, double hi) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, std::clamp(cur + d, lo, hi), std::memory_order_relaxed)) {
  }
}

}  // namespace

QualityBudget::QualityBudget(QualityBudgetOptions options)
    : o_(options), slots_(std::make_unique<Slot[]>(std::max<size_t>(1, options.max_classes))) {
  o_.max_classes = std::max<size_t>(1, o_.max_classes);
}

QualityBudget::~QualityBudget() = default;

double QualityBudget::TargetFor(double min_quality) const {
  const double m = std::clamp(min_quality, 0.0, 1.0);
  return m + std::clamp(o_.margin, 0.0, 1.0) * (1 - m);
}

QualityGate QualityBudget::Gate(std::string_view use_case, double min_quality) {
  QualityGate g;
  const long milli = std::lround(std::clamp(min_quality, 0.0, 1.0) * 1000);
  g.min_quality = min_quality;
  g.target = TargetFor(static_cast<double>(milli) / 1000);
  g.threshold = g.target;
  const uint64_t key = ClassKey(use_case, milli);
  for (size_t i = 0; i < o_.max_classes; ++i) {
    Slot& s = slots_[(key + i) % o_.max_classes];
    uint64_t k = s.key.load(std::memory_order_acquire);
    if (k == 0) {
      uint64_t expected = 0;
      if (s.key.compare_exchange_strong(expected, key, std::memory_order_acq_rel)) k = key;
      else k = expected;
    }
    if (k != key) continue;
    g.slot = static_cast<int>((key + i) % o_.max_classes);
    g.threshold = g.target + s.offset.load(std::memory_order_relaxed);
    g.credit = s.credit.load(std::memory_order_relaxed);
    return g;
  }
  return g;  // full: the per-request floor
}

void QualityBudget::Charge(const QualityGate& gate, double q) {
  if (gate.slot < 0 || static_cast<size_t>(gate.slot) >= o_.max_classes || !std::isfinite(q)) return;
  Slot& s = slots_[static_cast<size_t>(gate.slot)];
  const double gap = gate.target - std::clamp(q, 0.0, 1.0);
  AddClamped(s.credit, -gap, -o_.credit_cap, o_.credit_cap);
  AddClamped(s.offset, o_.step * gap, -gate.target, 0.0);
}

size_t QualityBudget::classes_in_use() const {
  size_t n = 0;
  for (size_t i = 0; i < o_.max_classes; ++i) n += slots_[i].key.load(std::memory_order_relaxed) != 0;
  return n;
}

}  // namespace mec
