#include "net/engine_poller.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

namespace mec::net {
namespace {

using std::chrono::milliseconds;

// A fake engine: fixed answers per path, changeable between polls; counts the GETs per path.
struct FakeEngine {
  struct Answer {
    int status = 200;
    std::string body;
    int delay_ms = 0;
  };
  std::mutex mu;
  std::map<std::string, Answer> answers;  // guarded by mu
  std::map<std::string, int> hits;        // guarded by mu

  void Set(const std::string& path, int status, std::string body, int delay_ms = 0) {
    std::lock_guard lock(mu);
    answers[path] = Answer{status, std::move(body), delay_ms};
  }
  int Hits(const std::string& path) {
    std::lock_guard lock(mu);
    return hits[path];
  }
};

class FakeEngineHandler final : public Handler {
 public:
  explicit FakeEngineHandler(FakeEngine& e) : e_(e) {}
  awaitable<void> Handle(HttpRequest& req, ClientChannel& ch) override {
    const std::string target(req.target());
    FakeEngine::Answer a{404, R"({"detail":"Not Found"})", 0};
    {
      std::lock_guard lock(e_.mu);
      ++e_.hits[target];
      if (auto it = e_.answers.find(target); it != e_.answers.end()) a = it->second;
    }
    if (a.delay_ms > 0) {
      asio::steady_timer t(co_await asio::this_coro::executor);
      t.expires_after(milliseconds(a.delay_ms));
      auto [ec] = co_await t.async_wait(kTuple);
      (void)ec;
    }
    HttpResponse res = JsonResponse(a.body, req.version(), req.keep_alive(), static_cast<http::status>(a.status));
    co_await ch.Send(std::move(res));
  }

 private:
  FakeEngine& e_;
};

std::string VllmText(int waiting, int running, double kv, double queries, double hits) {
  return "# HELP vllm:num_requests_running Number of requests in model execution batches.\n"
         "# TYPE vllm:num_requests_running gauge\n"
         "vllm:num_requests_running{engine=\"0\",model_name=\"m\"} " + std::to_string(running) + ".0\n"
         "# TYPE vllm:num_requests_waiting gauge\n"
         "vllm:num_requests_waiting{engine=\"0\",model_name=\"m\"} " + std::to_string(waiting) + ".0\n"
         "# TYPE vllm:kv_cache_usage_perc gauge\n"
         "vllm:kv_cache_usage_perc{engine=\"0\",model_name=\"m\"} " + std::to_string(kv) + "\n"
         "# TYPE vllm:prefix_cache_queries_total counter\n"
         "vllm:prefix_cache_queries_total{engine=\"0\",model_name=\"m\"} " + std::to_string(queries) + "\n"
         "# TYPE vllm:prefix_cache_hits_total counter\n"
         "vllm:prefix_cache_hits_total{engine=\"0\",model_name=\"m\"} " + std::to_string(hits) + "\n";
}

class EnginePollerTest : public ::testing::Test {
 protected:
  // Starts one fake engine server; returns its index.
  int AddEngine() {
    engines_.push_back(std::make_unique<FakeEngine>());
    ServerOptions so;
    so.listen = "127.0.0.1:0";
    so.threads = 1;
    FakeEngine* e = engines_.back().get();
    servers_.push_back(std::make_unique<HttpServer>(so, [e](int, asio::io_context&) { return std::make_shared<FakeEngineHandler>(*e); }));
    EXPECT_TRUE(servers_.back()->Listen().ok());
    servers_.back()->Start();
    return static_cast<int>(engines_.size()) - 1;
  }
  void TearDown() override {
    for (auto& s : servers_) s->Shutdown(milliseconds(100));
  }
  std::string Url(int e) const { return "http://127.0.0.1:" + std::to_string(servers_[e]->port()) + "/v1"; }
  static BackendOptions Backend(const std::string& name, const std::string& url, EngineKind kind, int64_t poll_ms = 100) {
    BackendOptions b;
    b.name = name;
    b.tier = Tier::kEdge;
    b.url = url;
    b.models = {"m"};
    b.engine.kind = kind;
    b.engine.poll_ms = poll_ms;
    return b;
  }
  // Runs PollOnce for each backend index in `order`, in turn, on a fresh io_context.
  std::vector<Result<EngineLoad>> PollInTurn(const std::vector<BackendOptions>& opts, const std::vector<int>& order,
                                             const std::function<void(int)>& between = nullptr) {
    asio::io_context ioc;
    UpstreamPools pools(ioc, clock_, opts);
    EngineLoadBoard board(opts.size());
    EnginePoller poller(ioc, pools, board, clock_);
    std::vector<Result<EngineLoad>> got;
    asio::co_spawn(
        ioc,
        [&]() -> awaitable<void> {
          for (size_t i = 0; i < order.size(); ++i) {
            if (between) between(static_cast<int>(i));
            Result<EngineLoad> r = co_await poller.PollOnce(order[i]);
            got.push_back(std::move(r));
          }
        },
        asio::detached);
    ioc.run();
    return got;
  }

  std::vector<std::unique_ptr<FakeEngine>> engines_;
  std::vector<std::unique_ptr<HttpServer>> servers_;
  SystemClock clock_;
};

TEST_F(EnginePollerTest, VllmMetricsAtTheUrlsOrigin) {
  const int e = AddEngine();
  engines_[e]->Set("/metrics", 200, VllmText(3, 8, 0.42, 1000, 100));
  const auto got = PollInTurn({Backend("edge", Url(e), EngineKind::kVllm)}, {0, 0}, [&](int i) {
    if (i == 1) engines_[e]->Set("/metrics", 200, VllmText(0, 2, 0.5, 1400, 300));
  });
  ASSERT_EQ(got.size(), 2u);
  ASSERT_TRUE(got[0].ok()) << got[0].status().message();
  EXPECT_EQ(got[0]->waiting, 3);
  EXPECT_EQ(got[0]->running, 8);
  EXPECT_DOUBLE_EQ(*got[0]->kv_usage, 0.42);
  EXPECT_FALSE(got[0]->prefix_hit_rate.has_value());
  EXPECT_GT(got[0]->observed_at.time_since_epoch().count(), 0);
  ASSERT_TRUE(got[1].ok()) << got[1].status().message();
  EXPECT_DOUBLE_EQ(*got[1]->prefix_hit_rate, 0.5);  // 200 hits of 400 queries between the polls
  EXPECT_EQ(engines_[e]->Hits("/metrics"), 2);
  EXPECT_EQ(engines_[e]->Hits("/v1/metrics"), 0);
}

TEST_F(EnginePollerTest, LlamaCppHealthSlotsAndMetricsOffFor501) {
  const int e = AddEngine();
  engines_[e]->Set("/health", 200, R"({"status": "ok"})");
  engines_[e]->Set("/slots", 200, R"([{"id": 0, "is_processing": true}, {"id": 1, "is_processing": false}])");
  engines_[e]->Set("/metrics", 501, R"({"error": {"code": 501, "message": "This server does not support metrics endpoint. Start it with `--metrics`", "type": "not_supported_error"}})");
  const auto got = PollInTurn({Backend("phone", Url(e), EngineKind::kLlamaCpp)}, {0, 0});
  for (const auto& r : got) {
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_FALSE(r->loading);
    EXPECT_EQ(r->total_slots, 2);
    EXPECT_EQ(r->busy_slots, 1);
    EXPECT_EQ(r->running, 1);
    EXPECT_FALSE(r->waiting.has_value());
  }
  EXPECT_EQ(engines_[e]->Hits("/metrics"), 1);  // 501 once: not asked again
  EXPECT_EQ(engines_[e]->Hits("/props"), 0);
}

TEST_F(EnginePollerTest, LlamaCppLoadingAndNoSlots) {
  const int e = AddEngine();
  engines_[e]->Set("/health", 503, R"({"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}})");
  engines_[e]->Set("/slots", 501, R"({"error": {"code": 501, "message": "This server does not support slots endpoint.", "type": "not_supported_error"}})");
  engines_[e]->Set("/props", 200, R"({"total_slots": 4, "model_path": "m.gguf"})");
  engines_[e]->Set("/metrics", 200, "llamacpp:requests_processing 3\nllamacpp:requests_deferred 7\n");
  const auto got = PollInTurn({Backend("phone", Url(e), EngineKind::kLlamaCpp)}, {0, 0, 0}, [&](int i) {
    if (i == 1) engines_[e]->Set("/health", 200, R"({"status": "ok"})");
  });
  ASSERT_EQ(got.size(), 3u);
  ASSERT_TRUE(got[0].ok()) << got[0].status().message();
  EXPECT_TRUE(got[0]->loading);
  for (int i : {1, 2}) {
    ASSERT_TRUE(got[i].ok()) << got[i].status().message();
    EXPECT_FALSE(got[i]->loading);
    EXPECT_EQ(got[i]->total_slots, 4);
    EXPECT_EQ(got[i]->busy_slots, 3);
    EXPECT_EQ(got[i]->waiting, 7);
  }
  EXPECT_EQ(engines_[e]->Hits("/slots"), 1);
  EXPECT_EQ(engines_[e]->Hits("/props"), 1);
}

TEST_F(EnginePollerTest, OllamaLoadedModels) {
  const int e = AddEngine();
  engines_[e]->Set("/api/ps", 200, R"({"models": [{"name": "llama3.2:1b", "model": "llama3.2:1b", "size_vram": 1000, "expires_at": "2024-06-04T14:38:31.83753-07:00"}]})");
  const auto got = PollInTurn({Backend("phone", Url(e), EngineKind::kOllama)}, {0});
  ASSERT_TRUE(got[0].ok()) << got[0].status().message();
  EXPECT_EQ(got[0]->loaded_models, std::vector<std::string>{"llama3.2:1b"});
}

TEST_F(EnginePollerTest, BrokenEndpointsAreErrorsNotCrashes) {
  const int e = AddEngine();
  engines_[e]->Set("/metrics", 200, "<html>this is not it</html>");
  engines_[e]->Set("/api/ps", 200, R"({"models": [{"name": "m")");  // truncated
  const int slow = AddEngine();
  engines_[slow]->Set("/metrics", 200, VllmText(0, 0, 0, 0, 0), 400);
  asio::io_context tmp;
  tcp::acceptor a(tmp, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const int closed_port = a.local_endpoint().port();
  a.close();
  const std::vector<BackendOptions> opts = {
      Backend("garbage", Url(e), EngineKind::kVllm), Backend("truncated", Url(e), EngineKind::kOllama),
      Backend("slow", Url(slow), EngineKind::kVllm, 100),
      Backend("refused", "http://127.0.0.1:" + std::to_string(closed_port) + "/v1", EngineKind::kVllm),
      Backend("not-found", Url(e), EngineKind::kLlamaCpp)};
  const auto got = PollInTurn(opts, {0, 1, 2, 3, 4});
  ASSERT_EQ(got.size(), 5u);
  for (const auto& r : got) EXPECT_FALSE(r.ok());
  EXPECT_NE(got[0].status().message().find("vLLM /metrics: line 1"), std::string::npos) << got[0].status().message();
  EXPECT_NE(got[1].status().message().find("Ollama /api/ps: not JSON"), std::string::npos) << got[1].status().message();
  EXPECT_NE(got[2].status().message().find("no answer within 50 ms"), std::string::npos) << got[2].status().message();
  EXPECT_NE(got[3].status().message().find("GET /metrics: connect"), std::string::npos) << got[3].status().message();
  EXPECT_NE(got[4].status().message().find("llama.cpp /health"), std::string::npos) << got[4].status().message();
}

TEST_F(EnginePollerTest, LoopStoresReadingsAndLogsFailuresOnce) {
  const int e = AddEngine();
  engines_[e]->Set("/metrics", 200, VllmText(1, 2, 0.3, 10, 5));
  const int broken = AddEngine();
  engines_[broken]->Set("/metrics", 500, "oops");
  const std::vector<BackendOptions> opts = {Backend("good", Url(e), EngineKind::kVllm, 50),
                                            Backend("broken", Url(broken), EngineKind::kVllm, 50),
                                            Backend("cloud", Url(e), EngineKind::kOpenAI)};
  asio::io_context ioc;
  UpstreamPools pools(ioc, clock_, opts);
  EngineLoadBoard board(opts.size());
  EnginePoller poller(ioc, pools, board, clock_);
  std::mutex mu;
  std::vector<std::pair<int, std::string>> logs;
  poller.set_on_log([&](int b, bool ok, const std::string& m) {
    std::lock_guard lock(mu);
    logs.emplace_back(b, (ok ? "ok: " : "failing: ") + m);
  });
  poller.Start();
  EXPECT_EQ(poller.active(), 2);  // the openai backend is not polled
  std::thread runner([&] { ioc.run(); });
  for (int i = 0; i < 1000 && (engines_[broken]->Hits("/metrics") < 5 || engines_[e]->Hits("/metrics") < 5); ++i)
    std::this_thread::sleep_for(milliseconds(10));
  auto good = board.Latest(0);
  EXPECT_TRUE(good);  // no ASSERT while `runner` is joinable: it would terminate the process
  if (good) EXPECT_EQ(good->running, 2);
  EXPECT_FALSE(board.Latest(1));
  EXPECT_FALSE(board.Latest(2));
  {
    // The broken engine's five failed polls make one line. (On a loaded machine the good one may
    // miss a 50 ms poll and log a failure and a recovery of its own: not counted here.)
    std::lock_guard lock(mu);
    std::vector<std::string> broken_logs;
    for (const auto& [b, m] : logs)
      if (b == 1) broken_logs.push_back(m);
    EXPECT_EQ(broken_logs.size(), 1u);
    if (!broken_logs.empty())
      EXPECT_NE(broken_logs[0].find("failing: GET /metrics: HTTP 500: oops"), std::string::npos) << broken_logs[0];
  }
  engines_[broken]->Set("/metrics", 200, VllmText(0, 0, 0, 0, 0));
  for (int i = 0; i < 1000 && !board.Latest(1); ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_TRUE(board.Latest(1));
  poller.Stop();
  poller.Stop();  // idempotent
  runner.join();
  EXPECT_EQ(poller.active(), 0);
  std::lock_guard lock(mu);
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[1].second, "ok: engine polls succeed again");
}

TEST(EnginePollTimeout, HalfTheIntervalAtMostOneSecond) {
  EXPECT_EQ(EnginePoller::PollTimeout(50), milliseconds(25));
  EXPECT_EQ(EnginePoller::PollTimeout(100), milliseconds(50));
  EXPECT_EQ(EnginePoller::PollTimeout(5000), milliseconds(1000));
}

}  // namespace
}  // namespace mec::net
