#include "net/health_prober.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <future>
#include <thread>

namespace mec::net {
namespace {

using std::chrono::milliseconds;

// A model server with one endpoint per behaviour.
class TestHandler final : public Handler {
 public:
  explicit TestHandler(std::atomic<int>& hits) : hits_(hits) {}
  awaitable<void> Handle(HttpRequest& req, ClientChannel& ch) override {
    hits_.fetch_add(1);
    const std::string target(req.target());
    const bool ka = req.keep_alive();
    if (target == "/v1/slow") {
      asio::steady_timer t(co_await asio::this_coro::executor);
      t.expires_after(milliseconds(1000));
      auto [ec] = co_await t.async_wait(kTuple);
      (void)ec;
    }
    http::status s = http::status::ok;
    if (target == "/v1/fail") s = http::status::service_unavailable;
    if (target == "/v1/private" && req[http::field::authorization] != "Bearer s3cret") s = http::status::unauthorized;
    if (req.method() != http::verb::get) s = http::status::method_not_allowed;
    HttpResponse res = JsonResponse(R"({"object":"list","data":[]})", req.version(), ka, s);
    co_await ch.Send(std::move(res));
  }

 private:
  std::atomic<int>& hits_;
};

BackendOptions Backend(const std::string& name, const std::string& url, const std::string& path) {
  BackendOptions b;
  b.name = name;
  b.tier = Tier::kEdge;
  b.url = url;
  b.models = {"m"};
  b.health_check.path = path;
  b.health_check.interval_ms = 100;
  b.health_check.jitter = 0.1;
  b.health_check.timeout_ms = 250;
  return b;
}

class HealthProberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions so;
    so.listen = "127.0.0.1:0";
    so.threads = 1;
    server_ = std::make_unique<HttpServer>(so, [this](int, asio::io_context&) { return std::make_shared<TestHandler>(hits_); });
    ASSERT_TRUE(server_->Listen().ok());
    server_->Start();
    // A port that refuses: bind one, note it, close it.
    asio::io_context tmp;
    tcp::acceptor a(tmp, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port_ = a.local_endpoint().port();
    a.close();
  }
  void TearDown() override { server_->Shutdown(milliseconds(100)); }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/v1"; }

  std::atomic<int> hits_{0};
  std::unique_ptr<HttpServer> server_;
  int closed_port_ = 0;
  SystemClock clock_;
};

TEST_F(HealthProberTest, ChecksFeedTheMonitor) {
  ::setenv("MEC_HEALTH_PROBER_TEST_KEY", "s3cret", 1);
  std::vector<BackendOptions> opts = {
      Backend("good", Url(), "/models"),
      Backend("failing", Url(), "/fail"),
      Backend("refused", "http://127.0.0.1:" + std::to_string(closed_port_) + "/v1", "/models"),
      Backend("slow", Url(), "/slow"),
      Backend("private", Url(), "/private"),
      Backend("unchecked", "http://127.0.0.1:" + std::to_string(closed_port_) + "/v1", "/models"),
  };
  opts[4].api_key_env = "MEC_HEALTH_PROBER_TEST_KEY";
  opts[5].health_check.enabled = false;
  BackendPool pool(opts);
  BackendMonitor monitor(pool, clock_.Now());
  asio::io_context ioc;
  UpstreamPools pools(ioc, clock_, opts);
  HealthProber prober(ioc, pools, monitor, clock_, 42, milliseconds(20));
  std::atomic<int> results{0};
  prober.set_on_result([&](int, const HealthCheckResult&, bool) { results.fetch_add(1); });
  prober.Start();
  EXPECT_EQ(prober.active(), 6);  // five probe loops and the publisher
  std::thread runner([&] { ioc.run(); });

  // Wait until the good backend has a few passes and the slow one has timed out at least once.
  const uint64_t v0 = monitor.Current().version;
  for (int i = 0; i < 300; ++i) {
    const auto& s = monitor.Current();
    if (s.backends[0].rtt.n >= 3 && s.backends[3].health == HealthState::kUnhealthy &&
        s.backends[4].rtt.n >= 1)
      break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  const PoolSnapshot s = monitor.Current();  // a copy: the prober keeps publishing
  EXPECT_GT(s.version, v0 + 5);              // the publish timer runs
  EXPECT_EQ(s.backends[0].health, HealthState::kHealthy);
  EXPECT_GE(s.backends[0].rtt.n, 2.5);
  EXPECT_LT(s.backends[0].rtt.Median(), 0.02);  // loopback: far below the 20 ms edge prior
  EXPECT_EQ(s.backends[1].health, HealthState::kUnhealthy);
  EXPECT_FALSE(s.backends[1].routable);
  EXPECT_EQ(s.backends[2].health, HealthState::kUnhealthy);
  EXPECT_EQ(s.backends[3].health, HealthState::kUnhealthy);
  EXPECT_EQ(s.backends[4].health, HealthState::kHealthy);  // the credential header was sent
  EXPECT_EQ(s.backends[5].health, HealthState::kHealthy);  // not checked: passing by default
  EXPECT_EQ(s.backends[5].rtt.n, 0);
  EXPECT_GT(results.load(), 5);

  prober.Stop();
  prober.Stop();  // idempotent
  runner.join();  // returns once every coroutine has ended
  EXPECT_EQ(prober.active(), 0);
}

TEST_F(HealthProberTest, CheckOnceReportsStatusAndRtt) {
  std::vector<BackendOptions> opts = {Backend("good", Url(), "/models"), Backend("failing", Url(), "/fail"),
                                      Backend("slow", Url(), "/slow")};
  BackendPool pool(opts);
  BackendMonitor monitor(pool, clock_.Now());
  asio::io_context ioc;
  UpstreamPools pools(ioc, clock_, opts);
  HealthProber prober(ioc, pools, monitor, clock_, 1);
  std::vector<HealthCheckResult> got;
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        for (int b : {0, 0, 0, 1, 2}) {
          HealthCheckResult r = co_await prober.CheckOnce(b);
          got.push_back(std::move(r));
        }
      },
      asio::detached);
  ioc.run();
  ASSERT_EQ(got.size(), 5u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(got[i].ok) << got[i].detail;
    EXPECT_EQ(got[i].status, 200);
    ASSERT_TRUE(got[i].rtt_s.has_value());
    EXPECT_GT(*got[i].rtt_s, 0);
    EXPECT_LT(*got[i].rtt_s, 0.25);
  }
  EXPECT_FALSE(got[3].ok);
  EXPECT_EQ(got[3].status, 503);
  EXPECT_EQ(got[3].detail, "HTTP 503");
  EXPECT_FALSE(got[3].rtt_s.has_value());
  EXPECT_FALSE(got[4].ok);
  EXPECT_EQ(got[4].detail, "no answer within 250 ms");
}

}  // namespace
}  // namespace mec::net
