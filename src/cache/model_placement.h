#pragma once
// Model placement (DESIGN.md §3, the cache agent's "which models are warm where"): which model
// each slot (GPU) of one edge site holds, decided from demand. A slot holds one model; loading
// another takes the owner's cold-start time. This class only decides; its owner drains the slot,
// loads the model and calls Assign() when the model is warm.
//
// Demand is work per model (the owner's unit, e.g. tokens), decayed exponentially with a
// half-life. The target gives every model with at least `min_share` of the demand one slot while
// slots allow, and the rest by share of demand (largest remainder; ties to the lower index).
// Replan() moves at most one slot per interval toward the target, and only when the receiving
// model's demand per slot after the move would exceed the donor's by `hysteresis` (no flapping on
// noise). A request for a model that no slot holds gets one through ColdSlot(): the slot whose
// model can spare it best.
//
// Time is injected; no I/O; not thread-safe (the owner serializes calls).

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "core/clock.h"

namespace mec {

struct PlacementOptions {
  bool adaptive = true;       // false: slots move only on a cold request (static placement)
  double half_life_s = 120;   // demand decay; REQUIRES > 0
  double interval_s = 30;     // Replan() acts at most this often
  double hysteresis = 1.5;    // receiver's demand per slot after a move > hysteresis x the donor's
  double min_share = 0.02;    // a model below this share of demand reserves no slot
};

class ModelPlacement {
 public:
  // `models`: size of the catalog (models are 0..models-1); `initial[s]`: the model slot s holds
  // at `start` (-1: empty).
  ModelPlacement(int models, std::vector<int> initial, PlacementOptions options, TimePoint start);

  // A request for `model` bringing `work` arrived.
  void OnDemand(int model, double work, TimePoint now);
  // Decayed demand for `model` at `now`.
  double Demand(int model, TimePoint now) const;
  // Slots per model that the demand calls for (sums to the slot count; all zero without demand).
  std::vector<int> Target(TimePoint now) const;

  struct Move {
    int slot = -1;
    int model = -1;
  };
  // At most once per interval (and never when not adaptive): one slot to reload with another
  // model, or nothing. `busy(slot)` is the slot's load (running + queued): the donor gives its
  // least busy slot. Slots being loaded (Reserve()d, not yet Assign()ed) never move. The caller
  // must Reserve() the slot if it acts on the move.
  std::optional<Move> Replan(TimePoint now, const std::function<int(int)>& busy);
  // No slot holds or is loading `model`: the slot to load it on — taken from the model with the
  // least demand per slot (never a slot being loaded); ties to the least busy slot. -1 if every
  // slot is being loaded.
  int ColdSlot(int model, TimePoint now, const std::function<int(int)>& busy) const;

  // The owner starts loading `model` on `slot`: the slot counts for `model` from now on and is
  // not warm until Assign().
  void Reserve(int slot, int model);
  // `slot` now serves `model` warm.
  void Assign(int slot, int model);

  int slots() const { return static_cast<int>(slot_model_.size()); }
  int model_of(int slot) const { return slot_model_[static_cast<size_t>(slot)]; }
  bool loading(int slot) const { return loading_[static_cast<size_t>(slot)]; }
  // Slots holding or loading `model`.
  int SlotsOf(int model) const;
  int64_t moves() const { return moves_; }

 private:
  double Decayed(int model, TimePoint now) const;

  PlacementOptions o_;
  std::vector<double> demand_;     // per model, as of last_[model]
  std::vector<TimePoint> last_;
  std::vector<int> slot_model_;    // per slot: the model it holds or is loading
  std::vector<bool> loading_;
  TimePoint last_plan_;
  int64_t moves_ = 0;
};

}  // namespace mec
