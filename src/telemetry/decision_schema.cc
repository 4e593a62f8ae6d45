#include "telemetry/decision_schema.h"

#include <bit>
#include <cstring>

#include "core/json_writer.h"

namespace mec {

static_assert(std::endian::native == std::endian::little, "the candidates blob copies doubles as little-endian bytes");

const char* const kDecisionLogSchema = R"sql(
CREATE TABLE IF NOT EXISTS decision_rows (
  -- The types are comments: without declared types SQLite applies no affinity on insert (the
  -- writer binds each value with its type already).
  id /* TEXT */, ts /* REAL */,
  endpoint /* TEXT */, model /* TEXT */, task_class /* TEXT */, use_case /* TEXT */,
  input_tokens_est /* INTEGER */, output_tokens_est /* REAL */,
  deadline_ms /* REAL */, ttft_deadline_ms /* REAL */, min_quality /* REAL */, privacy /* TEXT */, network /* TEXT */,
  stream /* INTEGER */,
  policy /* TEXT */, reason /* TEXT */, chain /* TEXT */, primary_backend /* TEXT */, hedge_planned /* INTEGER */,
  decision_us /* REAL */,
  candidates /* BLOB: CandidateEncoder */,
  backend /* TEXT */, tier /* TEXT */,
  pred_ttft_s /* REAL */, pred_latency_s /* REAL */, pred_p_meet /* REAL */, pred_quality /* REAL */, pred_cost_usd /* REAL */,
  status /* TEXT */, http_status /* INTEGER */, attempts /* INTEGER */, hedges /* INTEGER */,
  ttft_s /* REAL */, latency_s /* REAL */, input_tokens /* INTEGER */, output_tokens /* INTEGER */, cost_usd /* REAL */,
  error /* TEXT */,
  request_id /* TEXT: X-Request-Id */, trace_id /* TEXT: W3C trace id */,
  continuations /* INTEGER */,
  key_name /* TEXT: the API key's name (never the key) */, key_spend_usd /* REAL: charged to its budget */
);
CREATE TABLE IF NOT EXISTS feedback (id TEXT PRIMARY KEY, score REAL NOT NULL, ts REAL NOT NULL);
CREATE INDEX IF NOT EXISTS feedback_ts ON feedback(ts);
CREATE VIEW IF NOT EXISTS decisions AS
  SELECT d.id, d.ts, d.endpoint, d.model, d.task_class, d.use_case, d.input_tokens_est, d.output_tokens_est,
         d.deadline_ms, d.ttft_deadline_ms, d.min_quality, d.privacy, d.network, d.stream,
         d.policy, d.reason, d.chain, d.primary_backend, d.hedge_planned, d.decision_us, d.candidates,
         d.backend, d.tier, d.pred_ttft_s, d.pred_latency_s, d.pred_p_meet, d.pred_quality, d.pred_cost_usd,
         d.status, d.http_status, d.attempts, d.hedges, d.ttft_s, d.latency_s, d.input_tokens, d.output_tokens,
         d.cost_usd, d.error, d.request_id, d.trace_id, d.continuations, d.key_name, d.key_spend_usd, f.score AS feedback, f.ts AS feedback_ts
  FROM decision_rows d LEFT JOIN feedback f ON f.id = d.id;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
INSERT OR IGNORE INTO meta VALUES ('schema_version', '5');
)sql";

const std::vector<std::string_view> kDecisionRowColumns = {
    "id", "ts", "endpoint", "model", "task_class", "use_case", "input_tokens_est", "output_tokens_est",
    "deadline_ms", "ttft_deadline_ms", "min_quality", "privacy", "network", "stream",
    "policy", "reason", "chain", "primary_backend", "hedge_planned", "decision_us", "candidates",
    "backend", "tier", "pred_ttft_s", "pred_latency_s", "pred_p_meet", "pred_quality", "pred_cost_usd",
    "status", "http_status", "attempts", "hedges", "ttft_s", "latency_s", "input_tokens", "output_tokens",
    "cost_usd", "error", "request_id", "trace_id", "continuations", "key_name", "key_spend_usd"};

const std::vector<std::string_view> kDecisionLogColumns = [] {
  auto v = kDecisionRowColumns;
  v.push_back("feedback");
  v.push_back("feedback_ts");
  return v;
}();

std::string DecisionLogInsert(int rows) {
  std::string sql = "INSERT INTO decision_rows VALUES ";
  for (int r = 0; r < rows; ++r) {
    sql += r ? ",(" : "(";
    for (size_t c = 0; c < kDecisionRowColumns.size(); ++c) sql += c ? ",?" : "?";
    sql += ')';
  }
  return sql;
}

const char* const kDecisionLogMigrateV2 = R"sql(
ALTER TABLE decision_rows ADD COLUMN request_id;
ALTER TABLE decision_rows ADD COLUMN trace_id;
DROP VIEW IF EXISTS decisions;
UPDATE meta SET value = '3' WHERE key = 'schema_version';
)sql";

const char* const kDecisionLogMigrateV3 = R"sql(
ALTER TABLE decision_rows ADD COLUMN continuations;
DROP VIEW IF EXISTS decisions;
UPDATE meta SET value = '4' WHERE key = 'schema_version';
)sql";

const char* const kDecisionLogMigrateV4 = R"sql(
ALTER TABLE decision_rows ADD COLUMN key_name;
ALTER TABLE decision_rows ADD COLUMN key_spend_usd;
DROP VIEW IF EXISTS decisions;
UPDATE meta SET value = '5' WHERE key = 'schema_version';
)sql";

const char* const kDecisionLogSelect =
    "SELECT d.rowid AS seq, d.*, f.score AS feedback, f.ts AS feedback_ts FROM decision_rows d LEFT JOIN feedback f ON f.id = d.id";
const char* const kDecisionLogOrder = "d.rowid";
const char* const kDecisionLogSelectV1 = "SELECT rowid AS seq, * FROM decisions";
const char* const kDecisionLogOrderV1 = "rowid";

namespace {

constexpr uint8_t kBlobFormat = 1;
constexpr size_t kDoubles = 8;

void AppendShort(std::string& out, std::string_view s) {
  if (s.size() > 255) s = s.substr(0, 255);
  out += static_cast<char>(s.size());
  out += s;
}

}  // namespace

CandidateEncoder::CandidateEncoder(const std::vector<std::string>& names, const std::vector<std::string>& tiers) {
  prefix_.resize(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    AppendShort(prefix_[i], names[i]);
    AppendShort(prefix_[i], i < tiers.size() ? std::string_view(tiers[i]) : std::string_view("?"));
  }
  AppendShort(unknown_, "?");
  AppendShort(unknown_, "?");
}

void CandidateEncoder::Encode(const std::vector<Candidate>& candidates, std::string& out) const {
  out.clear();
  out += static_cast<char>(kBlobFormat);
  for (const auto& c : candidates) {
    const bool known = c.backend >= 0 && static_cast<size_t>(c.backend) < prefix_.size();
    out += known ? prefix_[c.backend] : unknown_;
    out += static_cast<char>(c.passed_filters ? 1 : 0);
    AppendShort(out, c.filtered_by);
    const double v[kDoubles] = {c.ttft_s, c.latency_s, LatencyP95(c), c.p_meet, c.quality, c.cost_usd, c.load, c.score};
    out.append(reinterpret_cast<const char*>(v), sizeof v);
  }
}

bool DecodeCandidates(std::string_view blob, std::vector<LoggedCandidate>& out) {
  out.clear();
  if (blob.empty() || static_cast<uint8_t>(blob[0]) != kBlobFormat) return false;
  size_t p = 1;
  auto take_short = [&](std::string& s) {
    if (p >= blob.size()) return false;
    const size_t n = static_cast<uint8_t>(blob[p++]);
    if (blob.size() - p < n) return false;
    s.assign(blob.substr(p, n));
    p += n;
    return true;
  };
  while (p < blob.size()) {
    LoggedCandidate c;
    if (!take_short(c.backend) || !take_short(c.tier) || p >= blob.size()) return false;
    c.passed = (static_cast<uint8_t>(blob[p++]) & 1) != 0;
    if (!take_short(c.filtered_by)) return false;
    double v[kDoubles];
    if (blob.size() - p < sizeof v) return false;
    std::memcpy(v, blob.data() + p, sizeof v);
    p += sizeof v;
    c.ttft_s = v[0];
    c.latency_s = v[1];
    c.latency_p95_s = v[2];
    c.p_meet = v[3];
    c.quality = v[4];
    c.cost_usd = v[5];
    c.load = v[6];
    c.score = v[7];
    out.push_back(std::move(c));
  }
  return true;
}

void AppendCandidatesJson(std::string& out, const std::vector<LoggedCandidate>& candidates) {
  out += '[';
  bool first = true;
  for (const auto& c : candidates) {
    if (!first) out += ',';
    first = false;
    out += "{\"backend\":";
    AppendJsonString(out, c.backend);
    out += ",\"tier\":";
    AppendJsonString(out, c.tier);
    out += c.passed ? ",\"passed\":true" : ",\"passed\":false";
    if (!c.filtered_by.empty()) {
      out += ",\"filtered_by\":";
      AppendJsonString(out, c.filtered_by);
    }
    const std::pair<const char*, double> fields[] = {
        {",\"ttft_s\":", c.ttft_s},   {",\"latency_s\":", c.latency_s}, {",\"latency_p95_s\":", c.latency_p95_s},
        {",\"p_meet\":", c.p_meet},   {",\"quality\":", c.quality},     {",\"cost_usd\":", c.cost_usd},
        {",\"load\":", c.load},       {",\"score\":", c.score}};
    for (const auto& [key, v] : fields) {
      out += key;
      AppendJsonNumber(out, v);
    }
    out += '}';
  }
  out += ']';
}

}  // namespace mec
