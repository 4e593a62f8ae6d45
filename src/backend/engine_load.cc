#include "backend/engine_load.h"

namespace mec {

bool Stale(const EngineLoad* load, TimePoint now, Duration stale_after) {
  return !load || now - load->observed_at > stale_after;
}

bool Saturated(const EngineLoad* load, TimePoint now, const SaturationThresholds& t) {
  if (Stale(load, now, t.stale_after)) return true;
  if (load->loading) return true;
  if (load->waiting && *load->waiting > t.max_waiting) return true;
  if (load->kv_usage && *load->kv_usage >= t.max_kv_usage) return true;
  if (!load->waiting && load->total_slots && load->busy_slots && *load->total_slots > 0 &&
      *load->busy_slots >= *load->total_slots)
    return true;
  return false;
}

}  // namespace mec
