// What an API key costs a request (issue 18, docs/security.md): the target is <= 2 us of CPU on the
// I/O thread per request with a key and local limits. BM_KeyAdmission is that whole path:
// Authenticate (table lookup + one salted SHA-256 + constant-time compare), ReserveLocal (rpm, tpm,
// parallel and a budget checked and charged) and Settle. BM_Authenticate is the first part alone.
// BM_RedisReserve is the shared-limits round trip to a real redis-server (wall time; the I/O thread
// does not wait on it, it is suspended), reported apart; skipped when redis-server is missing.

#include <benchmark/benchmark.h>

#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>

#include "auth/key_guard.h"
#include "state/test_redis_server.h"

namespace mec {
namespace {

struct Fixture {
  Fixture() {
    path = "/tmp/mec_auth_bench_" + std::to_string(getpid()) + ".db";
    for (const char* s : {"", "-wal", "-shm"}) std::remove((path + s).c_str());
    AuthOptions auth;
    auth.keys_db = path;
    guard = std::make_unique<KeyGuard>(auth, StateOptions{}, clock, "bench");
    if (!guard->Start().ok()) std::abort();
    for (int i = 0; i < 100; ++i) {
      KeyRecord base;
      base.name = "app-" + std::to_string(i);
      base.limits.rpm = 1000000000;
      base.limits.tpm = 1000000000000;
      base.limits.max_parallel = 1000;
      base.limits.budget_usd = 1e9;
      base.limits.period = BudgetPeriod::kMonth;
      auto k = guard->Create(base, "bench");
      if (!k.ok()) std::abort();
      if (i == 42) header = "Bearer " + k->key;
    }
  }
  ~Fixture() {
    guard->Stop();
    for (const char* s : {"", "-wal", "-shm"}) std::remove((path + s).c_str());
  }
  SystemClock clock;
  std::string path, header;
  std::unique_ptr<KeyGuard> guard;
};

Fixture& F() {
  static Fixture* f = new Fixture();
  return *f;
}

void BM_Authenticate(benchmark::State& state) {
  Fixture& f = F();
  for (auto _ : state) {
    auto k = f.guard->Authenticate(f.header);
    benchmark::DoNotOptimize(k);
  }
}
BENCHMARK(BM_Authenticate);

void BM_KeyAdmission(benchmark::State& state) {
  Fixture& f = F();
  const Reservation reserve{600, 0.004}, used{420, 0.0025};
  for (auto _ : state) {
    auto k = f.guard->Authenticate(f.header);
    const KeyGuard::KeyPtr& key = std::get<KeyGuard::KeyPtr>(k);
    LimitVerdict v = f.guard->ReserveLocal(*key, reserve, "dec-0123456789abcdef", false);
    f.guard->Settle(*key, KeyGuard::Where::kLocal, v, reserve, used);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_KeyAdmission);

void BM_RedisReserve(benchmark::State& state) {
  auto redis = std::make_unique<testing::TestRedisServer>();  // stopped when the run ends
  if (!redis->ready()) {
    state.SkipWithError("redis-server not available");
    return;
  }
  SystemClock clock;
  StateOptions s;
  s.redis_host = "127.0.0.1";
  s.redis_port = redis->port();
  RedisLimiter limiter(s, AuthOptions{}, "bench", clock, nullptr);
  limiter.Start();
  for (int i = 0; i < 100 && !limiter.up(); ++i) usleep(20000);
  KeyRecord k;
  k.name = "bench";
  k.limits.rpm = 1000000000;
  k.limits.budget_usd = 1e9;
  k.limits.period = BudgetPeriod::kDay;
  std::mutex mu;
  std::condition_variable cv;
  int64_t n = 0;
  for (auto _ : state) {
    bool done = false;
    std::optional<LimitVerdict> got;
    limiter.Reserve(k, k.limits, Reservation{600, 0.004}, clock.UnixMillis(), "t" + std::to_string(n++),
                    [&](std::optional<LimitVerdict> v) {
                      std::lock_guard lock(mu);
                      got = std::move(v);
                      done = true;
                      cv.notify_one();
                    });
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return done; });
    }
    if (got) limiter.Settle(k.name, *got, Reservation{600, 0.004}, Reservation{420, 0.0025});
  }
  limiter.Stop();
}
BENCHMARK(BM_RedisReserve)->UseRealTime();

}  // namespace
}  // namespace mec
