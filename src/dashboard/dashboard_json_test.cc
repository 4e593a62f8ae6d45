#include "dashboard/dashboard_json.h"

#include <simdjson.h>

#include <gtest/gtest.h>

#include "telemetry/request_record.h"

namespace mec {
namespace {

using std::chrono::seconds;

TEST(DashboardJson, HoldsBackendsSeriesPercentilesCostAndDecisions) {
  PriceOptions cloud;
  cloud.input_per_1m = 2.5;
  cloud.output_per_1m = 10;
  EngineOptions vllm;
  vllm.kind = EngineKind::kVllm;
  std::vector<LiveBackend> backends = {{"mec", Tier::kEdge, {}, vllm}, {"api", Tier::kCloud, cloud}};
  ManualClock clock(TimePoint(seconds(100)));
  LiveStatsOptions o;
  o.window_s = 60;
  LiveStats live(o, backends, clock);
  RequestRecord r;
  r.id = "d-1";
  r.policy = "adaptive";
  r.reason = "deadline 760ms rules out \"cloud\"\n";  // quotes and a newline must be escaped
  r.backend = 0;
  r.status = RequestStatus::kOk;
  r.http_status = 200;
  r.ttft_s = 0.25;
  r.latency_s = 0.75;
  r.overhead_s = 0.0002;
  r.input_tokens = 1000;
  r.output_tokens = 100;
  live.OnOutcome(r);
  clock.Advance(seconds(1));

  PoolSnapshot snap;
  snap.backends.resize(2);
  snap.backends[0].index = 0;
  snap.backends[1].index = 1;
  snap.backends[1].health = HealthState::kEjected;
  snap.backends[1].routable = false;
  snap.backends[1].ejected_for_s = 7.5;
  snap.backends[1].ejections = 2;
  snap.backends[1].in_flight = 3;
  snap.backends[1].capacity = 8;

  snap.taken = clock.Now();
  auto reading = std::make_shared<EngineLoad>();
  reading->observed_at = clock.Now() - std::chrono::milliseconds(250);
  reading->waiting = 7;
  reading->running = 4;
  reading->kv_usage = 0.5;
  snap.backends[0].engine = reading;
  const std::string json = DashboardJson(live.View(clock.Now(), 10), snap, backends, R"({"requests":1})");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;

  EXPECT_EQ(doc["window_s"].get_int64().value(), 60);
  EXPECT_EQ(doc["tiers"].get_array().size(), 4u);
  auto b1 = doc["backends"].at(1);
  EXPECT_EQ(std::string_view(b1["name"].get_string().value()), "api");
  EXPECT_EQ(std::string_view(b1["tier"].get_string().value()), "cloud");
  EXPECT_EQ(std::string_view(b1["health"].get_string().value()), "ejected");
  EXPECT_TRUE(b1["ejected"].get_bool().value());
  EXPECT_FALSE(b1["routable"].get_bool().value());
  EXPECT_DOUBLE_EQ(b1["ejected_for_s"].get_double().value(), 7.5);
  EXPECT_EQ(b1["ejections"].get_int64().value(), 2);
  EXPECT_EQ(b1["in_flight"].get_int64().value(), 3);
  EXPECT_TRUE(b1["engine"].is_null());  // no engine declared
  // The edge's vLLM: its last reading, its age, and saturation as routing judges it.
  auto e0 = doc["backends"].at(0)["engine"];
  EXPECT_EQ(std::string_view(e0["kind"].get_string().value()), "vllm");
  EXPECT_DOUBLE_EQ(e0["age_s"].get_double().value(), 0.25);
  EXPECT_DOUBLE_EQ(e0["waiting"].get_double().value(), 7);
  EXPECT_DOUBLE_EQ(e0["kv_usage"].get_double().value(), 0.5);
  EXPECT_TRUE(e0["prefix_hit_rate"].is_null());
  EXPECT_TRUE(e0["saturated"].get_bool().value());
  EXPECT_EQ(std::string_view(e0["saturation"].get_string().value()), "7 waiting > 5");

  auto edge = doc["traffic"]["requests"]["edge"].get_array();
  EXPECT_EQ(edge.size(), 60u);
  EXPECT_EQ(edge.at(59).get_int64().value(), 1);
  EXPECT_EQ(doc["traffic"]["t"].get_array().size(), 60u);
  EXPECT_EQ(doc["latency"]["t"].get_array().size(), 12u);
  // The step with the answer has a p95; a step without one is null.
  EXPECT_DOUBLE_EQ(doc["latency"]["latency_p95_s"]["edge"].at(11).get_double().value(), 0.75);
  EXPECT_TRUE(doc["latency"]["latency_p95_s"]["edge"].at(0).is_null());
  EXPECT_EQ(doc["percentiles"]["edge"]["ttft_s"]["n"].get_int64().value(), 1);
  EXPECT_DOUBLE_EQ(doc["percentiles"]["edge"]["ttft_s"]["p95"].get_double().value(), 0.25);
  EXPECT_TRUE(doc["percentiles"]["cloud"]["latency_s"]["p50"].is_null());
  EXPECT_DOUBLE_EQ(doc["percentiles"]["edge"]["overhead_s"]["p99"].get_double().value(), static_cast<double>(0.0002f));
  EXPECT_TRUE(doc["percentiles"]["cloud"]["overhead_s"]["p50"].is_null());

  EXPECT_EQ(std::string_view(doc["cost"]["cloud_reference"].get_string().value()), "api");
  EXPECT_NEAR(doc["cost"]["total_cloud_only_usd"].get_double().value(), 1000 * 2.5e-6 + 100 * 10e-6, 1e-12);
  EXPECT_EQ(doc["cost"]["usd_per_min"].get_array().size(), 12u);
  EXPECT_EQ(doc["totals"]["edge"]["requests"].get_int64().value(), 1);

  auto d0 = doc["decisions"].at(0);
  EXPECT_EQ(std::string_view(d0["id"].get_string().value()), "d-1");
  EXPECT_EQ(std::string_view(d0["tier"].get_string().value()), "edge");
  EXPECT_EQ(std::string_view(d0["backend"].get_string().value()), "mec");
  EXPECT_EQ(std::string_view(d0["reason"].get_string().value()), "deadline 760ms rules out \"cloud\"\n");
  EXPECT_DOUBLE_EQ(d0["ttft_ms"].get_double().value(), 250);
  EXPECT_DOUBLE_EQ(d0["latency_ms"].get_double().value(), 750);
  EXPECT_EQ(doc["stats"]["requests"].get_int64().value(), 1);
}

TEST(DashboardJson, NoCloudBackendMeansNoCounterfactual) {
  std::vector<LiveBackend> backends = {{"phone", Tier::kDevice, {}}};
  ManualClock clock;
  LiveStats live(LiveStatsOptions{}, backends, clock);
  PoolSnapshot snap;
  const std::string json = DashboardJson(live.View(clock.Now(), 10), snap, backends, "");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_TRUE(doc["cost"]["cloud_reference"].is_null());
  EXPECT_EQ(doc["decisions"].get_array().size(), 0u);
  EXPECT_EQ(doc["stats"].get_object().size(), 0u);
}

TEST(DashboardJson, DecisionsList) {
  DecisionRow d;
  d.id = "x";
  d.tier = kNoTier;
  d.status = "shed";
  const std::string json = DecisionsJson({d});
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(doc["decisions"].at(0)["tier"].get_string().value()), "none");
  EXPECT_TRUE(doc["decisions"].at(0)["ttft_ms"].is_null());
}

}  // namespace
}  // namespace mec
