#include "telemetry/access_log.h"

#include <simdjson.h>

#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "telemetry/test_records.h"

namespace mec {
namespace {

using testing_util::MakeRecord;
using testing_util::TempPath;

TEST(AccessLog, JsonLine) {
  auto r = MakeRecord("dec-1", 1800000000.5);
  r.error = "line\nbreak \"quoted\"";
  const std::string line = FormatAccessLogLine(r, "mec-1", "edge");
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line per request";
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(line).get(doc)) << line;
  EXPECT_EQ(std::string_view(doc["ts"]), "2027-01-15T08:00:00.500Z");
  EXPECT_EQ(std::string_view(doc["id"]), "dec-1");
  EXPECT_EQ(std::string_view(doc["tier"]), "edge");
  EXPECT_EQ(std::string_view(doc["backend"]), "mec-1");
  EXPECT_EQ(std::string_view(doc["status"]), "ok");
  EXPECT_EQ(int64_t(doc["http_status"]), 200);
  EXPECT_DOUBLE_EQ(double(doc["ttft_ms"]), 250);
  EXPECT_DOUBLE_EQ(double(doc["latency_ms"]), 1500);
  EXPECT_EQ(int64_t(doc["output_tokens"]), 90);
  EXPECT_EQ(std::string_view(doc["error"]), "line\nbreak \"quoted\"");
  EXPECT_EQ(std::string_view(doc["use_case"]), "gaming.npc-dialogue");
  EXPECT_EQ(std::string_view(doc["request_id"]), "req-dec-1");
  EXPECT_EQ(std::string_view(doc["trace_id"]), "4bf92f3577b34da6a3ce929d0e0e4736");

  r.ttft_s.reset();
  r.status = RequestStatus::kRejected;
  const std::string none = FormatAccessLogLine(r, "", "");
  ASSERT_FALSE(parser.parse(none).get(doc)) << none;
  EXPECT_EQ(std::string_view(doc["backend"]), "none");
  EXPECT_EQ(std::string_view(doc["status"]), "rejected");
  EXPECT_TRUE(doc["ttft_ms"].error()) << "no TTFT field when none was measured";
}

// Every metric EMF declares has a numeric value at the root, every dimension a string value.
void CheckEmf(const std::string& line, const std::set<std::string>& want_metrics) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(line).get(doc)) << line;
  int64_t ts = 0;
  ASSERT_FALSE(doc["_aws"]["Timestamp"].get_int64().get(ts)) << line;
  EXPECT_EQ(ts, 1800000000500);
  simdjson::dom::object directive = doc["_aws"]["CloudWatchMetrics"].at(0);
  EXPECT_EQ(std::string_view(directive["Namespace"]), "fleet");
  std::set<std::string> metrics;
  for (simdjson::dom::element m : simdjson::dom::array(directive["Metrics"])) {
    const std::string name{std::string_view(m["Name"])};
    metrics.insert(name);
    double v;
    EXPECT_FALSE(doc[name].get_double().get(v)) << name << " has no numeric value: " << line;
  }
  EXPECT_EQ(metrics, want_metrics);
  for (simdjson::dom::element set : simdjson::dom::array(directive["Dimensions"]))
    for (simdjson::dom::element d : simdjson::dom::array(set)) {
      std::string_view v;
      EXPECT_FALSE(doc[std::string_view(d)].get_string().get(v)) << std::string_view(d) << ": " << line;
    }
}

TEST(AccessLog, CloudWatchEmbeddedMetricFormat) {
  auto r = MakeRecord("dec-2", 1800000000.5);
  r.cloud_only_usd = 0.0035;  // what the cloud would have charged for this edge answer
  const std::string line = FormatEmfLine(r, "mec-1", "edge", "fleet");
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  CheckEmf(line, {"Requests", "Failed", "TTFT", "Latency", "InputTokens", "OutputTokens", "CostUSD", "CloudOnlyCostUSD", "Attempts"});
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(line);
  EXPECT_DOUBLE_EQ(double(doc["TTFT"]), 250);
  EXPECT_EQ(int64_t(doc["Failed"]), 0);
  EXPECT_DOUBLE_EQ(double(doc["CostUSD"]), r.cost_usd);
  EXPECT_DOUBLE_EQ(double(doc["CloudOnlyCostUSD"]), r.cloud_only_usd);
  r.ttft_s.reset();
  r.status = RequestStatus::kFailed;
  const std::string failed = FormatEmfLine(r, "", "", "fleet");
  CheckEmf(failed, {"Requests", "Failed", "Latency", "InputTokens", "OutputTokens", "CostUSD", "CloudOnlyCostUSD", "Attempts"});
  doc = parser.parse(failed);
  EXPECT_EQ(int64_t(doc["Failed"]), 1);
  EXPECT_EQ(std::string_view(doc["tier"]), "none");
}

// Learning's spending reaches CloudWatch too (the operator's cost, apart from requests).
TEST(AccessLog, JudgeSpendingInEmbeddedMetricFormat) {
  const std::string line = FormatJudgeSpendEmfLine(0.0125, 1800000000500, "fleet");
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  CheckEmf(line, {"JudgeSpendUSD"});
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(line);
  EXPECT_DOUBLE_EQ(double(doc["JudgeSpendUSD"]), 0.0125);
  EXPECT_EQ(std::string_view(doc["component"]), "learning");
}

TEST(AccessLog, WritesLinesToAFile) {
  const std::string path = TempPath("access.log");
  AccessLogOptions o;
  o.path = path;
  o.emf = true;
  o.emf_namespace = "fleet";
  {
    auto log = AccessLog::Open(o);
    ASSERT_TRUE(log.ok()) << log.status().message();
    (*log)->Write(MakeRecord("a", 1800000000.5), "mec-1", "edge");
    (*log)->Write(MakeRecord("b", 1800000001.5), "api", "cloud");
    (*log)->WriteJudgeSpend(0.5, 1800000002000);
  }
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 5u);  // access line + EMF line per request, one EMF line of judge spending
  EXPECT_NE(lines[0].find("\"id\":\"a\""), std::string::npos);
  EXPECT_NE(lines[1].find("\"_aws\""), std::string::npos);
  EXPECT_NE(lines[2].find("\"id\":\"b\""), std::string::npos);
  EXPECT_NE(lines[4].find("\"JudgeSpendUSD\":0.5"), std::string::npos);
  o.path = "/nonexistent-dir/access.log";
  auto bad = AccessLog::Open(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("/nonexistent-dir/access.log"), std::string::npos);
}

}  // namespace
}  // namespace mec
