#include "net/fleet_poller.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>

#include "backend/fleet_state.h"
#include "learn/quality_feedback.h"
#include "net/http_server.h"

namespace mec::net {
namespace {

// A fake publisher: one answer at a time; records the Authorization header it got.
struct FakePublisher {
  std::mutex mu;
  int status = 200;              // guarded by mu
  std::string body;              // guarded by mu
  std::string authorization;     // guarded by mu: of the last request
  std::string target;            // guarded by mu
};

class FakePublisherHandler final : public Handler {
 public:
  explicit FakePublisherHandler(FakePublisher& p) : p_(p) {}
  awaitable<void> Handle(HttpRequest& req, ClientChannel& ch) override {
    int status;
    std::string body;
    {
      std::lock_guard lock(p_.mu);
      p_.authorization = std::string(req[http::field::authorization]);
      p_.target = std::string(req.target());
      status = p_.status;
      body = p_.body;
    }
    HttpResponse res = JsonResponse(body, req.version(), req.keep_alive(), static_cast<http::status>(status));
    co_await ch.Send(std::move(res));
  }

 private:
  FakePublisher& p_;
};

std::string SlowEdge() {
  FleetState s;
  s.generated_unix_ms = 1700000000000;
  FleetBackendState b;
  b.name = "edge-mec";
  b.tier = "edge";
  b.ttft = {3.0, 0.3, 12};
  b.tpot = {0.05, 0.3, 12};
  b.rtt = {0.02, 0.5, 3};
  s.backends.push_back(b);
  // Feedback: edge-mec answers chat poorly (10 of 100); the same name on another tier, and a
  // backend not configured here, are not ours.
  s.quality.classes = {{"edge-mec", "edge", "chat", 10, 100}, {"edge-mec", "cloud", "chat", 100, 100}, {"other", "edge", "chat", 1, 1}};
  return FleetStateToJson(s);
}

TEST(FleetPoller, PullsAppliesAndCountsEveryKindOfFailureLoggingOnce) {
  ::setenv("MEC_FLEET_TEST_TOKEN", "tok-123", 1);
  FakePublisher pub;
  ServerOptions so;
  so.listen = "127.0.0.1:0";
  so.threads = 1;
  HttpServer server(so, [&pub](int, asio::io_context&) { return std::make_shared<FakePublisherHandler>(pub); });
  ASSERT_TRUE(server.Listen().ok());
  server.Start();

  BackendOptions edge;
  edge.name = "edge-mec";
  edge.tier = Tier::kEdge;
  edge.url = "http://127.0.0.1:1/v1";
  edge.models = {"m"};
  BackendPool pool({edge});
  SystemClock clock;
  BackendMonitor monitor(pool, clock.Now());
  FleetOptions fo;
  fo.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/v1/fleet/state";
  fo.token_env = "MEC_FLEET_TEST_TOKEN";
  fo.interval_s = 1;
  fo.stale_s = 30;
  asio::io_context ioc;
  QualityFeedback feedback;
  FleetPoller poller(ioc, fo, pool, monitor, clock, &feedback);
  std::vector<std::string> logs;
  poller.set_on_log([&](const std::string& line) { logs.push_back(line); });

  // Each step: what the publisher answers, then one pull.
  const std::vector<std::pair<int, std::string>> steps = {
      {200, SlowEdge()}, {200, "{\"version\":1,"}, {200, "<html>oops</html>"}, {401, R"({"error":{"message":"no"}})"}, {200, SlowEdge()}};
  std::vector<FleetPullResult> got;
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        for (const auto& [status, body] : steps) {
          {
            std::lock_guard lock(pub.mu);
            pub.status = status;
            pub.body = body;
          }
          got.push_back(co_await poller.PullOnce());
        }
      },
      asio::detached);
  ioc.run();
  server.Shutdown(std::chrono::milliseconds(100));

  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0], FleetPullResult::kOk);
  EXPECT_EQ(got[1], FleetPullResult::kMalformed);
  EXPECT_EQ(got[2], FleetPullResult::kMalformed);
  EXPECT_EQ(got[3], FleetPullResult::kRefused);
  EXPECT_EQ(got[4], FleetPullResult::kOk);
  EXPECT_EQ(pub.authorization, "Bearer tok-123");
  EXPECT_EQ(pub.target, "/v1/fleet/state");
  // Two malformed pulls in a row: logged once; then the refusal; then the recovery.
  ASSERT_EQ(logs.size(), 3u);
  EXPECT_NE(logs[0].find("malformed"), std::string::npos) << logs[0];
  EXPECT_NE(logs[1].find("refused"), std::string::npos) << logs[1];
  EXPECT_NE(logs[1].find("HTTP 401"), std::string::npos) << logs[1];
  EXPECT_NE(logs[2].find("pulled again"), std::string::npos) << logs[2];
  const FleetPullStatus st = poller.status();
  EXPECT_EQ(st.pulls[static_cast<int>(FleetPullResult::kOk)], 2u);
  EXPECT_EQ(st.pulls[static_cast<int>(FleetPullResult::kMalformed)], 2u);
  EXPECT_EQ(st.pulls[static_cast<int>(FleetPullResult::kRefused)], 1u);
  EXPECT_EQ(st.matched, 1);
  EXPECT_TRUE(st.last_error.empty());
  // Applied and published: routing reads the fleet's belief.
  const BackendView& v = monitor.Current().backends[0];
  EXPECT_TRUE(v.fleet_prior);
  EXPECT_NEAR(v.ttft.Median(), 3.0, 1e-6);
  const std::string m = poller.MetricsText(clock.Now());
  EXPECT_NE(m.find("mecrouter_fleet_pull_total{result=\"malformed\"} 2"), std::string::npos) << m;
  EXPECT_NE(m.find("mecrouter_fleet_state_fresh 1"), std::string::npos) << m;
  EXPECT_NE(m.find("mecrouter_fleet_state_age_seconds "), std::string::npos) << m;
  EXPECT_NE(poller.Json(clock.Now()).find("\"fresh\":true"), std::string::npos);
  // The publisher's feedback on edge-mec (this tier only), as at most 50 scores (quality_max_weight).
  EXPECT_EQ(st.quality_classes, 1);
  EXPECT_EQ(feedback.num_remote_keys(), 1u);
  EXPECT_NEAR(feedback.Adjusted("edge-mec", "chat", 0.8), (8.0 + 5.0) / (10.0 + 50.0), 1e-12);
  EXPECT_NE(m.find("mecrouter_fleet_quality_classes 1"), std::string::npos) << m;
  EXPECT_NE(poller.Json(clock.Now()).find("\"quality_classes\":1"), std::string::npos);
  // Fresh: kept. Stale (30 s after the last good pull): cleared, back to the prediction.
  poller.ExpireQuality(clock.Now());
  EXPECT_EQ(feedback.num_remote_keys(), 1u);
  poller.ExpireQuality(clock.Now() + std::chrono::seconds(31));
  EXPECT_EQ(feedback.num_remote_keys(), 0u);
  EXPECT_EQ(poller.status().quality_classes, 0);
  EXPECT_NEAR(feedback.Adjusted("edge-mec", "chat", 0.8), 0.8, 1e-12);
}

}  // namespace
}  // namespace mec::net
