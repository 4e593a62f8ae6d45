#pragma once
// Reading the decision log (decision_schema.h) for `mecrouter decisions`: the latest rows, a
// summary (requests by tier / policy / status; predicted vs actual latency per backend), and an
// export of every row as JSON lines or CSV. Reads go through their own read-only connection; in
// WAL mode they never block the gateway's writer. Files of schema version 1 and 2 read the same
// (the export writes the candidates as a JSON array for both); anything else is an error.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"
#include "telemetry/sqlite_db.h"

namespace mec {

struct DecisionSummary {
  int64_t rows = 0;
  double first_ts = 0, last_ts = 0;  // Unix seconds
  struct Count {
    std::string key;
    int64_t n = 0;
  };
  std::vector<Count> by_tier, by_policy, by_status;  // most first; tier "none": no backend answered
  // Predicted (the router's, for the backend that served) vs measured, over requests that ended ok.
  struct BackendLatency {
    std::string backend, tier;
    int64_t n = 0;                 // ok requests served
    int64_t n_ttft = 0;            // ... with a measured TTFT
    double pred_ttft_s = 0, ttft_s = 0, ttft_mae_s = 0;
    double pred_latency_s = 0, latency_s = 0, latency_mae_s = 0;
    double cost_usd = 0;           // total
    int64_t feedback_n = 0;
    double feedback_mean = 0;
  };
  std::vector<BackendLatency> latency;  // by backend name
};

Result<DecisionSummary> SummarizeDecisions(SqliteDb& db);
std::string FormatDecisionSummary(const DecisionSummary& s);

// The newest `n` rows, oldest first, one line each.
Result<std::string> TailDecisions(SqliteDb& db, int n);

enum class ExportFormat { kJsonl, kCsv };
// Every row, oldest first: JSON objects one per line, or CSV with a header line.
Status ExportDecisions(SqliteDb& db, ExportFormat format, std::ostream& out);

// The rows after a watermark, for periodic exports (aws/decision_exporter.h): rows whose `seq`
// (the rowid, which only grows: retention deletes the oldest rows, never the newest) is greater
// than `after_seq`, oldest first, at most `limit`, as ExportDecisions' JSON lines.
struct ExportedRange {
  int64_t rows = 0;        // written
  int64_t first_seq = 0;   // of the first row written (when rows > 0)
  int64_t last_seq = 0;    // of the last row written (when rows > 0)
  int64_t newest_seq = 0;  // the newest row's seq in the log; 0 when it is empty
};
Result<ExportedRange> ExportDecisionsAfter(SqliteDb& db, int64_t after_seq, int64_t limit, std::ostream& out);

// "2026-11-27T05:40:12.345Z".
std::string FormatUnixTime(double unix_s);

}  // namespace mec
