#pragma once
// The fleet state a regional gateway publishes (GET /v1/fleet/state, docs/fleet.md) and a
// client-side gateway pulls: what the publisher has learned of each backend, by name. Pure data
// and its JSON codec; no I/O.
//
// Schema, version 1 (fields may be added within a version; a reader ignores what it does not know,
// and refuses another version):
//   {"version": 1, "generated_unix_ms": <publisher's wall clock>, "snapshot_version": <n>,
//    "backends": [{"name", "tier", "health": "healthy|unhealthy|ejected|half-open", "routable",
//                  "ejected_for_s", "ejected_until_unix_ms" (0 when not ejected), "error_rate",
//                  "ttft": {"median_s", "sigma", "weight"}, "tpot": {...}, "rtt": {...}}, ...],
//    "quality": {"complexity_model": <name>, "model_swaps": <n>,
//                "classes": [{"backend", "tier", "task_class", "score", "n"}, ...]}}
// An estimate is a lognormal belief (backend/backend_view.h): its median, the sigma of ln(seconds),
// and `weight`, the effective number of the publisher's own observations behind it (its prior
// excluded; 0 = the publisher knows nothing beyond its configuration). Ejection is given as time
// left from generation (ejected_for_s), so a reader needs no synchronized clock;
// ejected_until_unix_ms is the same instant for people. `quality.classes` (optional) is the
// publisher's own feedback per (backend, task class) (learn/quality_feedback.h): the sum of the
// scores in [0, 1] and their count, the most observed first, at most kMaxFleetClasses.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend_pool.h"
#include "backend/pool_snapshot.h"
#include "core/status.h"

namespace mec {

inline constexpr int kFleetStateVersion = 1;

struct FleetEstimate {
  double median_s = 1;  // > 0
  double sigma = 0.5;   // >= 0
  double weight = 0;    // >= 0
};

struct FleetBackendState {
  std::string name;
  std::string tier;  // device | edge | cloud
  HealthState health = HealthState::kHealthy;
  bool routable = true;
  double ejected_for_s = 0;  // >= 0
  double error_rate = 0;     // [0, 1]
  FleetEstimate ttft, tpot, rtt;
};

inline constexpr size_t kMaxFleetClasses = 2000;

// Feedback on one backend's answers for one task class: score in [0, n], n > 0.
struct FleetClassQuality {
  std::string backend;
  std::string tier;
  std::string task_class;
  double score = 0;
  double n = 0;
};

struct FleetQualityState {
  std::string complexity_model;  // the live complexity model's name ("" = not said)
  int64_t model_swaps = 0;       // times the live model was replaced since start
  std::vector<FleetClassQuality> classes{};
};

struct FleetState {
  int version = kFleetStateVersion;
  int64_t generated_unix_ms = 0;
  uint64_t snapshot_version = 0;
  std::vector<FleetBackendState> backends;
  FleetQualityState quality;
};

// What a snapshot says, by backend name. `unix_ms`: the publisher's wall clock now.
FleetState FleetStateFromSnapshot(const PoolSnapshot& snap, const BackendPool& pool, int64_t unix_ms);

// Deterministic JSON (core/json_writer.h).
std::string FleetStateToJson(const FleetState& s);
// The state, or InvalidArgument naming what is wrong: not JSON, another version, a missing or
// out-of-range field. Unknown fields are ignored.
Result<FleetState> ParseFleetState(std::string_view json);

}  // namespace mec
