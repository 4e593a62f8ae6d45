// The decision log's export to S3 end to end: a real decision log file with rows, the exporter,
// real HTTP to a local stand-in for S3 that checks every signature (fake_s3_server.h).
#include "aws/decision_exporter.h"

#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "aws/fake_s3_server.h"
#include "telemetry/decision_log.h"
#include "telemetry/decision_query.h"
#include "telemetry/test_records.h"

namespace mec::aws {
namespace {

using testing_util::FakeS3Server;
using mec::testing_util::MakeRecord;
using mec::testing_util::TempPath;

constexpr double kT0 = 1.8e9;

// An environment in a map (the exporter reads it through EnvLookup, as getenv in production).
struct FakeEnv {
  std::map<std::string, std::string> vars;
  EnvLookup lookup() {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

struct Fixture {
  explicit Fixture(const std::string& name, int64_t retention_rows = 0) {
    options.path = TempPath(name + ".db");
    std::remove((options.path + ".export").c_str());
    options.flush_ms = 60000;
    options.retention_rows = retention_rows;
    options.retention_days = 0;
    options.exports.s3 = "s3://mec-bucket/decisions";
    options.exports.region = "us-east-1";
    options.exports.endpoint = s3.url();
    options.exports.timeout_ms = 2000;
    env.vars = {{"AWS_ACCESS_KEY_ID", s3.access_key_id}, {"AWS_SECRET_ACCESS_KEY", s3.secret_access_key}};
    auto l = DecisionLog::Open(options, {"mec-1", "api"}, {"edge", "cloud"});
    EXPECT_TRUE(l.ok()) << l.status().message();
    log = std::move(*l);
  }
  std::unique_ptr<DecisionExporter> Exporter() {
    auto e = DecisionExporter::Create(options, "host-1", clock, env.lookup(), [this](const std::string& line) { lines.push_back(line); });
    EXPECT_TRUE(e.ok()) << e.status().message();
    return e.ok() ? std::move(*e) : nullptr;
  }
  void Append(int n) {
    for (int i = 0; i < n; ++i, ++appended) log->Append(MakeRecord("d" + std::to_string(appended), kT0 + appended));
    log->Flush();
  }
  // `mecrouter decisions export --format jsonl` of the whole log.
  std::string FullExport() {
    auto db = SqliteDb::Open(options.path, true);
    std::ostringstream out;
    EXPECT_TRUE(ExportDecisions(**db, ExportFormat::kJsonl, out).ok());
    return out.str();
  }
  // Every stored object's body, in key order (the keys sort by time, then seq).
  std::string Stored() {
    std::string all;
    for (const auto& [k, v] : s3.objects()) all += v;
    return all;
  }

  FakeS3Server s3;
  FakeEnv env;
  ManualClock clock;
  DecisionLogOptions options;
  std::unique_ptr<DecisionLog> log;
  std::vector<std::string> lines;  // what the exporter logged
  int appended = 0;
};

size_t Lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST(DecisionExporter, ExportsEachRowOnceAcrossRunsAndRestarts) {
  Fixture f("twice");
  f.Append(5);
  auto ex = f.Exporter();
  ASSERT_TRUE(ex->ExportOnce().ok()) << ex->stats().last_error;
  auto objects = f.s3.objects();
  ASSERT_EQ(objects.size(), 1u);
  const std::string first_key = objects.begin()->first;
  // PREFIX/<replica>/<UTC time>-<first seq>-<last seq>.jsonl, path style under the bucket.
  EXPECT_EQ(first_key, "/mec-bucket/decisions/host-1/" + AmzDate(f.clock.UnixSeconds()) + "-1-5.jsonl");
  EXPECT_EQ(objects.begin()->second, f.FullExport());  // the `decisions export --format jsonl` format
  EXPECT_EQ(ex->stats().watermark, 5);

  ASSERT_TRUE(ex->ExportOnce().ok());  // nothing new: no object
  EXPECT_EQ(f.s3.objects().size(), 1u);

  f.Append(3);
  f.clock.Advance(FromSeconds(300));
  ASSERT_TRUE(ex->ExportOnce().ok());
  objects = f.s3.objects();
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects.rbegin()->first, "/mec-bucket/decisions/host-1/" + AmzDate(f.clock.UnixSeconds()) + "-6-8.jsonl");
  EXPECT_EQ(Lines(objects.rbegin()->second), 3u);
  EXPECT_EQ(f.Stored(), f.FullExport());  // nothing twice, nothing skipped

  // A restart: the watermark file beside the log says where to go on.
  ex.reset();
  f.Append(2);
  f.clock.Advance(FromSeconds(300));
  auto again = f.Exporter();
  ASSERT_TRUE(again->ExportOnce().ok());
  objects = f.s3.objects();
  ASSERT_EQ(objects.size(), 3u);
  EXPECT_EQ(objects.rbegin()->first, "/mec-bucket/decisions/host-1/" + AmzDate(f.clock.UnixSeconds()) + "-9-10.jsonl");
  EXPECT_EQ(f.Stored(), f.FullExport());
  EXPECT_EQ(again->stats().rows, 2);
  EXPECT_EQ(f.s3.rejected(), 0);
}

TEST(DecisionExporter, AWrongSignatureIsRefusedAndRetriedNextTime) {
  Fixture f("badsig");
  f.Append(4);
  f.env.vars["AWS_SECRET_ACCESS_KEY"] = "not the secret";
  auto ex = f.Exporter();
  EXPECT_FALSE(ex->ExportOnce().ok());
  EXPECT_FALSE(ex->ExportOnce().ok());
  EXPECT_EQ(f.s3.rejected(), 2);
  EXPECT_TRUE(f.s3.objects().empty());
  EXPECT_EQ(ex->stats().failures, 2);
  EXPECT_NE(ex->stats().last_error.find("403 SignatureDoesNotMatch"), std::string::npos) << ex->stats().last_error;
  ASSERT_EQ(f.lines.size(), 1u);  // once per streak
  EXPECT_NE(f.lines[0].find("decision export failed"), std::string::npos);

  f.env.vars["AWS_SECRET_ACCESS_KEY"] = f.s3.secret_access_key;
  f.Append(1);
  ASSERT_TRUE(ex->ExportOnce().ok());
  EXPECT_EQ(f.Stored(), f.FullExport());  // the rows of the failed runs too
  ASSERT_EQ(f.lines.size(), 2u);
  EXPECT_NE(f.lines[1].find("works again"), std::string::npos);
  EXPECT_TRUE(ex->stats().last_error.empty());
}

TEST(DecisionExporter, AFailingOrClosedEndpointIsRetriedWithoutLoss) {
  Fixture f("fail");
  f.Append(3);
  f.s3.fail_status = 500;
  auto ex = f.Exporter();
  Status s = ex->ExportOnce();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("HTTP 500 InternalError"), std::string::npos) << s.message();
  f.s3.fail_status = 0;

  // A closed port: a port that was listening a moment ago.
  int closed_port = 0;
  {
    FakeS3Server gone;
    closed_port = gone.port();
  }
  DecisionLogOptions o = f.options;
  o.exports.endpoint = "http://127.0.0.1:" + std::to_string(closed_port);
  auto refused = DecisionExporter::Create(o, "host-1", f.clock, f.env.lookup(), [](const std::string&) {});
  ASSERT_TRUE(refused.ok());
  s = (*refused)->ExportOnce();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("refused"), std::string::npos) << s.message();

  f.Append(2);
  ASSERT_TRUE(ex->ExportOnce().ok());
  EXPECT_EQ(f.s3.objects().size(), 1u);
  EXPECT_EQ(f.Stored(), f.FullExport());
}

TEST(DecisionExporter, CredentialsFromTheContainerEndpoint) {
  Fixture f("container");
  f.s3.session_token = "session-token-from-the-task-role";
  f.s3.auth_token = "Bearer pod-identity";
  f.s3.creds_json = R"({"AccessKeyId":")" + f.s3.access_key_id + R"(","SecretAccessKey":")" + f.s3.secret_access_key +
                    R"(","Token":"session-token-from-the-task-role","Expiration":"2099-01-01T00:00:00Z"})";
  f.env.vars = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", f.s3.url() + "/creds"}, {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer pod-identity"}};
  f.Append(2);
  auto ex = f.Exporter();
  ASSERT_TRUE(ex->ExportOnce().ok()) << ex->stats().last_error;
  f.Append(2);
  ASSERT_TRUE(ex->ExportOnce().ok()) << ex->stats().last_error;
  EXPECT_EQ(f.s3.objects().size(), 2u);
  EXPECT_EQ(f.s3.creds_fetches(), 1);  // cached until 5 minutes before Expiration
  EXPECT_EQ(f.Stored(), f.FullExport());

  // Without the session token the fake refuses: the token was sent, and signed.
  f.s3.session_token = "another";
  f.Append(1);
  EXPECT_FALSE(ex->ExportOnce().ok());
}

TEST(DecisionExporter, RowsDeletedByRetentionBeforeExportAreCountedAndLogged) {
  Fixture f("retention", /*retention_rows=*/3);
  f.Append(5);  // rows 1 and 2 are gone
  auto ex = f.Exporter();
  ASSERT_TRUE(ex->ExportOnce().ok());
  EXPECT_EQ(ex->stats().skipped, 2);
  EXPECT_EQ(ex->stats().rows, 3);
  ASSERT_EQ(f.lines.size(), 1u);
  EXPECT_NE(f.lines[0].find("2 rows (seq 1..2) were deleted by retention"), std::string::npos) << f.lines[0];
  EXPECT_EQ(f.Stored(), f.FullExport());
}

TEST(DecisionExporter, TheThreadExportsEveryIntervalAndOnceMoreAtStop) {
  Fixture f("thread");
  f.options.exports.interval_s = 1;
  f.Append(2);
  auto ex = f.Exporter();
  ex->Start();
  for (int i = 0; i < 60 && f.s3.objects().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(f.s3.objects().size(), 1u);
  f.Append(3);
  f.clock.Advance(FromSeconds(1));
  ex->Stop();  // the last rows go out at shutdown, without waiting for the interval
  EXPECT_EQ(f.Stored(), f.FullExport());
  EXPECT_EQ(ex->stats().watermark, 5);
}

TEST(DecisionExporter, EnvironmentFillsWhatTheFileLeavesOut) {
  FakeEnv env;
  env.vars = {{"MECROUTER_EXPORT_BUCKET", "mecrouter-exports-123"},
              {"MECROUTER_EXPORT_PREFIX", "decisions/"},
              {"MECROUTER_EXPORT_INTERVAL_S", "60"},
              {"AWS_REGION", "eu-west-1"}};
  DecisionExportOptions e;
  ASSERT_TRUE(ApplyExportEnvironment(e, env.lookup()).ok());
  EXPECT_EQ(e.s3, "s3://mecrouter-exports-123/decisions/");
  EXPECT_EQ(e.interval_s, 60);
  EXPECT_EQ(e.region, "eu-west-1");

  DecisionExportOptions file;  // the file wins
  file.s3 = "s3://mine/x";
  file.region = "us-west-2";
  ASSERT_TRUE(ApplyExportEnvironment(file, env.lookup()).ok());
  EXPECT_EQ(file.s3, "s3://mine/x");
  EXPECT_EQ(file.interval_s, 300);
  EXPECT_EQ(file.region, "us-west-2");

  DecisionExportOptions none;
  ASSERT_TRUE(ApplyExportEnvironment(none, FakeEnv{}.lookup()).ok());
  EXPECT_TRUE(none.s3.empty());

  env.vars["MECROUTER_EXPORT_INTERVAL_S"] = "5m";
  DecisionExportOptions bad;
  EXPECT_FALSE(ApplyExportEnvironment(bad, env.lookup()).ok());
}

}  // namespace
}  // namespace mec::aws
