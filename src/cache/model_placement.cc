#include "cache/model_placement.h"

#include <cmath>
#include <limits>
#include <utility>

namespace mec {

ModelPlacement::ModelPlacement(int models, std::vector<int> initial, PlacementOptions options, TimePoint start)
    : o_(options),
      demand_(static_cast<size_t>(models), 0.0),
      last_(static_cast<size_t>(models), start),
      slot_model_(std::move(initial)),
      loading_(slot_model_.size(), false),
      last_plan_(start) {}

double ModelPlacement::Decayed(int model, TimePoint now) const {
  const auto m = static_cast<size_t>(model);
  const double dt = ToSeconds(now - last_[m]);
  return dt <= 0 ? demand_[m] : demand_[m] * std::exp2(-dt / o_.half_life_s);
}

void ModelPlacement::OnDemand(int model, double work, TimePoint now) {
  if (model < 0 || model >= static_cast<int>(demand_.size())) return;
  demand_[static_cast<size_t>(model)] = Decayed(model, now) + work;
  last_[static_cast<size_t>(model)] = now;
}

double ModelPlacement::Demand(int model, TimePoint now) const { return Decayed(model, now); }

int ModelPlacement::SlotsOf(int model) const {
  int n = 0;
  for (int m : slot_model_) n += m == model;
  return n;
}

std::vector<int> ModelPlacement::Target(TimePoint now) const {
  const int models = static_cast<int>(demand_.size());
  std::vector<double> d(static_cast<size_t>(models));
  double total = 0;
  for (int m = 0; m < models; ++m) total += d[static_cast<size_t>(m)] = Decayed(m, now);
  std::vector<int> t(static_cast<size_t>(models), 0);
  if (total <= 0) return t;
  // One slot each for the models with a real share, the largest demand first; then the rest one at
  // a time to the model with the highest demand per slot after adding it (D'Hondt).
  std::vector<bool> eligible(static_cast<size_t>(models));
  for (int m = 0; m < models; ++m) eligible[static_cast<size_t>(m)] = d[static_cast<size_t>(m)] / total >= o_.min_share;
  int left = slots();
  while (left > 0) {
    int best = -1;
    std::pair<bool, double> best_v{false, -1};
    for (int m = 0; m < models; ++m) {
      const auto i = static_cast<size_t>(m);
      if (!eligible[i]) continue;
      // Models without a slot yet come first (by demand), then demand per slot after adding one.
      const std::pair<bool, double> v{t[i] == 0, t[i] == 0 ? d[i] : d[i] / (t[i] + 1)};
      if (v > best_v) {
        best_v = v;
        best = m;
      }
    }
    if (best < 0) break;
    ++t[static_cast<size_t>(best)];
    --left;
  }
  return t;
}

std::optional<ModelPlacement::Move> ModelPlacement::Replan(TimePoint now, const std::function<int(int)>& busy) {
  if (!o_.adaptive || now - last_plan_ < FromSeconds(o_.interval_s)) return std::nullopt;
  last_plan_ = now;
  const std::vector<int> target = Target(now);
  const int models = static_cast<int>(demand_.size());
  int receiver = -1, donor = -1, need = 0, excess = 0;
  for (int m = 0; m < models; ++m) {
    const int gap = target[static_cast<size_t>(m)] - SlotsOf(m);
    if (gap > need || (gap == need && gap > 0 && Decayed(m, now) > Decayed(receiver, now))) {
      need = gap;
      receiver = m;
    }
    if (-gap > excess || (-gap == excess && excess > 0 && Decayed(m, now) < Decayed(donor, now))) {
      excess = -gap;
      donor = m;
    }
  }
  if (receiver < 0 || donor < 0) return std::nullopt;
  const double r_after = Decayed(receiver, now) / (SlotsOf(receiver) + 1);
  const int donor_left = SlotsOf(donor) - 1;
  const double d_dem = Decayed(donor, now);
  const double d_after = donor_left > 0 ? d_dem / donor_left : (d_dem > 0 ? std::numeric_limits<double>::infinity() : 0);
  if (!(r_after > o_.hysteresis * d_after)) return std::nullopt;
  int slot = -1, slot_busy = std::numeric_limits<int>::max();
  for (int s = 0; s < slots(); ++s) {
    if (slot_model_[static_cast<size_t>(s)] != donor || loading_[static_cast<size_t>(s)]) continue;
    const int b = busy(s);
    if (b < slot_busy) {
      slot_busy = b;
      slot = s;
    }
  }
  if (slot < 0) return std::nullopt;
  return Move{slot, receiver};
}

int ModelPlacement::ColdSlot(int model, TimePoint now, const std::function<int(int)>& busy) const {
  int best = -1, best_busy = 0;
  double best_per_slot = 0;
  for (int s = 0; s < slots(); ++s) {
    const int m = slot_model_[static_cast<size_t>(s)];
    if (loading_[static_cast<size_t>(s)] || m == model) continue;
    const double per_slot = m < 0 ? -1 : Decayed(m, now) / SlotsOf(m);  // an empty slot first
    const int b = busy(s);
    if (best < 0 || per_slot < best_per_slot || (per_slot == best_per_slot && b < best_busy)) {
      best = s;
      best_per_slot = per_slot;
      best_busy = b;
    }
  }
  return best;
}

void ModelPlacement::Reserve(int slot, int model) {
  slot_model_[static_cast<size_t>(slot)] = model;
  loading_[static_cast<size_t>(slot)] = true;
  ++moves_;
}

void ModelPlacement::Assign(int slot, int model) {
  slot_model_[static_cast<size_t>(slot)] = model;
  loading_[static_cast<size_t>(slot)] = false;
}

}  // namespace mec
