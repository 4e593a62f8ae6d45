#include <gtest/gtest.h>

#include "gateway/failover_machine.h"

namespace mec {
namespace {

const std::vector<std::string> kNames = {"device-1", "edge-1", "cloud-1"};

TEST(FailoverMachine, FailsOverAlongTheChain) {
  ManualClock clock;
  FailoverMachine ex({1, 2, 0}, 3, std::nullopt, kNames);
  auto a = ex.Start(clock.Now());
  ASSERT_EQ(a.type, FailoverAction::kStartAttempt);
  EXPECT_EQ(a.backend, 1);
  a = ex.OnFailure(clock.Now(), {AttemptResult::kConnect, 0, 0, "connection refused"});
  ASSERT_EQ(a.type, FailoverAction::kStartAttempt);
  EXPECT_EQ(a.backend, 2);
  a = ex.OnFailure(clock.Now(), {AttemptResult::kServerError, 500, 0, "HTTP 500"});
  EXPECT_EQ(a.backend, 0);
  a = ex.OnFailure(clock.Now(), {AttemptResult::kTimeout, 0, 0, ""});
  ASSERT_EQ(a.type, FailoverAction::kGiveUp);
  EXPECT_EQ(a.error.http_status, 503);
  EXPECT_NE(a.error.message.find("edge-1: connection refused"), std::string::npos);
  EXPECT_NE(a.error.message.find("device-1: timeout"), std::string::npos);
  EXPECT_EQ(ex.attempt_count(), 3);
}

TEST(FailoverMachine, BoundsAttempts) {
  ManualClock clock;
  FailoverMachine ex({0, 1, 2}, 2, std::nullopt, kNames);
  ex.Start(clock.Now());
  EXPECT_EQ(ex.OnFailure(clock.Now(), {AttemptResult::kReset}).type, FailoverAction::kStartAttempt);
  EXPECT_EQ(ex.OnFailure(clock.Now(), {AttemptResult::kReset}).type, FailoverAction::kGiveUp);
}

TEST(FailoverMachine, NeverRetriesAfterFirstByte) {
  ManualClock clock;
  FailoverMachine ex({0, 1}, 3, std::nullopt, kNames);
  ex.Start(clock.Now());
  ex.OnFirstByte();
  EXPECT_EQ(ex.OnFailure(clock.Now(), {AttemptResult::kReset}).type, FailoverAction::kGiveUp);
  EXPECT_EQ(ex.attempt_count(), 1);
}

TEST(FailoverMachine, DeadlineStopsFailover) {
  ManualClock clock;
  FailoverMachine ex({0, 1}, 3, clock.Now() + FromMillis(100), kNames);
  ex.Start(clock.Now());
  clock.Advance(FromMillis(150));
  auto a = ex.OnFailure(clock.Now(), {AttemptResult::kTimeout});
  ASSERT_EQ(a.type, FailoverAction::kGiveUp);
  EXPECT_EQ(a.error.http_status, 504);
}

TEST(FailoverMachine, AllRateLimitedGives429WithRetryAfter) {
  ManualClock clock;
  FailoverMachine ex({0, 1}, 3, std::nullopt, kNames);
  ex.Start(clock.Now());
  ex.OnFailure(clock.Now(), {AttemptResult::kRateLimited, 429, 2.5, "HTTP 429"});
  auto a = ex.OnFailure(clock.Now(), {AttemptResult::kRateLimited, 429, 7, "HTTP 429"});
  ASSERT_EQ(a.type, FailoverAction::kGiveUp);
  EXPECT_EQ(a.error.http_status, 429);
  EXPECT_EQ(a.retry_after_s, 3);
}

TEST(FailoverMachine, SkippedBackendsDoNotUseUpAttempts) {
  ManualClock clock;
  FailoverMachine ex({0, 1, 2}, 2, std::nullopt, kNames);
  EXPECT_EQ(ex.Start(clock.Now()).backend, 0);
  auto a = ex.OnSkipped(clock.Now(), "ejected");
  EXPECT_EQ(a.backend, 1);
  EXPECT_EQ(ex.attempt_count(), 1);
  a = ex.OnFailure(clock.Now(), {AttemptResult::kConnect});
  EXPECT_EQ(a.backend, 2);
  a = ex.OnSkipped(clock.Now(), "ejected");
  ASSERT_EQ(a.type, FailoverAction::kGiveUp);
  EXPECT_NE(a.error.message.find("device-1: ejected"), std::string::npos) << a.error.message;
}

TEST(FailoverMachine, HedgeStartsTheFallbackBesideASlowPrimaryAndTheFirstByteWins) {
  ManualClock clock;
  FailoverMachine ex({1, 2, 0}, 3, std::nullopt, kNames, FromMillis(100));
  EXPECT_EQ(ex.Start(clock.Now()).backend, 1);
  ASSERT_TRUE(ex.HedgeAt());
  EXPECT_EQ(ToMillis(*ex.HedgeAt() - clock.Now()), 100);
  clock.Advance(FromMillis(50));
  EXPECT_EQ(ex.OnHedgeTimer(clock.Now()).type, FailoverAction::kWait);  // too early
  clock.Advance(FromMillis(50));
  auto h = ex.OnHedgeTimer(clock.Now());
  ASSERT_EQ(h.type, FailoverAction::kStartAttempt);
  EXPECT_EQ(h.backend, 2);
  EXPECT_EQ(ex.hedges(), 1);
  EXPECT_FALSE(ex.HedgeAt());  // one hedge per request
  auto cancel = ex.OnFirstByteFrom(2);
  EXPECT_EQ(cancel, std::vector<int>{1});
  EXPECT_TRUE(ex.committed());
}

TEST(FailoverMachine, AHedgedFailureWaitsForTheOtherAttempt) {
  ManualClock clock;
  FailoverMachine ex({1, 2, 0}, 3, std::nullopt, kNames, FromMillis(10));
  ex.Start(clock.Now());
  clock.Advance(FromMillis(20));
  ASSERT_EQ(ex.OnHedgeTimer(clock.Now()).backend, 2);
  EXPECT_EQ(ex.OnFailureOf(clock.Now(), 1, {AttemptResult::kServerError, 500}).type, FailoverAction::kWait);
  auto next = ex.OnFailureOf(clock.Now(), 2, {AttemptResult::kReset});
  ASSERT_EQ(next.type, FailoverAction::kStartAttempt);  // both failed: the chain goes on
  EXPECT_EQ(next.backend, 0);
}

TEST(FailoverMachine, NoHedgeWithoutDelayOrFallback) {
  ManualClock clock;
  FailoverMachine plain({1, 2}, 3, std::nullopt, kNames);
  plain.Start(clock.Now());
  EXPECT_FALSE(plain.HedgeAt());
  FailoverMachine alone({1}, 3, std::nullopt, kNames, FromMillis(10));
  alone.Start(clock.Now());
  EXPECT_FALSE(alone.HedgeAt());
}

TEST(FailoverMachine, EmptyChainGivesUpAtOnce) {
  ManualClock clock;
  FailoverMachine ex({}, 3, std::nullopt, kNames);
  EXPECT_EQ(ex.Start(clock.Now()).type, FailoverAction::kGiveUp);
}

}  // namespace
}  // namespace mec
