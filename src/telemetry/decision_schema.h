#pragma once
// The decision log's SQLite schema: one row per request that reached routing (the request's
// features, the decision with every candidate's predictions, the outcome, later feedback).
// Writers (decision_log.h) and readers (decision_query.h) share it.
//
// Times are seconds (REAL); `ts` is the request's arrival in seconds since the Unix epoch.
// pred_* are the router's predictions for the backend that served (`backend`); ttft_s / latency_s
// are what the gateway measured from arrival, so they include the decision and any failed
// attempts before the one that answered. `candidates` is a JSON array (see CandidatesJson).

#include <string>
#include <string_view>
#include <vector>

#include "telemetry/request_record.h"

namespace mec {

inline constexpr int kDecisionLogSchemaVersion = 1;

// CREATE TABLE / INDEX statements (idempotent).
extern const char* const kDecisionLogSchema;

// INSERT OR REPLACE with one parameter per column, in kDecisionLogColumns order.
extern const char* const kDecisionLogInsert;
extern const std::vector<std::string_view> kDecisionLogColumns;

// [{"backend","tier","passed","filtered_by","ttft_s","latency_s","latency_p95_s","p_meet",
//   "quality","cost_usd","load","score"}, ...] with backend names for indices.
std::string CandidatesJson(const std::vector<Candidate>& candidates, const std::vector<std::string>& names,
                           const std::vector<std::string>& tiers);

}  // namespace mec
