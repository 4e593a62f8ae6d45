#include "backend/outlier_detector.h"

#include <gtest/gtest.h>

namespace mec {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(OutlierMath, EjectionDurationGrowsAndCaps) {
  const Duration base = seconds(10), max = seconds(300);
  EXPECT_EQ(EjectionDuration(1, base, max), seconds(10));
  EXPECT_EQ(EjectionDuration(2, base, max), seconds(20));
  EXPECT_EQ(EjectionDuration(3, base, max), seconds(30));
  EXPECT_EQ(EjectionDuration(30, base, max), seconds(300));
  EXPECT_EQ(EjectionDuration(31, base, max), seconds(300));
  EXPECT_EQ(EjectionDuration(1 << 30, base, max), seconds(300));  // no overflow
  EXPECT_EQ(EjectionDuration(0, base, max), seconds(10));
}

TEST(OutlierMath, StreaksAndDecay) {
  EXPECT_FALSE(StreakEjects(4, 5));
  EXPECT_TRUE(StreakEjects(5, 5));
  EXPECT_FALSE(StreakEjects(100, 0));  // disabled
  EXPECT_EQ(DecayedMultiplier(3, seconds(0), seconds(10)), 3);
  EXPECT_EQ(DecayedMultiplier(3, seconds(9), seconds(10)), 3);
  EXPECT_EQ(DecayedMultiplier(3, seconds(25), seconds(10)), 1);
  EXPECT_EQ(DecayedMultiplier(3, seconds(1000), seconds(10)), 0);
  EXPECT_EQ(DecayedMultiplier(0, seconds(1000), seconds(10)), 0);
}

class OutlierTest : public ::testing::Test {
 protected:
  OutlierTest() : od_(Options(), seconds(60)) {}
  static OutlierOptions Options() {
    OutlierOptions o;  // 3 local, 5 upstream, 10 s base, 300 s max
    return o;
  }
  bool Feed(AttemptResult r, int n = 1) {
    bool changed = false;
    for (int i = 0; i < n; ++i) changed |= od_.OnResult(r, now_);
    return changed;
  }
  void Advance(Duration d) { now_ += d; }
  OutlierState state() const { return od_.state(now_); }

  OutlierDetector od_;
  TimePoint now_ = TimePoint{} + seconds(1000);
};

TEST_F(OutlierTest, APassingHealthCheckEndsTheEjectionsWaitNotTheProbe) {
  EXPECT_FALSE(od_.OnHealthCheckPassed(now_));  // in service: nothing to end
  Feed(AttemptResult::kServerError, 5);
  ASSERT_EQ(state(), OutlierState::kEjected);
  Advance(seconds(2));
  EXPECT_TRUE(od_.OnHealthCheckPassed(now_));
  EXPECT_EQ(state(), OutlierState::kHalfOpen);  // not in service: one real request probes first
  EXPECT_EQ(od_.ejected_for(now_), Duration::zero());
  EXPECT_FALSE(od_.OnHealthCheckPassed(now_));
  // The probe fails (GET /models answers, generation does not): ejected again, for longer.
  ASSERT_TRUE(od_.TryClaimProbe(now_));
  EXPECT_FALSE(od_.OnHealthCheckPassed(now_));  // a probe in flight is left alone
  EXPECT_TRUE(Feed(AttemptResult::kServerError));
  EXPECT_EQ(state(), OutlierState::kEjected);
  EXPECT_EQ(od_.ejected_for(now_), seconds(20));
  // The next pass ends that wait too; a good probe closes the circuit.
  Advance(seconds(1));
  EXPECT_TRUE(od_.OnHealthCheckPassed(now_));
  ASSERT_TRUE(od_.TryClaimProbe(now_));
  EXPECT_TRUE(Feed(AttemptResult::kOk));
  EXPECT_EQ(state(), OutlierState::kClosed);
}

TEST_F(OutlierTest, ConsecutiveUpstreamFailuresEject) {
  EXPECT_FALSE(Feed(AttemptResult::kServerError, 4));
  EXPECT_EQ(state(), OutlierState::kClosed);
  EXPECT_TRUE(Feed(AttemptResult::kServerError));
  EXPECT_EQ(state(), OutlierState::kEjected);
  EXPECT_EQ(od_.ejections(), 1);
  EXPECT_EQ(od_.ejected_for(now_), seconds(10));
}

TEST_F(OutlierTest, ConsecutiveLocalFailuresEject) {
  Feed(AttemptResult::kConnect, 2);
  EXPECT_EQ(state(), OutlierState::kClosed);
  EXPECT_TRUE(Feed(AttemptResult::kConnect));
  EXPECT_EQ(state(), OutlierState::kEjected);
}

TEST_F(OutlierTest, SuccessBreaksTheStreak) {
  Feed(AttemptResult::kServerError, 4);
  Feed(AttemptResult::kOk);
  Feed(AttemptResult::kServerError, 4);
  Feed(AttemptResult::kConnect, 2);
  Feed(AttemptResult::kOk);
  Feed(AttemptResult::kConnect, 2);
  EXPECT_EQ(state(), OutlierState::kClosed);
}

TEST_F(OutlierTest, LocalAndUpstreamCountedApart) {
  // Local failures do not add to the upstream streak, nor break it.
  Feed(AttemptResult::kServerError, 4);
  Feed(AttemptResult::kConnect, 2);
  EXPECT_EQ(od_.consecutive_upstream(), 4);
  EXPECT_EQ(od_.consecutive_local(), 2);
  EXPECT_EQ(state(), OutlierState::kClosed);
  // An upstream failure is a response: the path works, the local streak ends.
  Feed(AttemptResult::kServerError);
  EXPECT_EQ(state(), OutlierState::kEjected);
}

TEST_F(OutlierTest, UpstreamResponseEndsLocalStreak) {
  Feed(AttemptResult::kConnect, 2);
  Feed(AttemptResult::kServerError);
  Feed(AttemptResult::kConnect, 2);
  EXPECT_EQ(od_.consecutive_local(), 2);
  EXPECT_EQ(state(), OutlierState::kClosed);
}

TEST_F(OutlierTest, RateLimitsAndCancellationsAreNotFailures) {
  EXPECT_FALSE(Feed(AttemptResult::kRateLimited, 100));
  EXPECT_FALSE(Feed(AttemptResult::kCancelled, 100));
  EXPECT_EQ(state(), OutlierState::kClosed);
  // Nor do they break an upstream streak.
  Feed(AttemptResult::kServerError, 4);
  Feed(AttemptResult::kRateLimited);
  Feed(AttemptResult::kCancelled);
  EXPECT_EQ(od_.consecutive_upstream(), 4);
  Feed(AttemptResult::kServerError);
  EXPECT_EQ(state(), OutlierState::kEjected);
}

TEST_F(OutlierTest, HalfOpenLetsExactlyOneProbe) {
  Feed(AttemptResult::kConnect, 3);
  EXPECT_FALSE(od_.TryClaimProbe(now_));  // ejected
  Advance(seconds(10) - milliseconds(1));
  EXPECT_EQ(state(), OutlierState::kEjected);
  EXPECT_EQ(od_.ejected_for(now_), milliseconds(1));
  Advance(milliseconds(1));
  EXPECT_EQ(state(), OutlierState::kHalfOpen);
  EXPECT_EQ(od_.ejected_for(now_), Duration::zero());
  EXPECT_TRUE(od_.TryClaimProbe(now_));
  EXPECT_FALSE(od_.TryClaimProbe(now_));
  EXPECT_FALSE(od_.TryClaimProbe(now_ + seconds(1)));
  EXPECT_EQ(state(), OutlierState::kProbing);
  EXPECT_TRUE(Feed(AttemptResult::kOk));
  EXPECT_EQ(state(), OutlierState::kClosed);
  EXPECT_FALSE(od_.TryClaimProbe(now_));  // closed: no probe needed
}

// A peer's ejection: takes a closed backend out for the peer's time (capped at max), lengthens a
// shorter one, never shortens, leaves a probe in flight alone, and neither counts as this
// detector's ejection nor escalates the next local one.
TEST_F(OutlierTest, PeerEjection) {
  EXPECT_FALSE(od_.EjectFor(Duration::zero(), now_));
  EXPECT_TRUE(od_.EjectFor(seconds(7), now_));
  EXPECT_EQ(state(), OutlierState::kEjected);
  EXPECT_EQ(od_.ejected_for(now_), seconds(7));
  EXPECT_EQ(od_.ejections(), 0);
  EXPECT_EQ(od_.peer_ejections(), 1);
  EXPECT_FALSE(od_.EjectFor(seconds(3), now_));  // shorter: no change
  EXPECT_EQ(od_.ejected_for(now_), seconds(7));
  EXPECT_TRUE(od_.EjectFor(seconds(1000), now_));  // capped at max (300 s)
  EXPECT_EQ(od_.ejected_for(now_), seconds(300));
  Advance(seconds(300));
  EXPECT_EQ(state(), OutlierState::kHalfOpen);
  EXPECT_TRUE(od_.TryClaimProbe(now_));
  EXPECT_FALSE(od_.EjectFor(seconds(5), now_));  // a probe in flight decides
  EXPECT_EQ(state(), OutlierState::kProbing);
  EXPECT_TRUE(Feed(AttemptResult::kOk));
  EXPECT_EQ(state(), OutlierState::kClosed);
  // The first local ejection after peer ejections lasts the base time (no escalation).
  Feed(AttemptResult::kServerError, 5);
  EXPECT_EQ(od_.ejections(), 1);
  EXPECT_EQ(od_.ejected_for(now_), seconds(10));
}

TEST_F(OutlierTest, FailedProbesEjectLongerUpToTheCap) {
  Feed(AttemptResult::kServerError, 5);
  Duration expected[] = {seconds(10), seconds(20), seconds(30), seconds(40)};
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(state(), OutlierState::kEjected);
    EXPECT_EQ(od_.ejected_for(now_), expected[i]) << i;
    EXPECT_EQ(od_.ejections(), i + 1);
    Advance(expected[i]);
    ASSERT_TRUE(od_.TryClaimProbe(now_));
    EXPECT_TRUE(Feed(AttemptResult::kConnect));  // one failed probe re-ejects
  }
  for (int i = 0; i < 40; ++i) {
    Advance(od_.ejected_for(now_));
    ASSERT_TRUE(od_.TryClaimProbe(now_));
    Feed(AttemptResult::kServerError);
  }
  EXPECT_EQ(od_.ejected_for(now_), seconds(300));
  EXPECT_EQ(od_.ejections(), 45);
}

TEST_F(OutlierTest, ResultsWhileEjectedAreIgnored) {
  Feed(AttemptResult::kConnect, 3);
  EXPECT_FALSE(Feed(AttemptResult::kOk));  // a straggler that started before the ejection
  EXPECT_FALSE(Feed(AttemptResult::kServerError, 10));
  EXPECT_EQ(state(), OutlierState::kEjected);
  EXPECT_EQ(od_.ejections(), 1);
  EXPECT_EQ(od_.ejected_for(now_), seconds(10));
}

TEST_F(OutlierTest, ProbeReleasedOnRateLimitOrCancelAndLeaseLapses) {
  Feed(AttemptResult::kConnect, 3);
  Advance(seconds(10));
  ASSERT_TRUE(od_.TryClaimProbe(now_));
  EXPECT_TRUE(Feed(AttemptResult::kRateLimited));
  EXPECT_EQ(state(), OutlierState::kHalfOpen);
  ASSERT_TRUE(od_.TryClaimProbe(now_));
  EXPECT_TRUE(Feed(AttemptResult::kCancelled));
  ASSERT_TRUE(od_.TryClaimProbe(now_));
  // The probe's outcome never arrives: after the lease another request may probe.
  Advance(seconds(59));
  EXPECT_FALSE(od_.TryClaimProbe(now_));
  Advance(seconds(1));
  EXPECT_TRUE(od_.TryClaimProbe(now_));
  EXPECT_EQ(od_.ejections(), 1);
}

TEST_F(OutlierTest, MultiplierDecaysWhileHealthy) {
  Feed(AttemptResult::kConnect, 3);
  Advance(seconds(10));
  od_.TryClaimProbe(now_);
  Feed(AttemptResult::kConnect);  // multiplier 2, 20 s
  Advance(seconds(20));
  od_.TryClaimProbe(now_);
  Feed(AttemptResult::kOk);
  EXPECT_EQ(od_.multiplier(), 2);
  // Healthy for one base interval: the next ejection uses multiplier 2 (2 - 1 + 1), not 3.
  Advance(seconds(10));
  Feed(AttemptResult::kConnect, 3);
  EXPECT_EQ(od_.ejected_for(now_), seconds(20));
  Advance(seconds(20));
  od_.TryClaimProbe(now_);
  Feed(AttemptResult::kOk);
  // Healthy for long: back to base x 1.
  Advance(seconds(600));
  Feed(AttemptResult::kConnect, 3);
  EXPECT_EQ(od_.ejected_for(now_), seconds(10));
  EXPECT_EQ(od_.ejections(), 4);
}

TEST(Outlier, DisabledDetectors) {
  OutlierOptions o;
  o.consecutive_local_failures = 0;
  o.consecutive_upstream_failures = 0;
  OutlierDetector od(o, seconds(60));
  TimePoint now{};
  for (int i = 0; i < 1000; ++i) {
    od.OnResult(AttemptResult::kConnect, now);
    od.OnResult(AttemptResult::kServerError, now);
  }
  EXPECT_EQ(od.state(now), OutlierState::kClosed);
}

// One vocabulary (backend/attempt_result.h): every failure result lands in its streak.
TEST_F(OutlierTest, EveryResultCountsInItsStreak) {
  Feed(AttemptResult::kConnect);
  Feed(AttemptResult::kTimeout);
  EXPECT_EQ(od_.consecutive_local(), 2);
  Feed(AttemptResult::kReset);  // a response of sorts: the path works
  EXPECT_EQ(od_.consecutive_local(), 0);
  Feed(AttemptResult::kMidstreamCut);
  Feed(AttemptResult::kServerError);
  EXPECT_EQ(od_.consecutive_upstream(), 3);
  Feed(AttemptResult::kCancelled);
  Feed(AttemptResult::kSkipped);
  EXPECT_EQ(od_.consecutive_upstream(), 3);
  Feed(AttemptResult::kOk);
  EXPECT_EQ(od_.consecutive_upstream(), 0);
}

// A 4xx passed through to the client is the client's fault: it never ejects, it ends a local
// streak (the server answered), and a half-open probe that gets one is released, not failed.
TEST_F(OutlierTest, ClientErrorsNeverEject) {
  Feed(AttemptResult::kConnect, 2);
  EXPECT_FALSE(Feed(AttemptResult::kClientError, 50));
  EXPECT_EQ(state(), OutlierState::kClosed);
  EXPECT_EQ(od_.consecutive_local(), 0);
  EXPECT_TRUE(Feed(AttemptResult::kConnect, 3));
  Advance(seconds(11));
  ASSERT_TRUE(od_.TryClaimProbe(now_));
  EXPECT_TRUE(Feed(AttemptResult::kClientError));
  EXPECT_EQ(state(), OutlierState::kHalfOpen);
}

}  // namespace
}  // namespace mec
