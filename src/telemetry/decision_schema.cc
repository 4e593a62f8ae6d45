#include "telemetry/decision_schema.h"

#include "core/json_writer.h"

namespace mec {

const char* const kDecisionLogSchema = R"sql(
CREATE TABLE IF NOT EXISTS decisions (
  id TEXT PRIMARY KEY,
  ts REAL NOT NULL,
  endpoint TEXT, model TEXT, task_class TEXT, use_case TEXT,
  input_tokens_est INTEGER, output_tokens_est REAL,
  deadline_ms REAL, ttft_deadline_ms REAL, min_quality REAL, privacy TEXT, network TEXT, stream INTEGER,
  policy TEXT, reason TEXT, chain TEXT, primary_backend TEXT, hedge_planned INTEGER, decision_us REAL,
  candidates TEXT,
  backend TEXT, tier TEXT,
  pred_ttft_s REAL, pred_latency_s REAL, pred_p_meet REAL, pred_quality REAL, pred_cost_usd REAL,
  status TEXT, http_status INTEGER, attempts INTEGER, hedges INTEGER,
  ttft_s REAL, latency_s REAL, input_tokens INTEGER, output_tokens INTEGER, cost_usd REAL, error TEXT,
  feedback REAL, feedback_ts REAL
);
CREATE INDEX IF NOT EXISTS decisions_ts ON decisions(ts);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
INSERT OR IGNORE INTO meta VALUES ('schema_version', '1');
)sql";

const std::vector<std::string_view> kDecisionLogColumns = {
    "id", "ts", "endpoint", "model", "task_class", "use_case", "input_tokens_est", "output_tokens_est",
    "deadline_ms", "ttft_deadline_ms", "min_quality", "privacy", "network", "stream",
    "policy", "reason", "chain", "primary_backend", "hedge_planned", "decision_us", "candidates",
    "backend", "tier", "pred_ttft_s", "pred_latency_s", "pred_p_meet", "pred_quality", "pred_cost_usd",
    "status", "http_status", "attempts", "hedges", "ttft_s", "latency_s", "input_tokens", "output_tokens",
    "cost_usd", "error", "feedback", "feedback_ts"};

const char* const kDecisionLogInsert =
    "INSERT OR REPLACE INTO decisions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

std::string CandidatesJson(const std::vector<Candidate>& candidates, const std::vector<std::string>& names,
                           const std::vector<std::string>& tiers) {
  // Written by hand rather than through JsonWriter: this runs once per logged request on the
  // writer thread, and constant keys need no escaping.
  std::string out;
  out.reserve(16 + 200 * candidates.size());
  out += '[';
  for (const auto& c : candidates) {
    const bool known = c.backend >= 0 && static_cast<size_t>(c.backend) < names.size();
    if (out.size() > 1) out += ',';
    out += "{\"backend\":";
    AppendJsonString(out, known ? std::string_view(names[c.backend]) : std::string_view("?"));
    out += ",\"tier\":";
    AppendJsonString(out, known ? std::string_view(tiers[c.backend]) : std::string_view("?"));
    out += c.passed_filters ? ",\"passed\":true" : ",\"passed\":false";
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
  return out;
}

}  // namespace mec
