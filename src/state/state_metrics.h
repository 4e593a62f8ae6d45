#pragma once
// Prometheus text for the shared state (ReplicaSync, SharedCache), appended to GET /metrics, so
// that a replica serving on its local state because Redis went away says so in its metrics too:
//
//   mecrouter_shared_state_up{channel}                    1 while Redis answers, else 0 (sync | cache)
//   mecrouter_shared_state_errors_total{channel}          failed Redis exchanges
//   mecrouter_shared_state_reports_total{direction}       latency reports sent / applied
//   mecrouter_shared_state_ejections_total{direction}     ejections sent / applied
//   mecrouter_shared_cache_lookups_total{result}          shared-cache lookups: hit / miss / refused
//   mecrouter_shared_cache_stores_total                   answers written to Redis
//
// Either argument may be null (that part is off); both null: empty text.

#include <string>

#include "state/replica_sync.h"
#include "state/shared_cache.h"

namespace mec {

std::string StateMetricsText(const ReplicaSync* sync, const SharedCache* cache);

// GET /api/state: {"redis": "up"|"down"|"off", ... ReplicaSync's fields, "cache": {...} or null}.
std::string StateJson(const ReplicaSync* sync, const SharedCache* cache);

}  // namespace mec
