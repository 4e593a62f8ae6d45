#include "telemetry/decision_log.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <thread>

#include <gtest/gtest.h>

#include "telemetry/decision_schema.h"
#include "telemetry/test_records.h"

namespace mec {
namespace {

using testing_util::MakeRecord;
using testing_util::TempPath;

const std::vector<std::string> kNames = {"mec-1", "api"};
const std::vector<std::string> kTiers = {"edge", "cloud"};
constexpr double kT0 = 1.8e9;  // a Unix time in 2027

DecisionLogOptions Opts(const std::string& path) {
  DecisionLogOptions o;
  o.path = path;
  o.flush_ms = 60000;  // only full batches, Flush and Close write (unless a test says otherwise)
  return o;
}

std::unique_ptr<DecisionLog> OpenLog(const DecisionLogOptions& o) {
  auto log = DecisionLog::Open(o, kNames, kTiers);
  EXPECT_TRUE(log.ok()) << log.status().message();
  return log.ok() ? std::move(*log) : nullptr;
}

// A second, read-only connection, as `mecrouter decisions` would open.
std::string Query(const std::string& path, const std::string& sql) {
  auto db = SqliteDb::Open(path, true);
  EXPECT_TRUE(db.ok()) << db.status().message();
  if (!db.ok()) return "<no db>";
  auto v = (*db)->QueryText(sql);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? *v : "<error>";
}

// The candidates blob of row `id`, decoded.
std::vector<LoggedCandidate> Candidates(const std::string& path, const std::string& id) {
  std::vector<LoggedCandidate> out;
  auto db = SqliteDb::Open(path, true);
  EXPECT_TRUE(db.ok()) << db.status().message();
  if (!db.ok()) return out;
  auto st = (*db)->Prepare("SELECT candidates FROM decision_rows WHERE id = '" + id + "'");
  EXPECT_TRUE(st.ok()) << st.status().message();
  if (!st.ok()) return out;
  auto row = st->Step();
  EXPECT_TRUE(row.ok() && *row) << "no row " << id;
  if (!row.ok() || !*row) return out;
  EXPECT_TRUE(st->IsBlob(0));
  EXPECT_TRUE(DecodeCandidates(st->Blob(0), out));
  return out;
}

TEST(DecisionLog, SchemaHasOneParameterPerColumn) {
  const std::string path = TempPath("schema.db");
  auto log = OpenLog(Opts(path));
  log->Close();
  auto names = [](const std::vector<std::string_view>& cols) {
    std::string out;
    for (auto c : cols) out += (out.empty() ? "" : ",") + std::string(c);
    return out;
  };
  EXPECT_EQ(Query(path, "SELECT group_concat(name, ',') FROM pragma_table_info('decision_rows')"), names(kDecisionRowColumns));
  const std::string insert = DecisionLogInsert(3);
  EXPECT_EQ(static_cast<size_t>(std::count(insert.begin(), insert.end(), '?')), 3 * kDecisionRowColumns.size());
  // The view keeps version 1's columns (and version 3's ids), feedback last.
  EXPECT_EQ(Query(path, "SELECT group_concat(name, ',') FROM pragma_table_info('decisions')"), names(kDecisionLogColumns));
  EXPECT_EQ(kDecisionLogColumns.back(), "feedback_ts");
  EXPECT_EQ(Query(path, "SELECT value FROM meta WHERE key = 'schema_version'"), "5");
  // No index to keep up to date on the rows (the writer's cost is the rows alone).
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'decision_rows'"), "0");
}

TEST(DecisionLog, BatchedWritesLandInWalMode) {
  const std::string path = TempPath("batches.db");
  DecisionLogOptions o = Opts(path);
  o.batch = 10;
  auto log = OpenLog(o);
  EXPECT_EQ(Query(path, "PRAGMA journal_mode"), "wal");
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(log->Append(MakeRecord("d" + std::to_string(i), kT0 + i)));
  log->Flush();
  auto s = log->stats();
  EXPECT_EQ(s.appended, 25u);
  EXPECT_EQ(s.written, 25u);
  EXPECT_GE(s.transactions, 3u);         // 25 rows in transactions of at most 10
  EXPECT_EQ(s.largest_transaction, 10u);  // the writer woke when 10 were waiting (not on a timer)
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM decisions"), "25");
  // What a row holds.
  EXPECT_EQ(Query(path, "SELECT chain || '|' || primary_backend || '|' || backend || '|' || tier || '|' || status FROM decisions WHERE id='d3'"),
            "mec-1,api|mec-1|mec-1|edge|ok");
  EXPECT_EQ(Query(path, "SELECT pred_ttft_s || ',' || pred_latency_s || ',' || ttft_s || ',' || latency_s FROM decisions WHERE id='d3'"),
            "0.2,1.0,0.25,1.5");
  EXPECT_EQ(Query(path, "SELECT task_class || ',' || use_case || ',' || input_tokens_est || ',' || deadline_ms || ',' || privacy || ',' || network FROM decisions WHERE id='d3'"),
            "chat,gaming.npc-dialogue,42,800.0,any,link=5g; rtt-edge=12");
  const auto cands = Candidates(path, "d3");
  ASSERT_EQ(cands.size(), 2u);
  EXPECT_EQ(cands[1].backend, "api");
  EXPECT_EQ(cands[1].tier, "cloud");
  EXPECT_EQ(cands[1].ttft_s, 0.5);
  EXPECT_EQ(Query(path, "SELECT ts FROM decisions WHERE id='d3'"), "1800000003.0");
  EXPECT_EQ(Query(path, "SELECT request_id || ',' || trace_id FROM decisions WHERE id='d3'"),
            "req-d3,4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(DecisionLog, WritesWithinFlushIntervalWithoutFlush) {
  const std::string path = TempPath("interval.db");
  DecisionLogOptions o = Opts(path);
  o.flush_ms = 20;
  auto log = OpenLog(o);
  log->Append(MakeRecord("a", kT0));
  log->Append(MakeRecord("b", kT0));
  std::string n;
  for (int i = 0; i < 200 && n != "2"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    n = Query(path, "SELECT COUNT(*) FROM decisions");
  }
  EXPECT_EQ(n, "2");
}

TEST(DecisionLog, RetentionByRows) {
  const std::string path = TempPath("rows.db");
  DecisionLogOptions o = Opts(path);
  o.batch = 7;
  o.retention_rows = 10;
  auto log = OpenLog(o);
  for (int i = 0; i < 25; ++i) log->Append(MakeRecord("d" + std::to_string(i), kT0 + i));
  log->Flush();
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM decisions"), "10");
  EXPECT_EQ(Query(path, "SELECT MIN(ts) - 1800000000 FROM decisions"), "15.0");  // the newest ten remain
  EXPECT_EQ(log->stats().deleted, 15u);
}

TEST(DecisionLog, RetentionByAgeRelativeToNewestRow) {
  const std::string path = TempPath("age.db");
  DecisionLogOptions o = Opts(path);
  o.retention_days = 1;
  auto log = OpenLog(o);
  log->Append(MakeRecord("old", kT0));
  log->Append(MakeRecord("half-day", kT0 + 86400 * 0.5));
  log->Flush();
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM decisions"), "2");
  log->Append(MakeRecord("new", kT0 + 86400 * 1.2));  // "old" is now 1.2 days older than the newest
  log->Flush();
  EXPECT_EQ(Query(path, "SELECT group_concat(id) FROM decisions ORDER BY ts"), "half-day,new");
}

TEST(DecisionLog, CloseWritesEverything) {
  const std::string path = TempPath("close.db");
  DecisionLogOptions o = Opts(path);
  o.batch = 64;
  auto log = OpenLog(o);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&log, k] {
      for (int i = 0; i < 250; ++i) log->Append(MakeRecord("t" + std::to_string(k) + "-" + std::to_string(i), kT0 + i));
    });
  for (auto& t : threads) t.join();
  log->Close();
  EXPECT_EQ(log->stats().written, 1000u);
  EXPECT_EQ(log->stats().dropped, 0u);
  EXPECT_FALSE(log->Append(MakeRecord("late", kT0)));  // closed: dropped, counted
  EXPECT_EQ(log->stats().dropped, 1u);
  log.reset();
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM decisions"), "1000");
}

TEST(DecisionLog, FullQueueDropsAndCounts) {
  const std::string path = TempPath("full.db");
  DecisionLogOptions o = Opts(path);
  o.queue = 5;
  o.batch = 1000;  // the writer waits for a full batch or flush_ms (60 s): the queue fills
  auto log = OpenLog(o);
  int accepted = 0;
  for (int i = 0; i < 8; ++i) accepted += log->Append(MakeRecord("q" + std::to_string(i), kT0 + i));
  EXPECT_EQ(accepted, 5);
  auto s = log->stats();
  EXPECT_EQ(s.dropped, 3u);
  EXPECT_EQ(s.queued, 5u);
  log->Close();
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM decisions"), "5");
  EXPECT_EQ(Query(path, "SELECT group_concat(id) FROM decisions"), "q0,q1,q2,q3,q4");
}

TEST(DecisionLog, FeedbackUpdatesTheRowEvenWhenItComesFirst) {
  const std::string path = TempPath("feedback.db");
  auto log = OpenLog(Opts(path));
  log->Append(MakeRecord("a", kT0));
  log->Feedback("a", 0.5, kT0 + 4);
  log->Feedback("a", 0.75, kT0 + 5);  // a second score replaces the first
  log->Feedback("b", 0.25, kT0 + 6);  // before its row (a fast client)
  log->Append(MakeRecord("b", kT0 + 1));
  log->Feedback("never-logged", 1, kT0 + 7);
  log->Flush();
  EXPECT_EQ(Query(path, "SELECT feedback || ',' || feedback_ts FROM decisions WHERE id='a'"), "0.75,1800000005.0");
  EXPECT_EQ(Query(path, "SELECT feedback FROM decisions WHERE id='b'"), "0.25");
  EXPECT_EQ(log->stats().feedback, 4u);  // every score written, the unmatched one too
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM decisions WHERE feedback IS NULL"), "0");
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM decisions"), "2");  // feedback adds no rows
}

TEST(DecisionLog, FeedbackGoesWithTheRowsRetentionRemoves) {
  const std::string path = TempPath("feedback_retention.db");
  DecisionLogOptions o = Opts(path);
  o.retention_rows = 5;
  auto log = OpenLog(o);
  for (int i = 0; i < 10; ++i) log->Append(MakeRecord("d" + std::to_string(i), kT0 + 1000 * i));
  log->Feedback("d0", 0.5, kT0 + 1);
  log->Feedback("d9", 0.5, kT0 + 9001);
  log->Flush();
  EXPECT_EQ(Query(path, "SELECT group_concat(id) FROM decisions"), "d5,d6,d7,d8,d9");
  // d5 (the oldest row kept) came at kT0 + 5000: feedback older than an hour before it is gone.
  EXPECT_EQ(Query(path, "SELECT group_concat(id) FROM feedback"), "d9");
}

TEST(DecisionLog, ValuesThatChangeAndRepeatAcrossRowsAndInsertGroups) {
  // The writer inserts up to 8 rows per statement and rebinds only the parameters whose value
  // changed: rows that alternate values, NULLs and lengths must come back exactly.
  const std::string path = TempPath("sticky.db");
  DecisionLogOptions o = Opts(path);
  o.batch = 21;  // one transaction per 21: two statements of 8 rows, then five of one
  auto log = OpenLog(o);
  auto make = [](int i) {
    auto r = MakeRecord("s" + std::to_string(i), kT0 + i, i % 5 == 4 ? -1 : i % 2);
    if (i % 3 == 0) r.deadline_ms.reset();
    r.reason = std::string(static_cast<size_t>(i % 4) * 7, 'x');
    if (i % 5 == 4) {
      r.status = RequestStatus::kFailed;
      r.error = "failed " + std::to_string(i);
      r.ttft_s.reset();
    }
    r.output_tokens = i / 2;
    r.candidates.resize(static_cast<size_t>(i % 3));
    if (!r.candidates.empty()) r.candidates[0].filtered_by = i % 2 ? "privacy" : "";
    return r;
  };
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 42; ++i) ASSERT_TRUE(log->Append(make(i)));
    log->Flush();
    // Once more, the same ids: the second round must not read the first round's bindings.
    EXPECT_EQ(log->stats().written, 42u * static_cast<uint64_t>(round + 1));
  }
  EXPECT_EQ(log->stats().largest_transaction, 21u);
  for (int i = 0; i < 42; ++i) {
    const auto r = make(i);
    const std::string where = " FROM decision_rows WHERE id = 's" + std::to_string(i) + "'";
    SCOPED_TRACE(where);
    EXPECT_EQ(Query(path, "SELECT COUNT(*)" + where), "2");
    EXPECT_EQ(Query(path, "SELECT COUNT(DISTINCT quote(deadline_ms) || reason || quote(backend) || status || error || output_tokens || quote(ttft_s) || hex(candidates))" + where), "1");
    EXPECT_EQ(Query(path, "SELECT quote(deadline_ms)" + where + " LIMIT 1"), r.deadline_ms ? "800.0" : "NULL");
    EXPECT_EQ(Query(path, "SELECT reason" + where + " LIMIT 1"), r.reason);
    EXPECT_EQ(Query(path, "SELECT quote(backend)" + where + " LIMIT 1"), r.backend < 0 ? "NULL" : r.backend ? "'api'" : "'mec-1'");
    EXPECT_EQ(Query(path, "SELECT status || '|' || error || '|' || quote(ttft_s)" + where + " LIMIT 1"),
              std::string(RequestStatusName(r.status)) + "|" + r.error + "|" + (r.ttft_s ? "0.25" : "NULL"));
    EXPECT_EQ(Query(path, "SELECT output_tokens" + where + " LIMIT 1"), std::to_string(i / 2));
    const auto cands = Candidates(path, "s" + std::to_string(i));
    ASSERT_EQ(cands.size(), r.candidates.size());
    if (!cands.empty()) {
      EXPECT_EQ(cands[0].filtered_by, r.candidates[0].filtered_by);
    }
  }
  // Log order is rowid order.
  EXPECT_EQ(Query(path, "SELECT group_concat(id) FROM (SELECT id FROM decision_rows ORDER BY rowid LIMIT 3)"), "s0,s1,s2");
}

TEST(DecisionLog, CandidatesRoundTripThroughTheCompactForm) {
  const CandidateEncoder enc({"mec-1", std::string(300, 'n')}, {"edge", "cloud"});
  std::vector<Candidate> cs(4);
  cs[0].backend = 0;
  cs[0].ttft_s = 0.123456789;
  cs[0].latency_s = 1.5;
  cs[0].latency_sigma = 0.25;  // p95 = 1.5 x e^(1.645 x 0.25)
  cs[0].p_meet = 0.999;
  cs[0].quality = 0.85;
  cs[0].cost_usd = 6.5e-7;
  cs[0].load = 0.125;
  cs[0].score = -3.75;
  cs[1].backend = 1;  // a 300-byte name keeps its first 255
  cs[1].passed_filters = false;
  cs[1].filtered_by = "privacy \"device\"";
  cs[2].backend = 7;  // not a known index
  cs[3].backend = -1;
  cs[3].ttft_s = std::numeric_limits<double>::infinity();
  std::string blob;
  enc.Encode(cs, blob);
  std::vector<LoggedCandidate> out;
  ASSERT_TRUE(DecodeCandidates(blob, out));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].backend, "mec-1");
  EXPECT_EQ(out[0].tier, "edge");
  EXPECT_TRUE(out[0].passed);
  EXPECT_EQ(out[0].filtered_by, "");
  EXPECT_EQ(out[0].ttft_s, 0.123456789);  // bit for bit
  EXPECT_EQ(out[0].latency_s, 1.5);
  EXPECT_EQ(out[0].latency_p95_s, LatencyP95(cs[0]));
  EXPECT_NEAR(out[0].latency_p95_s, 2.2631, 1e-4);
  EXPECT_EQ(out[0].p_meet, 0.999);
  EXPECT_EQ(out[0].quality, 0.85);
  EXPECT_EQ(out[0].cost_usd, 6.5e-7);
  EXPECT_EQ(out[0].load, 0.125);
  EXPECT_EQ(out[0].score, -3.75);
  EXPECT_EQ(out[1].backend, std::string(255, 'n'));
  EXPECT_EQ(out[1].tier, "cloud");
  EXPECT_FALSE(out[1].passed);
  EXPECT_EQ(out[1].filtered_by, "privacy \"device\"");
  EXPECT_EQ(out[2].backend, "?");
  EXPECT_EQ(out[3].tier, "?");

  std::string json;
  out[0].latency_p95_s = 2.25;  // a value the text below can spell
  AppendCandidatesJson(json, {out[0], out[3]});
  EXPECT_EQ(json,
            "[{\"backend\":\"mec-1\",\"tier\":\"edge\",\"passed\":true,\"ttft_s\":0.123456789,\"latency_s\":1.5,"
            "\"latency_p95_s\":2.25,\"p_meet\":0.999,\"quality\":0.85,\"cost_usd\":6.5e-07,\"load\":0.125,\"score\":-3.75},"
            "{\"backend\":\"?\",\"tier\":\"?\",\"passed\":true,\"ttft_s\":null,\"latency_s\":0,\"latency_p95_s\":0,"
            "\"p_meet\":1,\"quality\":1,\"cost_usd\":0,\"load\":0,\"score\":0}]");

  // No candidates; and what is not a blob of this format.
  enc.Encode({}, blob);
  ASSERT_TRUE(DecodeCandidates(blob, out));
  EXPECT_TRUE(out.empty());
  json.clear();
  AppendCandidatesJson(json, out);
  EXPECT_EQ(json, "[]");
  enc.Encode(cs, blob);
  EXPECT_FALSE(DecodeCandidates(blob.substr(0, blob.size() - 1), out));
  EXPECT_FALSE(DecodeCandidates("", out));
  EXPECT_FALSE(DecodeCandidates("[{\"backend\":\"x\"}]", out));  // version 1's JSON text
}

TEST(DecisionLog, ReopenAppendsToExistingFile) {
  const std::string path = TempPath("reopen.db");
  {
    auto log = OpenLog(Opts(path));
    log->Append(MakeRecord("first", kT0));
  }  // destruction closes and flushes
  auto log = OpenLog(Opts(path));
  log->Append(MakeRecord("second", kT0 + 1));
  log->Close();
  EXPECT_EQ(Query(path, "SELECT group_concat(id) FROM decisions"), "first,second");
}

TEST(DecisionLog, RetentionByRowsContinuesAfterReopen) {
  const std::string path = TempPath("reopen_rows.db");
  DecisionLogOptions o = Opts(path);
  o.retention_rows = 3;
  {
    auto log = OpenLog(o);
    for (int i = 0; i < 5; ++i) log->Append(MakeRecord("a" + std::to_string(i), kT0 + i));
  }
  EXPECT_EQ(Query(path, "SELECT group_concat(id) FROM decisions"), "a2,a3,a4");
  auto log = OpenLog(o);
  log->Append(MakeRecord("b0", kT0 + 10));
  log->Append(MakeRecord("b1", kT0 + 11));
  log->Close();
  EXPECT_EQ(Query(path, "SELECT group_concat(id) FROM decisions"), "a4,b0,b1");
  EXPECT_EQ(log->stats().deleted, 2u);
}

TEST(DecisionLog, RefusesAFileOfTheOlderSchema) {
  const std::string path = TempPath("v1.db");
  {
    auto db = SqliteDb::Open(path, false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("CREATE TABLE decisions (id TEXT PRIMARY KEY, ts REAL NOT NULL);"
                            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
                            "INSERT INTO meta VALUES ('schema_version', '1');").ok());
  }
  auto log = DecisionLog::Open(Opts(path), kNames, kTiers);
  ASSERT_FALSE(log.ok());
  const std::string m = log.status().message();
  EXPECT_NE(m.find(path), std::string::npos) << m;
  EXPECT_NE(m.find("schema version 1"), std::string::npos) << m;
  EXPECT_NE(m.find("move it aside"), std::string::npos) << m;
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'decision_rows'"), "0");  // left as it was
}

TEST(DecisionLog, MigratesAVersion2FileInPlace) {
  const std::string path = TempPath("v2.db");
  {
    // Version 2: the same rows without request_id and trace_id.
    std::string v2 = kDecisionLogSchema;
    auto cut = [&](const std::string& from, const std::string& to) {
      const size_t at = v2.find(from);
      ASSERT_NE(at, std::string::npos) << from;
      v2.replace(at, from.size(), to);
    };
    cut(",\n  request_id /* TEXT: X-Request-Id */, trace_id /* TEXT: W3C trace id */,\n  continuations /* INTEGER */,\n"
        "  key_name /* TEXT: the API key's name (never the key) */, key_spend_usd /* REAL: charged to its budget */",
        "");
    cut("d.error, d.request_id, d.trace_id, d.continuations, d.key_name, d.key_spend_usd,", "d.error,");
    cut("'schema_version', '5'", "'schema_version', '2'");
    auto db = SqliteDb::Open(path, false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec(v2).ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO decision_rows (id, ts) VALUES ('old', " + std::to_string(kT0 - 1) + ");").ok());
  }
  auto log = DecisionLog::Open(Opts(path), kNames, kTiers);
  ASSERT_TRUE(log.ok()) << log.status().message();
  ASSERT_TRUE((*log)->Append(MakeRecord("new", kT0)));
  (*log)->Close();
  EXPECT_EQ(Query(path, "SELECT value FROM meta WHERE key = 'schema_version'"), "5");
  EXPECT_EQ(Query(path, "SELECT group_concat(id || ':' || COALESCE(request_id, '-'), ',') FROM decisions"), "old:-,new:req-new");
  EXPECT_EQ(Query(path, "SELECT group_concat(COALESCE(continuations, '-'), ',') FROM decisions"), "-,0");
  EXPECT_EQ(Query(path, "SELECT group_concat(COALESCE(key_name, '-'), ',') FROM decisions"), "-,");
}

TEST(DecisionLog, OpenErrorsNameTheFile) {
  DecisionLogOptions o;
  o.path = "/nonexistent-dir/x/decisions.db";
  auto log = DecisionLog::Open(o, kNames, kTiers);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("/nonexistent-dir/x/decisions.db"), std::string::npos) << log.status().message();
}

}  // namespace
}  // namespace mec
