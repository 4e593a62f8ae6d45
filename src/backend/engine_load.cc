#include "backend/engine_load.h"

#include <fmt/format.h>

namespace mec {

bool Stale(const EngineLoad* load, TimePoint now, Duration stale_after) {
  return !load || now - load->observed_at > stale_after;
}

bool HoldsModel(const EngineLoad& load, std::string_view model) {
  auto bare = [](std::string_view m) {
    constexpr std::string_view kLatest = ":latest";
    return m.size() > kLatest.size() && m.substr(m.size() - kLatest.size()) == kLatest ? m.substr(0, m.size() - kLatest.size()) : m;
  };
  for (const auto& m : load.loaded_models)
    if (bare(m) == bare(model)) return true;
  return false;
}

SaturationThresholds ThresholdsOf(const EngineOptions& o) {
  return {std::chrono::milliseconds(o.stale_ms), o.max_waiting, o.max_kv_usage};
}

namespace {

enum class Why { kNone, kNoReading, kStale, kLoading, kQueue, kKv, kSlots };

Why Classify(const EngineLoad* load, TimePoint now, const SaturationThresholds& t) {
  if (!load) return Why::kNoReading;
  if (Stale(load, now, t.stale_after)) return Why::kStale;
  if (load->loading) return Why::kLoading;
  if (load->waiting && *load->waiting > t.max_waiting) return Why::kQueue;
  if (load->kv_usage && *load->kv_usage >= t.max_kv_usage) return Why::kKv;
  if (!load->waiting && load->total_slots && load->busy_slots && *load->total_slots > 0 &&
      *load->busy_slots >= *load->total_slots)
    return Why::kSlots;
  return Why::kNone;
}

}  // namespace

bool Saturated(const EngineLoad* load, TimePoint now, const SaturationThresholds& t) {
  return Classify(load, now, t) != Why::kNone;
}

std::string SaturationReason(const EngineLoad* load, TimePoint now, const SaturationThresholds& t) {
  switch (Classify(load, now, t)) {
    case Why::kNone: return {};
    case Why::kNoReading: return "no engine reading";
    case Why::kStale: return fmt::format("engine reading {:.1f}s old", ToSeconds(now - load->observed_at));
    case Why::kLoading: return "loading its model";
    case Why::kQueue: return fmt::format("{:g} waiting > {:g}", *load->waiting, t.max_waiting);
    case Why::kKv: return fmt::format("KV cache {:.2f} >= {:.2f}", *load->kv_usage, t.max_kv_usage);
    case Why::kSlots: return fmt::format("every slot busy ({}/{})", *load->busy_slots, *load->total_slots);
  }
  return {};
}

}  // namespace mec
