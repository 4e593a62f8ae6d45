#include "backend/fleet_state.h"

#include <gtest/gtest.h>

#include "backend/backend_monitor.h"

namespace mec {
namespace {

FleetState Sample() {
  FleetState s;
  s.generated_unix_ms = 1700000000123;
  s.snapshot_version = 42;
  FleetBackendState b;
  b.name = "edge-mec";
  b.tier = "edge";
  b.health = HealthState::kEjected;
  b.routable = false;
  b.ejected_for_s = 12.5;
  b.error_rate = 0.25;
  b.ttft = {2.5, 0.4, 7.25};
  b.tpot = {0.02, 0.3, 6};
  b.rtt = {0.012, 0.5, 0};
  s.backends.push_back(b);
  b.name = "cloud-api";
  b.tier = "cloud";
  b.health = HealthState::kHalfOpen;
  b.routable = true;
  b.ejected_for_s = 0;
  s.backends.push_back(b);
  s.quality = {"logistic-v3+adapted", 2};
  s.quality.classes.push_back({"edge-mec", "edge", "gaming.npc-dialogue", 31.5, 40});
  s.quality.classes.push_back({"cloud-api", "cloud", "chat", 3, 3});
  return s;
}

TEST(FleetState, RoundTripsExactly) {
  const FleetState s = Sample();
  const std::string json = FleetStateToJson(s);
  auto back = ParseFleetState(json);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->version, 1);
  EXPECT_EQ(back->generated_unix_ms, s.generated_unix_ms);
  EXPECT_EQ(back->snapshot_version, 42u);
  ASSERT_EQ(back->backends.size(), 2u);
  const FleetBackendState& e = back->backends[0];
  EXPECT_EQ(e.name, "edge-mec");
  EXPECT_EQ(e.tier, "edge");
  EXPECT_EQ(e.health, HealthState::kEjected);
  EXPECT_FALSE(e.routable);
  EXPECT_EQ(e.ejected_for_s, 12.5);
  EXPECT_EQ(e.error_rate, 0.25);
  EXPECT_EQ(e.ttft.median_s, 2.5);
  EXPECT_EQ(e.ttft.sigma, 0.4);
  EXPECT_EQ(e.ttft.weight, 7.25);
  EXPECT_EQ(e.tpot.median_s, 0.02);
  EXPECT_EQ(e.rtt.weight, 0);
  EXPECT_EQ(back->backends[1].health, HealthState::kHalfOpen);
  EXPECT_EQ(back->quality.complexity_model, "logistic-v3+adapted");
  EXPECT_EQ(back->quality.model_swaps, 2);
  ASSERT_EQ(back->quality.classes.size(), 2u);
  EXPECT_EQ(back->quality.classes[0].backend, "edge-mec");
  EXPECT_EQ(back->quality.classes[0].tier, "edge");
  EXPECT_EQ(back->quality.classes[0].task_class, "gaming.npc-dialogue");
  EXPECT_EQ(back->quality.classes[0].score, 31.5);
  EXPECT_EQ(back->quality.classes[0].n, 40);
  EXPECT_EQ(FleetStateToJson(*back), json);  // byte for byte
  EXPECT_NE(json.find("\"ejected_until_unix_ms\":1700000012623"), std::string::npos) << json;
}

TEST(FleetState, FromSnapshotNamesEveryBackend) {
  BackendOptions edge;
  edge.name = "edge-1";
  edge.tier = Tier::kEdge;
  edge.url = "http://127.0.0.1:1/v1";
  edge.models = {"m"};
  BackendOptions cloud = edge;
  cloud.name = "cloud-1";
  cloud.tier = Tier::kCloud;
  cloud.expect.ttft_ms = 450;
  BackendPool pool({edge, cloud});
  BackendMonitor monitor(pool, TimePoint{});
  const FleetState s = FleetStateFromSnapshot(monitor.Current(), pool, 1700000000000);
  ASSERT_EQ(s.backends.size(), 2u);
  EXPECT_EQ(s.backends[1].name, "cloud-1");
  EXPECT_EQ(s.backends[1].tier, "cloud");
  EXPECT_NEAR(s.backends[1].ttft.median_s, 0.45, 1e-9);
  EXPECT_EQ(s.backends[1].ttft.weight, 0);  // nothing observed: the publisher knows only its config
  EXPECT_EQ(s.backends[0].health, HealthState::kHealthy);
  EXPECT_TRUE(ParseFleetState(FleetStateToJson(s)).ok());
}

TEST(FleetState, MalformedInputIsRefusedAsAValue) {
  const std::string good = FleetStateToJson(Sample());
  auto refused = [](const std::string& json, const std::string& needle) {
    auto r = ParseFleetState(json);
    ASSERT_FALSE(r.ok()) << json;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  };
  refused("", "not JSON");
  refused("<html>502 Bad Gateway</html>", "not JSON");
  refused(good.substr(0, good.size() / 2), "not JSON");
  refused("[1,2]", "expected a JSON object");
  refused("{\"backends\":[]}", "version is missing");
  refused("{\"version\":2,\"generated_unix_ms\":1,\"backends\":[]}", "version 2 is not supported");
  refused("{\"version\":1,\"backends\":[]}", "generated_unix_ms is missing");
  refused("{\"version\":1,\"generated_unix_ms\":1,\"backends\":{}}", "backends is missing or not an array");
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  refused(replaced("\"median_s\":2.5", "\"median_s\":-1"), "backends[0].ttft.median_s is out of range");
  refused(replaced("\"median_s\":2.5", "\"median_s\":\"slow\""), "backends[0].ttft.median_s is not a number");
  refused(replaced("\"health\":\"ejected\"", "\"health\":\"sulking\""), "health 'sulking' is unknown");
  refused(replaced("\"name\":\"edge-mec\"", "\"name\":\"\""), "backends[0].name is missing or empty");
  refused(replaced("\"error_rate\":0.25", "\"error_rate\":3"), "backends[0].error_rate is out of range");
  refused(replaced("\"tpot\":{", "\"tpot_\":{"), "backends[0].tpot is missing");
  refused(replaced("\"score\":31.5", "\"score\":41"), "quality.classes[0].score is out of range");
  refused(replaced("\"n\":40", "\"n\":0"), "quality.classes[0].n is out of range");
  refused(replaced("\"task_class\":\"chat\"", "\"task_klass\":\"chat\""), "quality.classes[1].task_class is missing");
  refused(replaced("\"backend\":\"edge-mec\"", "\"backend\":\"\""), "quality.classes[0].backend is missing or empty");
  // Unknown fields are ignored; quality (and its classes) is optional.
  EXPECT_TRUE(ParseFleetState(replaced(",\"classes\":[", ",\"classes_\":[")).ok());
  EXPECT_TRUE(ParseFleetState(replaced("\"version\":1,", "\"version\":1,\"future\":{\"x\":[1]},")).ok());
  EXPECT_TRUE(ParseFleetState("{\"version\":1,\"generated_unix_ms\":5,\"backends\":[]}").ok());
}

}  // namespace
}  // namespace mec
