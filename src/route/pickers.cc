#include "route/pickers.h"

#include <algorithm>
#include <atomic>

#include "route/adaptive_picker.h"
#include "route/stable_order.h"

namespace mec {
namespace {

class MaxScorePicker final : public Picker {
 public:
  std::string_view name() const override { return "max-score"; }
  void Pick(Cycle& cycle, std::string&) const override {
    const auto& s = cycle.scores;
    if (s.empty()) return;  // no scorers: every score is 0, pool order stands
    const auto& all = cycle.cs.all;
    // Higher score first; equal scores by each scorer's key in turn (lower first), then pool order.
    StableOrder(cycle.ids.begin(), cycle.ids.end(), [&](int a, int b) {
      if (s[a] != s[b]) return s[a] > s[b];
      for (const Scorer* scorer : cycle.scorers) {
        const double ka = scorer->Key(cycle.ctx, all[a]), kb = scorer->Key(cycle.ctx, all[b]);
        if (ka != kb) return ka < kb;
      }
      return false;
    });
  }
};

class RoundRobinPicker final : public Picker {
 public:
  std::string_view name() const override { return "round-robin"; }
  void Pick(Cycle& cycle, std::string&) const override {
    auto& ids = cycle.ids;
    const uint64_t turn = next_.fetch_add(1, std::memory_order_relaxed);
    std::rotate(ids.begin(), ids.begin() + static_cast<long>(turn % ids.size()), ids.end());
  }

 private:
  mutable std::atomic<uint64_t> next_{0};
};

class RandomPicker final : public Picker {
 public:
  std::string_view name() const override { return "random"; }
  void Pick(Cycle& cycle, std::string&) const override {
    auto& ids = cycle.ids;
    for (size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[cycle.env.rng.Below(i)]);
  }
};

}  // namespace

std::unique_ptr<Picker> MakePicker(std::string_view name, const PolicyOptions& o) {
  if (name == "max-score") return std::make_unique<MaxScorePicker>();
  if (name == "round-robin") return std::make_unique<RoundRobinPicker>();
  if (name == "random") return std::make_unique<RandomPicker>();
  if (name == "adaptive") return std::make_unique<AdaptivePicker>(o);
  return nullptr;
}

}  // namespace mec
