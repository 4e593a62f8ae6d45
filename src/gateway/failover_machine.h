#pragma once
// The failover state machine of one request (DESIGN.md §3). No I/O: the caller reports events
// (an attempt failed before its first byte, the first byte arrived) and gets actions back (start
// an attempt on backend B, or give up with an error). The request flow (request_flow.h) drives it,
// for the gateway's sockets and for the simulator's simulated attempts alike.
//
// Rules: attempts follow the decision's chain; at most max_attempts in all; no attempt once the
// deadline has passed; never a second attempt once the client has received a byte (Committed).
// A backend that answered 429 with Retry-After is not tried again before that time.
//
// Hedging (optional): with a hedge delay, if the primary has not produced its first byte by
// HedgeAt(), OnHedgeTimer() starts the next backend of the chain beside it. Both run; the first
// to produce a byte wins (OnFirstByteFrom returns the others to cancel); a failure while another
// attempt still runs only waits (kWait).

#include <optional>
#include <string>
#include <vector>

#include "api/error.h"
#include "backend/attempt_result.h"
#include "core/clock.h"

namespace mec {

// An attempt that failed before its first byte reached the client.
struct AttemptFailure {
  AttemptResult result = AttemptResult::kConnect;  // kConnect, kTimeout, kReset, kServerError or kRateLimited
  int http_status = 0;          // for kServerError / kRateLimited
  double retry_after_s = 0;     // from Retry-After on 429
  std::string detail{};         // one line
};

struct Attempt {
  int backend = -1;
  TimePoint started{};
  std::optional<AttemptFailure> failure;  // unset while running or when it succeeded
  bool hedge = false;                     // started by the hedge timer beside another attempt
  bool running = true;
};

struct FailoverAction {
  enum Type { kStartAttempt, kGiveUp, kWait } type = kGiveUp;  // kWait: another attempt still runs
  int backend = -1;  // kStartAttempt
  ApiError error;    // kGiveUp
  double retry_after_s = 0;  // kGiveUp with 429: what to put in Retry-After
};

class FailoverMachine {
 public:
  // `names[i]` names backend i in messages (it must outlive the machine). `deadline` unset: none.
  FailoverMachine(std::vector<int> chain, int max_attempts, std::optional<TimePoint> deadline,
                  const std::vector<std::string>& names, std::optional<Duration> hedge_delay = std::nullopt);

  // The first action. REQUIRES: called once, before any other event.
  FailoverAction Start(TimePoint now);
  // The current attempt failed before any byte reached the client.
  FailoverAction OnFailure(TimePoint now, const AttemptFailure& f);
  // The current attempt was never sent (the backend was ejected since the decision): it does not
  // count against max_attempts; `detail` appears in the give-up message.
  FailoverAction OnSkipped(TimePoint now, std::string detail);
  // The current attempt produced its first byte for the client: no more attempts after this.
  void OnFirstByte() { OnFirstByteFrom(current_backend()); }

  // Hedging. When the hedge timer should fire (unset: no hedge pending).
  std::optional<TimePoint> HedgeAt() const;
  // The hedge timer fired: kStartAttempt (a hedge beside the running primary) or kWait (nothing to do).
  FailoverAction OnHedgeTimer(TimePoint now);
  // The attempt on `backend` failed before its first byte (with hedges, name which one).
  FailoverAction OnFailureOf(TimePoint now, int backend, const AttemptFailure& f);
  // `backend`'s attempt produced the first byte: it wins. Returns the other running attempts'
  // backends, which the caller cancels.
  std::vector<int> OnFirstByteFrom(int backend);
  int hedges() const { return hedges_; }

  bool committed() const { return committed_; }
  int attempt_count() const { return static_cast<int>(attempts_.size()); }
  const std::vector<Attempt>& attempts() const { return attempts_; }
  int current_backend() const { return attempts_.empty() ? -1 : attempts_.back().backend; }

 private:
  FailoverAction Next(TimePoint now);
  FailoverAction GiveUp(TimePoint now);

  std::vector<int> chain_;
  size_t next_ = 0;
  int max_attempts_;
  std::optional<TimePoint> deadline_;
  const std::vector<std::string>* names_;
  std::vector<Attempt> attempts_;
  std::vector<std::pair<int, std::string>> skipped_;  // (backend, why)
  bool committed_ = false;
  std::optional<Duration> hedge_delay_;
  bool hedge_fired_ = false;
  int hedges_ = 0;
  int Running() const;
};

}  // namespace mec
