#pragma once
// The decision log's SQLite schema: one row per request that reached routing (the request's
// features, the decision with every candidate's predictions, the outcome, later feedback).
// Writers (decision_log.h) and readers (decision_query.h) share it.
//
// Version 2 (this one) is laid out for a cheap writer:
//   decision_rows  one row per request, no index at all (rowid order is log order: the order
//                  the requests ended); `candidates` is a compact BLOB (CandidateEncoder below)
//   feedback       one row per decision id that got feedback (id PRIMARY KEY, score, ts), so a
//                  feedback needs no index on decision_rows and may come before its row
//   decisions      a VIEW with version 1's columns: decision_rows LEFT JOIN feedback (views have
//                  no rowid: ordered readers use kDecisionLogSelect)
//   meta           ('schema_version', '2')
// Version 1 (until 2026-11) had a `decisions` table with `id` as PRIMARY KEY, an index on `ts`,
// the feedback in two columns and `candidates` as JSON text. Readers read both; the writer
// refuses a version-1 file (DecisionLog::Open says so and what to do).
//
// Times are seconds (REAL); `ts` is the request's arrival in seconds since the Unix epoch.
// pred_* are the router's predictions for the backend that served (`backend`); ttft_s / latency_s
// are what the gateway measured from arrival, so they include the decision and any failed
// attempts before the one that answered.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "route/candidate.h"

namespace mec {

inline constexpr int kDecisionLogSchemaVersion = 5;
// Version 3 added request_id and trace_id at the end of decision_rows, version 4 continuations
// (streams continued on another backend after a cut, docs/continuation.md). Older files are
// migrated in place when the gateway opens them (these scripts in turn, then kDecisionLogSchema);
// readers read every version from 2 with kDecisionLogSelect (its d.* simply lacks the newer columns).
extern const char* const kDecisionLogMigrateV2;
extern const char* const kDecisionLogMigrateV3;
extern const char* const kDecisionLogMigrateV4;  // 4 -> 5: key_name, key_spend_usd

// CREATE TABLE / VIEW statements (idempotent); sets the schema version of a new file.
extern const char* const kDecisionLogSchema;

// INSERT INTO decision_rows of `rows` rows, one parameter per column (kDecisionRowColumns
// order), row after row.
std::string DecisionLogInsert(int rows);
extern const std::vector<std::string_view> kDecisionRowColumns;
// The columns of the `decisions` view (and of version 1's table): kDecisionRowColumns, then
// feedback and feedback_ts. `mecrouter decisions export` writes these.
extern const std::vector<std::string_view> kDecisionLogColumns;

// A SELECT of every row with `seq` (the log order) first, then every kDecisionLogColumns column,
// in no particular order until ordered by the matching key (kDecisionLogOrder: ORDER BY it,
// ASC or DESC, runs in rowid order without sorting). For a version-2 file; the *V1 pair for
// version 1.
extern const char* const kDecisionLogSelect;
extern const char* const kDecisionLogOrder;
extern const char* const kDecisionLogSelectV1;
extern const char* const kDecisionLogOrderV1;

// The compact form of the candidates column: a BLOB,
//   byte 0: format (1)
//   per candidate, in decision order:
//     u8 length + backend name, u8 length + tier name, u8 flags (bit 0: passed the filters),
//     u8 length + filtered_by (at most 255 bytes kept),
//     8 IEEE-754 doubles, little-endian: ttft_s, latency_s, latency_p95_s, p_meet, quality,
//     cost_usd, load, score.
// Encoding copies bytes (no number formatting); the names of each backend index are laid out
// once, at construction. Thread-safety: Encode is const and may run on any thread.
class CandidateEncoder {
 public:
  CandidateEncoder(const std::vector<std::string>& names, const std::vector<std::string>& tiers);
  // Replaces `out` with the blob of `candidates` (out keeps its capacity).
  void Encode(const std::vector<Candidate>& candidates, std::string& out) const;

 private:
  std::vector<std::string> prefix_;  // per backend index: the name and tier fields
  std::string unknown_;              // for an index out of range: "?" and "?"
};

// One candidate as read back from the blob.
struct LoggedCandidate {
  std::string backend, tier, filtered_by;
  bool passed = true;
  double ttft_s = 0, latency_s = 0, latency_p95_s = 0, p_meet = 0, quality = 0, cost_usd = 0, load = 0, score = 0;
};

// Decodes a blob; false if it is not one (truncated, unknown format).
bool DecodeCandidates(std::string_view blob, std::vector<LoggedCandidate>& out);

// [{"backend","tier","passed","filtered_by" (when set),"ttft_s","latency_s","latency_p95_s",
//   "p_meet","quality","cost_usd","load","score"}, ...]: what version 1 stored, and what
// `mecrouter decisions export` writes for either version.
void AppendCandidatesJson(std::string& out, const std::vector<LoggedCandidate>& candidates);

}  // namespace mec
