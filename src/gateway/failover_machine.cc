#include "gateway/failover_machine.h"

#include <algorithm>
#include <cmath>

namespace mec {

FailoverMachine::FailoverMachine(std::vector<int> chain, int max_attempts, std::optional<TimePoint> deadline,
                                 const std::vector<std::string>& names, std::optional<Duration> hedge_delay)
    : chain_(std::move(chain)), max_attempts_(max_attempts), deadline_(deadline), names_(&names),
      hedge_delay_(hedge_delay) {}

int FailoverMachine::Running() const {
  int n = 0;
  for (const auto& a : attempts_) n += a.running ? 1 : 0;
  return n;
}

std::optional<TimePoint> FailoverMachine::HedgeAt() const {
  if (!hedge_delay_ || hedge_fired_ || committed_ || attempts_.empty() || next_ >= chain_.size()) return std::nullopt;
  return attempts_.front().started + *hedge_delay_;
}

FailoverAction FailoverMachine::OnHedgeTimer(TimePoint now) {
  FailoverAction wait;
  wait.type = FailoverAction::kWait;
  if (!HedgeAt() || now < *HedgeAt() || Running() == 0) return wait;
  hedge_fired_ = true;
  FailoverAction act = Next(now);
  if (act.type != FailoverAction::kStartAttempt) return wait;  // nothing left to hedge with: keep waiting
  attempts_.back().hedge = true;
  ++hedges_;
  return act;
}

FailoverAction FailoverMachine::OnFailureOf(TimePoint now, int backend, const AttemptFailure& f) {
  for (auto it = attempts_.rbegin(); it != attempts_.rend(); ++it) {
    if (it->backend == backend && it->running) {
      it->running = false;
      it->failure = f;
      break;
    }
  }
  if (committed_) return GiveUp(now);
  if (Running() > 0) {
    FailoverAction wait;
    wait.type = FailoverAction::kWait;
    return wait;
  }
  return Next(now);
}

std::vector<int> FailoverMachine::OnFirstByteFrom(int backend) {
  committed_ = true;
  std::vector<int> cancel;
  for (auto& a : attempts_) {
    if (!a.running) continue;
    if (a.backend != backend) cancel.push_back(a.backend);
    a.running = false;
  }
  return cancel;
}

FailoverAction FailoverMachine::Start(TimePoint now) { return Next(now); }

FailoverAction FailoverMachine::OnFailure(TimePoint now, const AttemptFailure& f) {
  return OnFailureOf(now, current_backend(), f);
}

FailoverAction FailoverMachine::OnSkipped(TimePoint now, std::string detail) {
  if (!attempts_.empty()) {
    skipped_.emplace_back(attempts_.back().backend, std::move(detail));
    attempts_.pop_back();
  }
  return Next(now);
}

FailoverAction FailoverMachine::Next(TimePoint now) {
  if (static_cast<int>(attempts_.size()) >= max_attempts_) return GiveUp(now);
  if (deadline_ && now >= *deadline_) return GiveUp(now);
  while (next_ < chain_.size()) {
    int b = chain_[next_++];
    // Skip a backend that asked us (429 + Retry-After) to wait past now.
    bool wait = false;
    for (const auto& a : attempts_)
      if (a.backend == b && a.failure && a.failure->result == AttemptResult::kRateLimited &&
          now < a.started + FromSeconds(a.failure->retry_after_s))
        wait = true;
    if (wait) continue;
    attempts_.push_back(Attempt{b, now, std::nullopt});
    FailoverAction act;
    act.type = FailoverAction::kStartAttempt;
    act.backend = b;
    return act;
  }
  return GiveUp(now);
}

FailoverAction FailoverMachine::GiveUp(TimePoint now) {
  FailoverAction act;
  act.type = FailoverAction::kGiveUp;
  std::string detail;
  bool all_429 = !attempts_.empty();
  double retry_after = 0;
  for (const auto& a : attempts_) {
    if (!a.failure) continue;
    if (!detail.empty()) detail += "; ";
    const std::string& name = a.backend >= 0 && a.backend < static_cast<int>(names_->size()) ? (*names_)[a.backend] : "?";
    detail += name + ": " + (a.failure->detail.empty() ? std::string(AttemptResultText(a.failure->result)) : a.failure->detail);
    if (a.failure->result != AttemptResult::kRateLimited) all_429 = false;
    else retry_after = retry_after == 0 ? a.failure->retry_after_s : std::min(retry_after, a.failure->retry_after_s);
  }
  for (const auto& [b, why] : skipped_) {
    if (!detail.empty()) detail += "; ";
    detail += (b >= 0 && b < static_cast<int>(names_->size()) ? (*names_)[b] : "?") + ": " + why;
  }
  const bool past_deadline = deadline_ && now >= *deadline_;
  if (attempts_.empty()) {
    act.error = ApiError::Unavailable("No backend could be tried for this request" + (detail.empty() ? std::string(".") : " (" + detail + ")."));
  } else if (all_429) {
    act.error = ApiError::TooManyRequests("Every backend tried is rate limited (" + detail + ").");
    act.retry_after_s = std::max(1.0, std::ceil(retry_after));
  } else if (past_deadline) {
    act.error = ApiError{504, "timeout", "The request's deadline passed after " + std::to_string(attempts_.size()) +
                                             " attempt(s) (" + detail + ").", "", "deadline_exceeded"};
  } else {
    act.error = ApiError::Unavailable("All " + std::to_string(attempts_.size()) + " attempt(s) failed (" + detail + ").",
                                      "upstream_unavailable");
  }
  return act;
}

}  // namespace mec
