#include "auth/limits.h"

#include <algorithm>
#include <cmath>

namespace mec {

std::string_view LimitKindName(LimitKind k) {
  switch (k) {
    case LimitKind::kRpm: return "requests per minute";
    case LimitKind::kTpm: return "tokens per minute";
    case LimitKind::kParallel: return "requests in flight";
    case LimitKind::kBudget: return "budget";
    case LimitKind::kNone: break;
  }
  return "none";
}

KeyLimits ShareOf(const KeyLimits& l, int share) {
  if (share <= 1) return l;
  KeyLimits s = l;
  auto part = [share](int64_t v) { return v > 0 ? std::max<int64_t>(1, v / share) : 0; };
  s.rpm = part(l.rpm);
  s.tpm = part(l.tpm);
  s.max_parallel = part(l.max_parallel);
  s.budget_usd = l.budget_usd / share;
  return s;
}

LimitVerdict LocalLimiter::Reserve(const KeyRecord& k, const KeyLimits& lim, const Reservation& r, int64_t now_ms,
                                   std::string ticket) {
  LimitVerdict v;
  v.ticket = std::move(ticket);
  v.minute = now_ms / 60000;
  const PeriodSpan period = PeriodAt(lim.period, now_ms);
  v.period_start_ms = period.start_ms;
  const double window_left_s = static_cast<double>((v.minute + 1) * 60000 - now_ms) / 1000.0;
  std::lock_guard lock(mu_);
  Counts& c = by_key_[k.name];
  if (c.minute != v.minute) {
    c.minute = v.minute;
    c.requests = c.tokens = 0;
  }
  if (c.period_start_ms != period.start_ms) {
    c.period_start_ms = period.start_ms;
    c.spend = 0;
  }
  v.state.reset_s = window_left_s;
  v.state.limit_requests = lim.rpm;
  v.state.limit_tokens = lim.tpm;
  if (lim.rpm > 0 && c.requests >= lim.rpm) {
    v.refused = LimitKind::kRpm;
    v.retry_after_s = window_left_s;
  } else if (lim.tpm > 0 && c.tokens + r.tokens > lim.tpm) {
    v.refused = LimitKind::kTpm;
    v.retry_after_s = window_left_s;
  } else if (lim.max_parallel > 0 && c.in_flight >= lim.max_parallel) {
    v.refused = LimitKind::kParallel;
    v.retry_after_s = 1;
  } else if (lim.budget_usd > 0 && c.spend >= lim.budget_usd) {
    v.refused = LimitKind::kBudget;
    v.retry_after_s = period.end_ms == INT64_MAX ? 0 : static_cast<double>(period.end_ms - now_ms) / 1000.0;
  } else {
    ++c.requests;
    c.tokens += r.tokens;
    ++c.in_flight;
    c.spend += r.usd;
  }
  v.state.remaining_requests = std::max<int64_t>(0, lim.rpm - c.requests);
  v.state.remaining_tokens = std::max<int64_t>(0, lim.tpm - c.tokens);
  return v;
}

void LocalLimiter::Settle(const std::string& name, const LimitVerdict& v, const Reservation& reserved, const Reservation& used) {
  std::lock_guard lock(mu_);
  auto it = by_key_.find(name);
  if (it == by_key_.end()) return;
  Counts& c = it->second;
  c.in_flight = std::max<int64_t>(0, c.in_flight - 1);
  if (c.minute == v.minute) c.tokens = std::max<int64_t>(0, c.tokens + used.tokens - reserved.tokens);
  if (c.period_start_ms == v.period_start_ms) c.spend = std::max(0.0, c.spend + used.usd - reserved.usd);
}

KeyUsage LocalLimiter::Usage(const KeyRecord& k, int64_t now_ms) const {
  KeyUsage u;
  u.period = PeriodAt(k.limits.period, now_ms);
  std::lock_guard lock(mu_);
  auto it = by_key_.find(k.name);
  if (it == by_key_.end()) return u;
  const Counts& c = it->second;
  if (c.minute == now_ms / 60000) {
    u.requests_this_minute = c.requests;
    u.tokens_this_minute = c.tokens;
  }
  if (c.period_start_ms == u.period.start_ms) u.spend_usd = c.spend;
  u.in_flight = c.in_flight;
  return u;
}

}  // namespace mec
