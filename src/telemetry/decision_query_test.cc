#include "telemetry/decision_query.h"

#include <simdjson.h>

#include <sstream>

#include <gtest/gtest.h>

#include "telemetry/decision_log.h"
#include "telemetry/decision_schema.h"
#include "telemetry/test_records.h"

namespace mec {
namespace {

using testing_util::MakeRecord;
using testing_util::TempPath;

constexpr double kQueryT0 = 1.8e9;

// Four requests: two on the edge, one on the cloud, one that failed before any backend.
std::string MakeDb(const std::string& name) {
  const std::string path = TempPath(name);
  DecisionLogOptions o;
  o.path = path;
  auto log = DecisionLog::Open(o, {"mec-1", "api"}, {"edge", "cloud"});
  EXPECT_TRUE(log.ok()) << log.status().message();
  auto r1 = MakeRecord("r1", kQueryT0);                 // pred ttft 0.2 / e2e 1.0; actual 0.25 / 1.5
  auto r2 = MakeRecord("r2", kQueryT0 + 1);
  r2.ttft_s = 0.1;
  r2.latency_s = 0.6;
  r2.reason = "cheapest, \"quoted\"";
  auto r3 = MakeRecord("r3", kQueryT0 + 2, 1);          // pred e2e 2.0; actual 2.5, no TTFT (not streamed)
  r3.ttft_s.reset();
  r3.latency_s = 2.5;
  auto r4 = MakeRecord("r4", kQueryT0 + 3, -1);
  r4.answered = false;
  r4.policy = "cloud-only";
  r4.status = RequestStatus::kFailed;
  r4.http_status = 503;
  r4.ttft_s.reset();
  r4.error = "every backend failed";
  for (auto* r : {&r1, &r2, &r3, &r4}) (*log)->Append(*r);
  (*log)->Feedback("r1", 0.5, kQueryT0 + 10);
  (*log)->Close();
  return path;
}

std::unique_ptr<SqliteDb> Open(const std::string& path) {
  auto db = SqliteDb::Open(path, true);
  EXPECT_TRUE(db.ok()) << db.status().message();
  return std::move(*db);
}

TEST(DecisionQuery, SummaryCountsAndPredictedVsActual) {
  auto db = Open(MakeDb("summary.db"));
  auto s = SummarizeDecisions(*db);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->rows, 4);
  EXPECT_EQ(s->first_ts, kQueryT0);
  EXPECT_EQ(s->last_ts, kQueryT0 + 3);
  ASSERT_EQ(s->by_tier.size(), 3u);
  EXPECT_EQ(s->by_tier[0].key, "edge");
  EXPECT_EQ(s->by_tier[0].n, 2);
  EXPECT_EQ(s->by_tier[1].key, "cloud");
  EXPECT_EQ(s->by_tier[2].key, "none");
  ASSERT_EQ(s->by_policy.size(), 2u);
  EXPECT_EQ(s->by_policy[0].key, "adaptive");
  EXPECT_EQ(s->by_policy[0].n, 3);
  ASSERT_EQ(s->by_status.size(), 2u);
  EXPECT_EQ(s->by_status[1].key, "failed");
  ASSERT_EQ(s->latency.size(), 2u);  // ok requests only, by backend name
  const auto& api = s->latency[0];
  const auto& edge = s->latency[1];
  EXPECT_EQ(api.backend, "api");
  EXPECT_EQ(api.n, 1);
  EXPECT_EQ(api.n_ttft, 0);
  EXPECT_DOUBLE_EQ(api.pred_latency_s, 2.0);
  EXPECT_DOUBLE_EQ(api.latency_mae_s, 0.5);
  EXPECT_EQ(edge.backend, "mec-1");
  EXPECT_EQ(edge.tier, "edge");
  EXPECT_EQ(edge.n, 2);
  EXPECT_EQ(edge.n_ttft, 2);
  EXPECT_DOUBLE_EQ(edge.pred_ttft_s, 0.2);
  EXPECT_DOUBLE_EQ(edge.ttft_s, 0.175);
  EXPECT_NEAR(edge.ttft_mae_s, 0.075, 1e-12);
  EXPECT_DOUBLE_EQ(edge.pred_latency_s, 1.0);
  EXPECT_DOUBLE_EQ(edge.latency_s, 1.05);
  EXPECT_NEAR(edge.latency_mae_s, 0.45, 1e-12);
  EXPECT_EQ(edge.feedback_n, 1);
  EXPECT_DOUBLE_EQ(edge.feedback_mean, 0.5);
  EXPECT_NEAR(edge.cost_usd, 0.001, 1e-12);

  const std::string text = FormatDecisionSummary(*s);
  EXPECT_NE(text.find("4 decisions from 2027-01-15T08:00:00.000Z to 2027-01-15T08:00:03.000Z"), std::string::npos) << text;
  EXPECT_NE(text.find("requests by tier:\n  edge                    2   50.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("  cloud-only              1   25.0%"), std::string::npos) << text;
  // backend tier n pred_ttft ttft ttft_mae pred_e2e e2e e2e_mae (ms)
  EXPECT_NE(text.find("mec-1            edge        2        200        175        75       1000       1050       450"),
            std::string::npos) << text;
  EXPECT_NE(text.find("api              cloud       1          -          -         -       2000       2500       500"),
            std::string::npos) << text;
}

TEST(DecisionQuery, TailShowsTheNewestOldestFirst) {
  auto db = Open(MakeDb("tail.db"));
  auto t = TailDecisions(*db, 2);
  ASSERT_TRUE(t.ok()) << t.status().message();
  const std::string& s = *t;
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 2) << s;
  const auto p3 = s.find(" r3 adaptive cloud/api ok 200 attempts=1 ttft=-ms (pred 500) e2e=2500ms (pred 2000)");
  const auto p4 = s.find(" r4 cloud-only none/- failed 503");
  EXPECT_NE(p3, std::string::npos) << s;
  EXPECT_NE(p4, std::string::npos) << s;
  EXPECT_LT(p3, p4);
  EXPECT_NE(s.find("error=\"every backend failed\""), std::string::npos) << s;
  auto all = TailDecisions(*db, 100);
  EXPECT_NE(all->find(" r1 adaptive edge/mec-1 ok 200 attempts=1 ttft=250ms (pred 200) e2e=1500ms (pred 1000) tokens=90 cost=$0.000500 feedback=0.5"),
            std::string::npos) << *all;
}

TEST(DecisionQuery, ExportJsonlAndCsv) {
  auto db = Open(MakeDb("export.db"));
  std::ostringstream jsonl;
  ASSERT_TRUE(ExportDecisions(*db, ExportFormat::kJsonl, jsonl).ok());
  std::istringstream lines(jsonl.str());
  std::string line;
  int n = 0;
  simdjson::dom::parser parser;
  while (std::getline(lines, line)) {
    ++n;
    simdjson::dom::element doc;
    ASSERT_FALSE(parser.parse(line).get(doc)) << line;
    std::string_view id;
    ASSERT_FALSE(doc["id"].get_string().get(id));
    EXPECT_EQ(id, "r" + std::to_string(n));
    simdjson::dom::array cands;
    ASSERT_FALSE(doc["candidates"].get_array().get(cands)) << "candidates must be a JSON array: " << line;
    EXPECT_EQ(cands.size(), 2u);
    int64_t attempts = 0;
    ASSERT_FALSE(doc["attempts"].get_int64().get(attempts));
    EXPECT_EQ(attempts, 1);
    if (n == 4) EXPECT_TRUE(doc["backend"].is_null()) << line;
  }
  EXPECT_EQ(n, 4);

  std::ostringstream csv;
  ASSERT_TRUE(ExportDecisions(*db, ExportFormat::kCsv, csv).ok());
  const std::string c = csv.str();
  EXPECT_EQ(std::count(c.begin(), c.end(), '\n'), 5);
  EXPECT_EQ(c.rfind("id,ts,endpoint,model,task_class,", 0), 0u) << c.substr(0, 200);
  EXPECT_NE(c.find("\"cheapest, \"\"quoted\"\"\""), std::string::npos) << c;  // CSV quoting
  EXPECT_NE(c.find("\nr4,1800000003,chat,auto,"), std::string::npos) << c;
}

TEST(DecisionQuery, ExportWritesTheCandidatesAsJson) {
  auto db = Open(MakeDb("export_candidates.db"));
  std::ostringstream jsonl;
  ASSERT_TRUE(ExportDecisions(*db, ExportFormat::kJsonl, jsonl).ok());
  const std::string first = jsonl.str().substr(0, jsonl.str().find('\n'));
  EXPECT_NE(first.find("\"candidates\":[{\"backend\":\"mec-1\",\"tier\":\"edge\",\"passed\":true,\"ttft_s\":0.2,"
                       "\"latency_s\":1,\"latency_p95_s\":1,\"p_meet\":0.95,\"quality\":0.85,\"cost_usd\":0.001,\"load\":0,"
                       "\"score\":1},{\"backend\":\"api\",\"tier\":\"cloud\",\"passed\":true,\"ttft_s\":0.5,"),
            std::string::npos) << first;
  EXPECT_NE(first.find("\"feedback\":0.5,\"feedback_ts\":1800000010}"), std::string::npos) << first;
  std::ostringstream csv;
  ASSERT_TRUE(ExportDecisions(*db, ExportFormat::kCsv, csv).ok());
  std::string header;
  for (auto c : kDecisionLogColumns) header += (header.empty() ? "" : ",") + std::string(c);
  EXPECT_EQ(csv.str().substr(0, csv.str().find('\n')), header);
  EXPECT_NE(csv.str().find(",\"[{\"\"backend\"\":\"\"mec-1\"\",\"\"tier\"\":\"\"edge\"\","), std::string::npos) << csv.str();
}

// What version 1 of the schema (until 2026-11) created, with one row as it wrote them.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE decisions (
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
CREATE INDEX decisions_ts ON decisions(ts);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO decisions VALUES ('old-1', 1800000000, 'chat', 'auto', 'chat', '', 42, 100, 800, NULL, 0.8, 'any', '', 0,
  'adaptive', 'edge meets quality', 'mec-1,api', 'mec-1', 0, 20,
  '[{"backend":"mec-1","tier":"edge","passed":true,"ttft_s":0.2}]', 'mec-1', 'edge', 0.2, 1.0, 0.95, 0.85, 0.001,
  'ok', 200, 1, 0, 0.25, 1.5, 40, 90, 0.0005, '', 0.5, 1800000010);
)sql";

TEST(DecisionQuery, ReadsAFileOfTheOlderSchema) {
  const std::string path = TempPath("v1.db");
  {
    auto db = SqliteDb::Open(path, false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec(kVersion1).ok());
  }
  auto db = Open(path);
  auto s = SummarizeDecisions(*db);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->rows, 1);
  ASSERT_EQ(s->latency.size(), 1u);
  EXPECT_EQ(s->latency[0].backend, "mec-1");
  EXPECT_EQ(s->latency[0].feedback_n, 1);
  auto t = TailDecisions(*db, 5);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_NE(t->find(" old-1 adaptive edge/mec-1 ok 200 attempts=1 ttft=250ms (pred 200) e2e=1500ms (pred 1000)"), std::string::npos) << *t;
  std::ostringstream jsonl;
  ASSERT_TRUE(ExportDecisions(*db, ExportFormat::kJsonl, jsonl).ok());
  EXPECT_NE(jsonl.str().find("\"candidates\":[{\"backend\":\"mec-1\",\"tier\":\"edge\",\"passed\":true,\"ttft_s\":0.2}]"),
            std::string::npos) << jsonl.str();
  EXPECT_NE(jsonl.str().find("\"feedback\":0.5"), std::string::npos) << jsonl.str();
}

TEST(DecisionQuery, ANonDecisionLogFileIsAClearError) {
  const std::string path = TempPath("other.db");
  {
    auto db = SqliteDb::Open(path, false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("CREATE TABLE t (x)").ok());
  }
  auto db = Open(path);
  auto s = SummarizeDecisions(*db);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("not a decision log"), std::string::npos) << s.status().message();
}

TEST(DecisionQuery, UnixTimeFormat) {
  EXPECT_EQ(FormatUnixTime(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatUnixTime(1800000000.2506), "2027-01-15T08:00:00.251Z");
  EXPECT_EQ(FormatUnixTime(1799999999.9996), "2027-01-15T08:00:00.000Z");
}

}  // namespace
}  // namespace mec
