#include "telemetry/decision_query.h"

#include <cmath>
#include <ctime>

#include <fmt/format.h>

#include "core/json_writer.h"
#include "telemetry/decision_schema.h"

namespace mec {

namespace {

// Where each query reads, by schema version (decision_schema.h).
struct Layout {
  const char* rows;    // a table or view with every row's own columns (no feedback needed)
  const char* select;  // `seq`, then kDecisionLogColumns (decision_schema.h)
  const char* order;   // ORDER BY this for log order
};

Result<Layout> ReadLayout(SqliteDb& db) {
  auto has_meta = db.QueryText("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
  if (!has_meta.ok()) return has_meta.status();
  if (*has_meta == "0") return Status::InvalidArgument("not a decision log (no schema version)");
  auto version = db.QueryText("SELECT value FROM meta WHERE key = 'schema_version'");
  if (!version.ok()) return version.status();
  if (*version == "1") return Layout{"decisions", kDecisionLogSelectV1, kDecisionLogOrderV1};
  if (*version == "2" || *version == "3" || *version == "4" || *version == std::to_string(kDecisionLogSchemaVersion)) return Layout{"decision_rows", kDecisionLogSelect, kDecisionLogOrder};
  return Status::InvalidArgument("decision log schema version '" + *version + "' is newer than this mecrouter reads (" +
                                 std::to_string(kDecisionLogSchemaVersion) + ")");
}

Result<std::vector<DecisionSummary::Count>> CountBy(SqliteDb& db, const Layout& layout, const char* column) {
  auto st = db.Prepare(fmt::format("SELECT COALESCE({0}, 'none'), COUNT(*) FROM {1} GROUP BY 1 ORDER BY 2 DESC, 1", column, layout.rows));
  if (!st.ok()) return st.status();
  std::vector<DecisionSummary::Count> out;
  for (;;) {
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back({std::string(st->Text(0)), st->Int(1)});
  }
  return out;
}

std::string Ms(double s) { return fmt::format("{:.0f}", s * 1000); }

void AppendCsvField(std::string& out, std::string_view v) {
  if (v.find_first_of(",\"\n\r") == std::string_view::npos) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace

std::string FormatUnixTime(double unix_s) {
  const auto whole = static_cast<std::time_t>(std::floor(unix_s));
  int ms = static_cast<int>(std::lround((unix_s - static_cast<double>(whole)) * 1000));
  std::time_t t = whole;
  if (ms >= 1000) {
    ms -= 1000;
    ++t;
  }
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ms);
}

Result<DecisionSummary> SummarizeDecisions(SqliteDb& db) {
  auto layout = ReadLayout(db);
  if (!layout.ok()) return layout.status();
  DecisionSummary s;
  {
    auto st = db.Prepare(fmt::format("SELECT COUNT(*), COALESCE(MIN(ts), 0), COALESCE(MAX(ts), 0) FROM {}", layout->rows));
    if (!st.ok()) return st.status();
    auto row = st->Step();
    if (!row.ok()) return row.status();
    s.rows = st->Int(0);
    s.first_ts = st->Real(1);
    s.last_ts = st->Real(2);
  }
  auto tier = CountBy(db, *layout, "tier");
  if (!tier.ok()) return tier.status();
  s.by_tier = std::move(*tier);
  auto policy = CountBy(db, *layout, "policy");
  if (!policy.ok()) return policy.status();
  s.by_policy = std::move(*policy);
  auto status = CountBy(db, *layout, "status");
  if (!status.ok()) return status.status();
  s.by_status = std::move(*status);

  // The `decisions` view of version 2 joins the feedback; version 1's table has it.
  auto st = db.Prepare(R"sql(
    SELECT backend, MIN(tier), COUNT(*), COUNT(ttft_s),
           AVG(CASE WHEN ttft_s IS NOT NULL THEN pred_ttft_s END), AVG(ttft_s), AVG(ABS(pred_ttft_s - ttft_s)),
           AVG(pred_latency_s), AVG(latency_s), AVG(ABS(pred_latency_s - latency_s)),
           TOTAL(cost_usd), COUNT(feedback), AVG(feedback)
    FROM decisions WHERE status = 'ok' AND backend IS NOT NULL GROUP BY backend ORDER BY backend)sql");
  if (!st.ok()) return st.status();
  for (;;) {
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    DecisionSummary::BackendLatency b;
    b.backend = std::string(st->Text(0));
    b.tier = std::string(st->Text(1));
    b.n = st->Int(2);
    b.n_ttft = st->Int(3);
    b.pred_ttft_s = st->Real(4);
    b.ttft_s = st->Real(5);
    b.ttft_mae_s = st->Real(6);
    b.pred_latency_s = st->Real(7);
    b.latency_s = st->Real(8);
    b.latency_mae_s = st->Real(9);
    b.cost_usd = st->Real(10);
    b.feedback_n = st->Int(11);
    b.feedback_mean = st->Real(12);
    s.latency.push_back(std::move(b));
  }
  return s;
}

std::string FormatDecisionSummary(const DecisionSummary& s) {
  std::string out = fmt::format("{} decisions", s.rows);
  if (s.rows > 0) out += fmt::format(" from {} to {}", FormatUnixTime(s.first_ts), FormatUnixTime(s.last_ts));
  out += "\n";
  auto counts = [&](const char* title, const std::vector<DecisionSummary::Count>& cs) {
    out += fmt::format("\nrequests by {}:\n", title);
    for (const auto& c : cs)
      out += fmt::format("  {:<16} {:>8}  {:5.1f}%\n", c.key, c.n, s.rows ? 100.0 * static_cast<double>(c.n) / static_cast<double>(s.rows) : 0.0);
  };
  counts("tier", s.by_tier);
  counts("policy", s.by_policy);
  counts("status", s.by_status);
  out += "\npredicted vs actual latency per backend (ok requests; ms; mae = mean absolute error):\n";
  out += fmt::format("  {:<16} {:<6} {:>6} {:>10} {:>10} {:>9} {:>10} {:>10} {:>9} {:>11} {:>9}\n", "backend", "tier", "n",
                     "pred_ttft", "ttft", "ttft_mae", "pred_e2e", "e2e", "e2e_mae", "cost_usd", "feedback");
  for (const auto& b : s.latency) {
    out += fmt::format("  {:<16} {:<6} {:>6} {:>10} {:>10} {:>9} {:>10} {:>10} {:>9} {:>11.6f} {:>9}\n", b.backend, b.tier, b.n,
                       b.n_ttft ? Ms(b.pred_ttft_s) : "-", b.n_ttft ? Ms(b.ttft_s) : "-", b.n_ttft ? Ms(b.ttft_mae_s) : "-",
                       Ms(b.pred_latency_s), Ms(b.latency_s), Ms(b.latency_mae_s), b.cost_usd,
                       b.feedback_n ? fmt::format("{:.2f}/{}", b.feedback_mean, b.feedback_n) : "-");
  }
  return out;
}

Result<std::string> TailDecisions(SqliteDb& db, int n) {
  auto layout = ReadLayout(db);
  if (!layout.ok()) return layout.status();
  auto st = db.Prepare(fmt::format(R"sql(
    SELECT ts, id, policy, COALESCE(tier, 'none'), COALESCE(backend, '-'), status, http_status, attempts,
           ttft_s, latency_s, pred_ttft_s, pred_latency_s, output_tokens, cost_usd, feedback, reason, error
    FROM ({} ORDER BY {} DESC LIMIT ?) ORDER BY seq)sql", layout->select, layout->order));
  if (!st.ok()) return st.status();
  st->Bind(1, static_cast<int64_t>(n));
  std::string out;
  auto ms = [&](int col) { return st->IsNull(col) ? std::string("-") : Ms(st->Real(col)); };
  for (;;) {
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out += fmt::format("{} {} {} {}/{} {} {} attempts={} ttft={}ms (pred {}) e2e={}ms (pred {}) tokens={} cost=${:.6f}",
                       FormatUnixTime(st->Real(0)), st->Text(1), st->Text(2), st->Text(3), st->Text(4), st->Text(5),
                       st->Int(6), st->Int(7), ms(8), ms(10), ms(9), ms(11), st->Int(12), st->Real(13));
    if (!st->IsNull(14)) out += fmt::format(" feedback={}", st->Real(14));
    if (!st->Text(15).empty()) out += fmt::format(" reason=\"{}\"", st->Text(15));
    if (!st->Text(16).empty()) out += fmt::format(" error=\"{}\"", st->Text(16));
    out += '\n';
  }
  return out;
}

namespace {

// Rows with seq > after_seq (every row: after_seq < 0), at most `limit` (none: limit < 0), oldest
// first, in `format`; `range` (may be null) gets the seqs of the first and last rows written.
Status ExportRows(SqliteDb& db, ExportFormat format, int64_t after_seq, int64_t limit, std::ostream& out, ExportedRange* range) {
  auto layout = ReadLayout(db);
  if (!layout.ok()) return layout.status();
  auto st = after_seq < 0 ? db.Prepare(fmt::format("{} ORDER BY {}", layout->select, layout->order))
                          : db.Prepare(fmt::format("{} WHERE {} > {} ORDER BY {} LIMIT {}", layout->select, layout->order, after_seq,
                                                   layout->order, limit));
  if (!st.ok()) return st.status();
  const int cols = st->ColumnCount();  // column 0 is `seq`: not exported
  int candidates_col = -1;
  for (int i = 1; i < cols; ++i)
    if (st->ColumnName(i) == "candidates") candidates_col = i;
  std::vector<LoggedCandidate> decoded;
  std::string candidates;  // the column as JSON text (either version), or "" when it is none
  auto candidates_json = [&](int i) {
    candidates.clear();
    if (st->IsBlob(i)) {  // version 2: the compact form
      if (DecodeCandidates(st->Blob(i), decoded)) AppendCandidatesJson(candidates, decoded);
    } else if (!st->IsNull(i)) {  // version 1: JSON text already
      candidates = st->Text(i);
    }
  };
  std::string line;
  if (format == ExportFormat::kCsv) {
    for (int i = 1; i < cols; ++i) {
      if (i > 1) line += ',';
      AppendCsvField(line, st->ColumnName(i));
    }
    line += '\n';
    out << line;
  }
  for (;;) {
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (range) {
      if (range->rows == 0) range->first_seq = st->Int(0);
      range->last_seq = st->Int(0);
      ++range->rows;
    }
    line.clear();
    if (format == ExportFormat::kJsonl) {
      JsonWriter w(line);
      w.BeginObject();
      for (int i = 1; i < cols; ++i) {
        const std::string_view name = st->ColumnName(i);
        w.Key(name);
        if (i == candidates_col) {
          candidates_json(i);
          if (candidates.empty()) w.Null();
          else w.Raw(candidates);
        } else if (st->IsNull(i)) w.Null();
        else if (st->IsInteger(i)) w.Int(st->Int(i));
        else if (st->IsReal(i)) w.Number(st->Real(i));
        else w.String(st->Text(i));
      }
      w.EndObject();
    } else {
      for (int i = 1; i < cols; ++i) {
        if (i > 1) line += ',';
        if (i == candidates_col) {
          candidates_json(i);
          AppendCsvField(line, candidates);
          continue;
        }
        if (st->IsNull(i)) continue;
        if (st->IsInteger(i)) line += std::to_string(st->Int(i));
        else if (st->IsReal(i)) AppendJsonNumber(line, st->Real(i));
        else AppendCsvField(line, st->Text(i));
      }
    }
    line += '\n';
    out << line;
  }
  return out ? Status::Ok() : Status::Internal("write failed");
}

}  // namespace

Status ExportDecisions(SqliteDb& db, ExportFormat format, std::ostream& out) { return ExportRows(db, format, -1, -1, out, nullptr); }

Result<ExportedRange> ExportDecisionsAfter(SqliteDb& db, int64_t after_seq, int64_t limit, std::ostream& out) {
  auto layout = ReadLayout(db);
  if (!layout.ok()) return layout.status();
  ExportedRange range;
  auto newest = db.QueryText(fmt::format("SELECT COALESCE(MAX(rowid), 0) FROM {}", layout->rows));
  if (!newest.ok()) return newest.status();
  range.newest_seq = std::stoll(*newest);
  if (Status s = ExportRows(db, ExportFormat::kJsonl, after_seq < 0 ? 0 : after_seq, limit, out, &range); !s.ok()) return s;
  return range;
}

}  // namespace mec
