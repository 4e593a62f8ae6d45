#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <unistd.h>

#include "auth/api_key.h"
#include "auth/key_guard.h"
#include "auth/key_store.h"
#include "auth/limits.h"
#include "auth/redis_limiter.h"
#include "state/test_redis_server.h"

namespace mec {
namespace {

std::string TempDb(const std::string& name) {
  const std::string p = ::testing::TempDir() + "/mec_auth_" + std::to_string(::getpid()) + "_" + name;
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((p + suffix).c_str());
  return p;
}

KeyRecord Named(const std::string& name) {
  KeyRecord r;
  r.name = name;
  return r;
}

TEST(ApiKey, MadeKeyMatchesItsRecordOnlyAndIsNeverStored) {
  const NewKey a = MakeKey(Named("app"));
  const NewKey b = MakeKey(Named("app"));
  EXPECT_NE(a.key, b.key);
  EXPECT_EQ(a.key.size(), 3u + 64u);
  EXPECT_EQ(a.key.substr(0, 3), "mk-");
  ASSERT_TRUE(KeyId(a.key));
  EXPECT_EQ(*KeyId(a.key), a.record.id);
  EXPECT_TRUE(KeyMatches(a.record, a.key));
  EXPECT_FALSE(KeyMatches(a.record, b.key));
  std::string tampered = a.key;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_FALSE(KeyMatches(a.record, tampered));
  // The record holds a hash and a salt, never the key or its secret part.
  EXPECT_EQ(a.record.hash.find(a.key.substr(19)), std::string::npos);
  EXPECT_NE(a.record.hash, b.record.hash);
  EXPECT_NE(a.record.salt, b.record.salt);
}

TEST(ApiKey, MalformedKeysHaveNoId) {
  EXPECT_FALSE(KeyId(""));
  EXPECT_FALSE(KeyId("sk-" + std::string(64, 'a')));
  EXPECT_FALSE(KeyId("mk-" + std::string(63, 'a')));
  EXPECT_FALSE(KeyId("mk-" + std::string(63, 'a') + "G"));
  EXPECT_TRUE(KeyId("mk-" + std::string(64, 'a')));
}

TEST(ApiKey, BearerTokenAndSecretEquals) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bearer  abc  "), "abc");
  EXPECT_EQ(BearerToken("Basic abc"), "");
  EXPECT_EQ(BearerToken("Bearer"), "");
  EXPECT_EQ(BearerToken(""), "");
  EXPECT_TRUE(SecretEquals("token-1", "token-1"));
  EXPECT_FALSE(SecretEquals("token-1", "token-2"));
  EXPECT_FALSE(SecretEquals("token-1", "token-12"));
}

TEST(ApiKey, TierPrivacyPeriodAndExpiryParse) {
  auto t = ParseTierList("device, edge");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(TierListName(*t), "device,edge");
  EXPECT_FALSE(ParseTierList("device,moon").ok());
  EXPECT_FALSE(ParseTierList("").ok());
  EXPECT_EQ(ParsePrivacyName("edge"), Privacy::kEdge);
  EXPECT_FALSE(ParsePrivacyName("public"));
  EXPECT_EQ(ParseBudgetPeriod("1mo"), BudgetPeriod::kMonth);
  EXPECT_FALSE(ParseBudgetPeriod("2d"));
  auto e = ParseExpiry("2027-01-31");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, 1801353600);
  auto f = ParseExpiry("2027-01-31T12:00:00Z");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, 1801353600 + 12 * 3600);
  EXPECT_FALSE(ParseExpiry("31/01/2027").ok());
  EXPECT_FALSE(ParseExpiry("2027-13-01").ok());
}

TEST(BudgetPeriods, AreUtcCalendarPeriods) {
  // 2026-12-06T16:05:00Z is a Sunday.
  const int64_t t = 1796515200000 + (16 * 3600 + 5 * 60) * 1000LL;
  EXPECT_EQ(PeriodAt(BudgetPeriod::kHour, t).start_ms, 1796515200000 + 16 * 3600000LL);
  EXPECT_EQ(PeriodAt(BudgetPeriod::kDay, t).start_ms, 1796515200000);
  EXPECT_EQ(PeriodAt(BudgetPeriod::kDay, t).end_ms, 1796515200000 + 86400000);
  // ISO week: Monday 2026-11-30 to Monday 2026-12-07.
  EXPECT_EQ(PeriodAt(BudgetPeriod::kWeek, t).start_ms, 1796515200000 - 6 * 86400000LL);
  EXPECT_EQ(PeriodAt(BudgetPeriod::kWeek, t).end_ms, 1796515200000 + 86400000LL);
  // December 2026: the 1st to January 1st 2027.
  EXPECT_EQ(PeriodAt(BudgetPeriod::kMonth, t).start_ms, 1796515200000 - 5 * 86400000LL);
  EXPECT_EQ(PeriodAt(BudgetPeriod::kMonth, t).end_ms, 1796515200000 + 26 * 86400000LL);
  EXPECT_EQ(PeriodAt(BudgetPeriod::kNone, t).start_ms, 0);
}

Reservation Res(int64_t tokens, double usd) { return Reservation{tokens, usd}; }

TEST(LocalLimiter, RpmAdmitsExactlyTheLimitInAWindow) {
  KeyRecord k = Named("k");
  k.limits.rpm = 3;
  LocalLimiter l;
  const int64_t t0 = 1796515200000 + 10000;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(l.Reserve(k, k.limits, Res(1, 0), t0 + i, "t").refused, LimitKind::kNone);
  const LimitVerdict v = l.Reserve(k, k.limits, Res(1, 0), t0 + 3, "t");
  EXPECT_EQ(v.refused, LimitKind::kRpm);
  EXPECT_NEAR(v.retry_after_s, 50.0, 0.01);
  EXPECT_EQ(v.state.limit_requests, 3);
  EXPECT_EQ(v.state.remaining_requests, 0);
  // The next minute starts afresh.
  EXPECT_EQ(l.Reserve(k, k.limits, Res(1, 0), t0 + 60000, "t").refused, LimitKind::kNone);
}

TEST(LocalLimiter, TpmCountsTheRequestItselfAndSettlesToWhatWasUsed) {
  KeyRecord k = Named("k");
  k.limits.tpm = 1000;
  LocalLimiter l;
  const int64_t t0 = 1796515200000;
  const LimitVerdict a = l.Reserve(k, k.limits, Res(800, 0), t0, "a");
  ASSERT_EQ(a.refused, LimitKind::kNone);
  EXPECT_EQ(a.state.remaining_tokens, 200);
  EXPECT_EQ(l.Reserve(k, k.limits, Res(300, 0), t0, "b").refused, LimitKind::kTpm);
  l.Settle(k.name, a, Res(800, 0), Res(100, 0));  // it used 100 of the 800 it reserved
  EXPECT_EQ(l.Reserve(k, k.limits, Res(300, 0), t0, "c").refused, LimitKind::kNone);
  EXPECT_EQ(l.Usage(k, t0).tokens_this_minute, 400);
}

TEST(LocalLimiter, ParallelSlotsFreeOnSettle) {
  KeyRecord k = Named("k");
  k.limits.max_parallel = 2;
  LocalLimiter l;
  const LimitVerdict a = l.Reserve(k, k.limits, Res(1, 0), 0, "a");
  EXPECT_EQ(l.Reserve(k, k.limits, Res(1, 0), 0, "b").refused, LimitKind::kNone);
  const LimitVerdict c = l.Reserve(k, k.limits, Res(1, 0), 0, "c");
  EXPECT_EQ(c.refused, LimitKind::kParallel);
  EXPECT_EQ(c.retry_after_s, 1);
  EXPECT_EQ(l.Usage(k, 0).in_flight, 2);
  l.Settle(k.name, a, Res(1, 0), Res(1, 0));
  EXPECT_EQ(l.Reserve(k, k.limits, Res(1, 0), 0, "d").refused, LimitKind::kNone);
}

// The bound the docs promise: spend <= budget + one request's maximum cost, however many
// requests are admitted concurrently (all reserved before any settles).
TEST(LocalLimiter, BudgetIsNeverOverspentByMoreThanOneMaximumCost) {
  KeyRecord k = Named("k");
  k.limits.budget_usd = 1.0;
  k.limits.period = BudgetPeriod::kDay;
  LocalLimiter l;
  const int64_t t0 = 1796515200000 + 3600000;
  std::vector<LimitVerdict> admitted;
  int refused = 0;
  for (int i = 0; i < 200; ++i) {
    LimitVerdict v = l.Reserve(k, k.limits, Res(10, 0.03), t0, std::to_string(i));
    if (v.refused == LimitKind::kNone) admitted.push_back(v);
    else {
      EXPECT_EQ(v.refused, LimitKind::kBudget);
      EXPECT_NEAR(v.retry_after_s, 23 * 3600.0, 1);  // until the day's end
      ++refused;
    }
  }
  EXPECT_EQ(admitted.size(), 34u);  // 33 * 0.03 = 0.99 < 1: the 34th is still admitted
  for (const auto& v : admitted) l.Settle(k.name, v, Res(10, 0.03), Res(10, 0.03));
  EXPECT_LE(l.Usage(k, t0).spend_usd, 1.0 + 0.03 + 1e-9);
  EXPECT_GT(l.Usage(k, t0).spend_usd, 1.0);
  // A new day, a new budget.
  EXPECT_EQ(l.Reserve(k, k.limits, Res(10, 0.03), t0 + 86400000, "x").refused, LimitKind::kNone);
}

TEST(LocalLimiter, ShareOfDividesEveryLimitAndKeepsAtLeastOne) {
  KeyLimits l;
  l.rpm = 60;
  l.tpm = 0;
  l.max_parallel = 2;
  l.budget_usd = 9;
  const KeyLimits s = ShareOf(l, 3);
  EXPECT_EQ(s.rpm, 20);
  EXPECT_EQ(s.tpm, 0);  // no limit stays no limit
  EXPECT_EQ(s.max_parallel, 1);
  EXPECT_DOUBLE_EQ(s.budget_usd, 3);
  EXPECT_EQ(ShareOf(l, 1).rpm, 60);
}

TEST(KeyStore, CreateFindRevokeRotateAndAudit) {
  const std::string path = TempDb("crud.db");
  auto store = KeyStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  KeyRecord base = Named("game-client");
  base.limits.rpm = 60;
  base.limits.budget_usd = 5;
  base.limits.period = BudgetPeriod::kDay;
  base.tiers = 0x3;
  base.models = {"llama3.2:3b"};
  auto k = (*store)->Create(base, "cli:alice", 1000);
  ASSERT_TRUE(k.ok()) << k.status().message();
  EXPECT_FALSE((*store)->Create(base, "cli:alice", 1001).ok());  // names are unique
  EXPECT_FALSE((*store)->Create(Named("bad name"), "cli:alice", 1001).ok());
  auto found = (*store)->Find("game-client");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(KeyMatches(*found, k->key));
  EXPECT_EQ(found->limits.rpm, 60);
  EXPECT_EQ(found->limits.period, BudgetPeriod::kDay);
  EXPECT_EQ(found->tiers, 0x3);
  EXPECT_EQ(found->models, std::vector<std::string>{"llama3.2:3b"});

  auto rotated = (*store)->Rotate("game-client", "admin-api", 2000);
  ASSERT_TRUE(rotated.ok());
  found = (*store)->Find("game-client");
  EXPECT_FALSE(KeyMatches(*found, k->key));
  EXPECT_TRUE(KeyMatches(*found, rotated->key));
  EXPECT_EQ(found->limits.rpm, 60);  // same limits

  ASSERT_TRUE((*store)->Revoke("game-client", "cli:bob", 3000).ok());
  EXPECT_TRUE((*store)->Find("game-client")->revoked);
  EXPECT_FALSE((*store)->Rotate("game-client", "cli:bob", 4000).ok());
  EXPECT_FALSE((*store)->Revoke("nobody", "cli:bob", 4000).ok());

  auto audit = (*store)->Audit(10);
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 3u);
  EXPECT_EQ((*audit)[0].action, "revoke");
  EXPECT_EQ((*audit)[0].who, "cli:bob");
  EXPECT_EQ((*audit)[1].action, "rotate");
  EXPECT_EQ((*audit)[1].who, "admin-api");
  EXPECT_EQ((*audit)[2].action, "create");
  EXPECT_EQ((*audit)[2].who, "cli:alice");
  for (const auto& e : *audit) {
    EXPECT_EQ(e.detail.find(k->key), std::string::npos);
    EXPECT_EQ(e.detail.find(rotated->key), std::string::npos);
  }
}

// A gateway notices what the CLI commits to the same file through data_version.
TEST(KeyStore, AnotherConnectionsChangeMovesDataVersion) {
  const std::string path = TempDb("shared.db");
  auto gateway = KeyStore::Open(path);
  auto cli = KeyStore::Open(path);
  ASSERT_TRUE(gateway.ok() && cli.ok());
  auto v0 = (*gateway)->DataVersion();
  ASSERT_TRUE(v0.ok());
  EXPECT_EQ(*(*gateway)->DataVersion(), *v0);
  ASSERT_TRUE((*cli)->Create(Named("a"), "cli:x", 1).ok());
  EXPECT_NE(*(*gateway)->DataVersion(), *v0);
  EXPECT_TRUE((*gateway)->Find("a").ok());
}

TEST(KeyStore, ApplyKeepsTheNewestRecord) {
  auto store = KeyStore::Open(TempDb("apply.db"));
  ASSERT_TRUE(store.ok());
  auto k = (*store)->Create(Named("a"), "cli:x", 1000);
  ASSERT_TRUE(k.ok());
  KeyRecord older = k->record;
  older.limits.rpm = 5;
  older.updated_ms = 999;
  EXPECT_FALSE(*(*store)->Apply(older, "replica sync"));
  KeyRecord newer = k->record;
  newer.revoked = true;
  newer.updated_ms = 2000;
  EXPECT_TRUE(*(*store)->Apply(newer, "replica sync"));
  EXPECT_TRUE((*store)->Find("a")->revoked);
  EXPECT_EQ((*(*store)->Audit(1))[0].who, "replica sync");
}

TEST(KeyRecordCodec, RoundTripsAndRejectsGarbage) {
  KeyRecord r = MakeKey(Named("fleet.eu-1")).record;
  r.limits = {12.5, BudgetPeriod::kWeek, 60, 100000, 4};
  r.tiers = 0x6;
  r.privacy = Privacy::kEdge;
  r.models = {"a", "b"};
  r.expires_unix = 1801353600;
  r.revoked = true;
  r.created_unix = 1700000000;
  r.updated_ms = 1700000000123;
  auto back = DecodeKeyRecord(EncodeKeyRecord(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->name, r.name);
  EXPECT_EQ(back->id, r.id);
  EXPECT_EQ(back->salt, r.salt);
  EXPECT_EQ(back->hash, r.hash);
  EXPECT_DOUBLE_EQ(back->limits.budget_usd, 12.5);
  EXPECT_EQ(back->limits.period, BudgetPeriod::kWeek);
  EXPECT_EQ(back->limits.rpm, 60);
  EXPECT_EQ(back->limits.tpm, 100000);
  EXPECT_EQ(back->limits.max_parallel, 4);
  EXPECT_EQ(back->tiers, 0x6);
  EXPECT_EQ(back->privacy, Privacy::kEdge);
  EXPECT_EQ(back->models, r.models);
  EXPECT_EQ(back->expires_unix, r.expires_unix);
  EXPECT_TRUE(back->revoked);
  EXPECT_EQ(back->updated_ms, r.updated_ms);
  EXPECT_FALSE(DecodeKeyRecord(""));
  EXPECT_FALSE(DecodeKeyRecord("v2\tx"));
  EXPECT_FALSE(DecodeKeyRecord("v1\tname"));
}

// Waits for a RedisLimiter callback.
template <typename T>
class Waiter {
 public:
  void Set(T v) {
    std::lock_guard lock(mu_);
    value_ = std::move(v);
    done_ = true;
    cv_.notify_all();
  }
  T Get() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(5), [&] { return done_; });
    return value_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  T value_{};
};

StateOptions RedisAt(int port) {
  StateOptions s;
  s.redis_host = "127.0.0.1";
  s.redis_port = port;
  return s;
}

bool WaitUp(const RedisLimiter& l) {
  for (int i = 0; i < 100 && !l.up(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return l.up();
}

// Three replicas, one key, 200 concurrent reservations: the counts are Redis's, so the budget
// bound and the RPM limit hold across replicas exactly.
TEST(RedisLimiter, LimitsHoldAcrossReplicas) {
  testing::TestRedisServer redis;
  ASSERT_TRUE(redis.ready()) << "redis-server did not start (scripts/setup.sh installs it)";
  SystemClock clock;
  AuthOptions auth;
  std::vector<std::unique_ptr<RedisLimiter>> replicas;
  for (int i = 0; i < 3; ++i) {
    replicas.push_back(std::make_unique<RedisLimiter>(RedisAt(redis.port()), auth, "r" + std::to_string(i), clock, nullptr));
    replicas.back()->Start();
  }
  for (auto& r : replicas) ASSERT_TRUE(WaitUp(*r));

  KeyRecord k = Named("shared");
  k.limits.rpm = 60;
  k.limits.budget_usd = 1.0;
  k.limits.period = BudgetPeriod::kDay;
  // All in one minute window: start just after a minute begins if we are near its end.
  int64_t now = clock.UnixMillis();
  if (now % 60000 > 50000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(60000 - now % 60000 + 50));
    now = clock.UnixMillis();
  }
  std::mutex mu;
  std::condition_variable cv;
  int answered = 0, admitted = 0, rpm_refused = 0, unavailable = 0;
  std::vector<LimitVerdict> granted;
  for (int i = 0; i < 200; ++i) {
    replicas[i % 3]->Reserve(k, k.limits, Res(10, 0.03125), now, "t" + std::to_string(i), [&](std::optional<LimitVerdict> v) {
      std::lock_guard lock(mu);
      ++answered;
      if (!v) ++unavailable;
      else if (v->refused == LimitKind::kNone) {
        ++admitted;
        granted.push_back(*v);
      } else if (v->refused == LimitKind::kRpm) ++rpm_refused;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return answered == 200; }));
  }
  EXPECT_EQ(unavailable, 0);
  EXPECT_EQ(admitted, 32);  // 32 * 1/32 = 1: the budget is reached before the RPM limit (exact binary fractions)
  EXPECT_EQ(rpm_refused, 0);
  // Settle half of them at half their reservation, the others at all of it.
  for (size_t i = 0; i < granted.size(); ++i)
    replicas[i % 3]->Settle(k.name, granted[i], Res(10, 0.03125), i % 2 ? Res(5, 0.015625) : Res(10, 0.03125));
  Waiter<std::optional<KeyUsage>> usage;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  replicas[1]->Usage(k, now, [&](std::optional<KeyUsage> u) { usage.Set(u); });
  auto u = usage.Get();
  ASSERT_TRUE(u);
  EXPECT_EQ(u->in_flight, 0);
  EXPECT_NEAR(u->spend_usd, 16 * 0.03125 + 16 * 0.015625, 1e-9);
  EXPECT_EQ(u->requests_this_minute, 32);
  EXPECT_EQ(u->tokens_this_minute, 16 * 10 + 16 * 5);

  // A second key with only an RPM limit: exactly 60 of 200 pass, whichever replica they reach.
  KeyRecord r = Named("rpm-only");
  r.limits.rpm = 60;
  answered = admitted = rpm_refused = 0;
  for (int i = 0; i < 200; ++i) {
    replicas[i % 3]->Reserve(r, r.limits, Res(1, 0), now, "u" + std::to_string(i), [&](std::optional<LimitVerdict> v) {
      std::lock_guard lock(mu);
      ++answered;
      if (v && v->refused == LimitKind::kNone) ++admitted;
      if (v && v->refused == LimitKind::kRpm) {
        ++rpm_refused;
        EXPECT_GT(v->retry_after_s, 0);
        EXPECT_LE(v->retry_after_s, 60);
      }
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return answered == 200; }));
  EXPECT_EQ(admitted, 60);
  EXPECT_EQ(rpm_refused, 140);
}

TEST(RedisLimiter, KeyChangesReachTheOtherReplicasAndTheyCountEachOther) {
  testing::TestRedisServer redis;
  ASSERT_TRUE(redis.ready());
  SystemClock clock;
  AuthOptions auth;
  Waiter<std::vector<KeyRecord>> seen;
  RedisLimiter a(RedisAt(redis.port()), auth, "a", clock, nullptr);
  RedisLimiter b(RedisAt(redis.port()), auth, "b", clock, [&](std::vector<KeyRecord> v) {
    if (!v.empty()) seen.Set(std::move(v));
  });
  a.Start();
  b.Start();
  ASSERT_TRUE(WaitUp(a) && WaitUp(b));
  KeyRecord k = MakeKey(Named("revoked-elsewhere")).record;
  k.revoked = true;
  k.updated_ms = clock.UnixMillis();
  const auto t0 = std::chrono::steady_clock::now();
  a.Publish(k);
  auto got = seen.Get();
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].name, "revoked-elsewhere");
  EXPECT_TRUE(got[0].revoked);
  EXPECT_LT(took, std::chrono::seconds(1));
  for (int i = 0; i < 50 && (a.live_replicas() < 2 || b.live_replicas() < 2); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(a.live_replicas(), 2);
  EXPECT_EQ(b.live_replicas(), 2);
}

// Redis unreachable: a reservation is answered "unavailable" at once, never left hanging.
TEST(RedisLimiter, UnreachableRedisAnswersUnavailableAtOnce) {
  SystemClock clock;
  AuthOptions auth;
  RedisLimiter l(RedisAt(testing::TestRedisServer::FreePort()), auth, "r", clock, nullptr);
  l.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(l.up());
  Waiter<int> w;
  const auto t0 = std::chrono::steady_clock::now();
  l.Reserve(Named("k"), KeyLimits{}, Res(1, 0), clock.UnixMillis(), "t", [&](std::optional<LimitVerdict> v) { w.Set(v ? 1 : 2); });
  EXPECT_EQ(w.Get(), 2);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
  EXPECT_EQ(l.live_replicas(), 1);
}

}  // namespace
}  // namespace mec

namespace mec {
namespace {

TEST(KeyGuard, AuthenticatesItsKeysAndSeesTheClisChanges) {
  const std::string path = TempDb("guard.db");
  auto cli = KeyStore::Open(path);
  ASSERT_TRUE(cli.ok());
  auto before = (*cli)->Create(Named("before"), "cli:x", 1000);
  ASSERT_TRUE(before.ok());
  SystemClock clock;
  AuthOptions auth;
  auth.keys_db = path;
  auth.reload_ms = 20;
  KeyGuard guard(auth, StateOptions{}, clock, "r");
  ASSERT_TRUE(guard.Start().ok());
  auto ok = guard.Authenticate("Bearer " + before->key);
  ASSERT_TRUE(std::holds_alternative<KeyGuard::KeyPtr>(ok)) << std::get<ApiError>(ok).message;
  EXPECT_EQ(std::get<KeyGuard::KeyPtr>(ok)->name, "before");
  // The key with its last character changed (to '1' when it already ends in '0': ~1 run in 60
  // generated such a key, and the "bad" key was then the good one).
  std::string wrong = before->key;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  auto bad = guard.Authenticate("Bearer " + wrong);
  ASSERT_TRUE(std::holds_alternative<ApiError>(bad));
  EXPECT_EQ(std::get<ApiError>(bad).http_status, 401);
  EXPECT_EQ(std::get<ApiError>(bad).message.find(before->key.substr(3)), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<ApiError>(guard.Authenticate("")));
  // A key the CLI makes while the gateway runs, then revokes.
  auto later = (*cli)->Create(Named("later"), "cli:x", 2000);
  ASSERT_TRUE(later.ok());
  bool seen = false;
  for (int i = 0; i < 100 && !seen; ++i) {
    seen = std::holds_alternative<KeyGuard::KeyPtr>(guard.Authenticate("Bearer " + later->key));
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(seen);
  ASSERT_TRUE((*cli)->Revoke("later", "cli:x", 3000).ok());
  bool refused = false;
  for (int i = 0; i < 100 && !refused; ++i) {
    refused = std::holds_alternative<ApiError>(guard.Authenticate("Bearer " + later->key));
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(refused);
  guard.Stop();
}

}  // namespace
}  // namespace mec
