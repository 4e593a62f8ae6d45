#include "telemetry/decision_log.h"

#include <chrono>
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

TEST(DecisionLog, SchemaHasOneParameterPerColumn) {
  const std::string path = TempPath("schema.db");
  auto log = OpenLog(Opts(path));
  log->Close();
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM pragma_table_info('decisions')"), std::to_string(kDecisionLogColumns.size()));
  std::string names;
  for (auto c : kDecisionLogColumns) names += (names.empty() ? "" : ",") + std::string(c);
  EXPECT_EQ(Query(path, "SELECT group_concat(name, ',') FROM pragma_table_info('decisions')"), names);
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
  EXPECT_EQ(Query(path, "SELECT json_valid(candidates) || ',' || json_array_length(candidates) || ',' || json_extract(candidates, '$[1].backend') || ',' || json_extract(candidates, '$[1].ttft_s') FROM decisions WHERE id='d3'"),
            "1,2,api,0.5");
  EXPECT_EQ(Query(path, "SELECT ts FROM decisions WHERE id='d3'"), "1800000003.0");
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
  log->Feedback("a", 0.75, kT0 + 5);
  log->Feedback("b", 0.25, kT0 + 6);  // before its row (a fast client)
  log->Append(MakeRecord("b", kT0 + 1));
  log->Feedback("never-logged", 1, kT0 + 7);
  log->Flush();
  EXPECT_EQ(Query(path, "SELECT feedback || ',' || feedback_ts FROM decisions WHERE id='a'"), "0.75,1800000005.0");
  EXPECT_EQ(Query(path, "SELECT feedback FROM decisions WHERE id='b'"), "0.25");
  EXPECT_EQ(log->stats().feedback, 2u);
  EXPECT_EQ(Query(path, "SELECT COUNT(*) FROM decisions WHERE feedback IS NULL"), "0");
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

TEST(DecisionLog, OpenErrorsNameTheFile) {
  DecisionLogOptions o;
  o.path = "/nonexistent-dir/x/decisions.db";
  auto log = DecisionLog::Open(o, kNames, kTiers);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("/nonexistent-dir/x/decisions.db"), std::string::npos) << log.status().message();
}

}  // namespace
}  // namespace mec
