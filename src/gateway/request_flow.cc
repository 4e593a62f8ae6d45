#include "gateway/request_flow.h"

#include <algorithm>
#include <cmath>

#include "cache/prefix_index.h"
#include "gateway/gateway_stats.h"
#include "route/predict.h"
#include "state/replica_sync.h"
#include "telemetry/telemetry.h"

namespace mec {
namespace {

void Count(std::atomic<uint64_t>& c, uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }

}  // namespace

RequestFlow::RequestFlow(const Engine& engine, const RequestContext& ctx, RequestRecord* record)
    : e_(engine), ctx_(ctx), record_(e_.telemetry ? record : nullptr) {}

RequestFlow::Verdict RequestFlow::Decide(const Router& policy, Rng& rng, const Router* shadow) {
  start_ = e_.clock.Now();
  // The snapshot is only valid for a moment (BackendMonitor keeps replaced ones for ~2 s): it is
  // read for the decision only.
  const PoolSnapshot& snap = e_.monitor.Current();
  RouteEnv env{e_.pool, snap, rng, start_, e_.adjust_quality, e_.quality_budget, e_.quality_feedback};
  // Prefix affinity: what each backend's KV cache probably holds of this prompt.
  std::vector<double> prefix;
  if (e_.prefix_index && !ctx_.prompt_blocks.empty()) {
    prefix.resize(e_.pool.size());
    for (size_t b = 0; b < prefix.size(); ++b)
      prefix[b] = static_cast<double>(e_.prefix_index->Match(b, ctx_.prompt_blocks)) * ctx_.prompt_block_tokens;
    env.prefix_tokens = prefix;
  }
  Result<Decision> d = policy.Decide(ctx_, env);
  const Duration decide_time = e_.clock.Now() - start_;
  if (record_) record_->policy = std::string(policy.name());
  if (shadow && shadow != &policy && d.ok() && e_.stats) {
    auto s = shadow->Decide(ctx_, env);
    const bool same = s.ok() && !s->chain.empty() && s->chain.front() == d->chain.front();
    Count(same ? e_.stats->shadow_agree : e_.stats->shadow_disagree);
  }
  if (!d.ok()) {
    status_ = d.status();
    if (status_.code() == StatusCode::kNotFound) return Verdict::kNotFound;
    if (record_) e_.telemetry->OnNoDecision(*record_, ctx_, policy.name(), status_.message(), decide_time);
    return Verdict::kUnavailable;
  }
  decision_ = std::move(*d);
  ChargeQuality(env, *decision_);  // the shadow's decision above only read the controller
  if (record_) e_.telemetry->OnDecision(*record_, ctx_, *decision_, decide_time);
  if (decision_->shed) return Verdict::kShed;
  std::optional<TimePoint> deadline;
  if (ctx_.deadline_ms) deadline = start_ + FromMillis(*ctx_.deadline_ms);
  // A hedge needs a delay: one of zero would send every such request twice at once.
  std::optional<Duration> hedge_delay;
  if (decision_->hedge && decision_->hedge_delay_s > 0) hedge_delay = FromSeconds(decision_->hedge_delay_s);
  machine_.emplace(decision_->chain, e_.max_attempts, deadline, e_.names, hedge_delay);
  return Verdict::kRoute;
}

FailoverAction RequestFlow::Admitted(FailoverAction act, TimePoint now) {
  while (act.type == FailoverAction::kStartAttempt) {
    // Fresher than the snapshot: a backend ejected since, or half-open with its one probe
    // already in flight, is skipped without using up one of the request's attempts.
    if (e_.monitor.AdmitAttempt(act.backend, now)) {
      e_.pool.at(act.backend).requests.fetch_add(1, std::memory_order_relaxed);
      RecordPrefix(act.backend);
      if (e_.stats) {
        Count(e_.stats->upstream_attempts);
        const auto& all = machine_->attempts();
        if (all.size() > 1 && !all.back().hedge) Count(e_.stats->failovers);
        if (all.back().hedge) Count(e_.stats->hedges);
      }
      return act;
    }
    if (record_) e_.telemetry->OnAttempt(*record_, act.backend, AttemptResult::kSkipped, false, false);
    act = machine_->OnSkipped(now, "ejected");
  }
  return act;
}

FailoverAction RequestFlow::Start() {
  const TimePoint now = e_.clock.Now();
  return Admitted(machine_->Start(now), now);
}

FailoverAction RequestFlow::OnHedgeTimer() {
  const TimePoint now = e_.clock.Now();
  return Admitted(machine_->OnHedgeTimer(now), now);
}

FailoverAction RequestFlow::OnFailure(int backend, const AttemptFailure& f, TimePoint sent) {
  const TimePoint now = e_.clock.Now();
  e_.pool.at(backend).failures.fetch_add(1, std::memory_order_relaxed);
  AttemptTiming t;
  t.sent = sent;
  t.end = now;
  Observe(backend, f.result, t);
  return Admitted(machine_->OnFailureOf(now, backend, f), now);
}

std::vector<int> RequestFlow::OnFirstByte(int backend) {
  std::vector<int> losers = machine_->OnFirstByteFrom(backend);
  const TimePoint now = losers.empty() ? TimePoint{} : e_.clock.Now();  // read only for the losers' cost
  for (const auto& a : machine_->attempts()) {
    if (a.backend == backend && a.hedge) hedge_won_ = true;
    if (!e_.stats || a.failure || a.backend == backend) continue;
    if (std::find(losers.begin(), losers.end(), a.backend) == losers.end()) continue;
    // Hedging: the others lost. What they cost (their input, at least) is counted.
    const double cost = ExpectedCost(e_.pool.at(a.backend).options().price, static_cast<double>(ctx_.input_tokens), 0,
                                     ToSeconds(now - a.started));
    Count(e_.stats->hedge_cost_nano_usd, static_cast<uint64_t>(std::llround(cost * 1e9)));
  }
  if (hedge_won_ && e_.stats) Count(e_.stats->hedge_wins);
  return losers;
}

int RequestFlow::PickContinuation(int cut, bool device_only) {
  if (!decision_ || continuations_ - failed_continuations_ >= kMaxContinuations) return -1;
  continued_on_.push_back(cut);
  const std::vector<Candidate>& cands = decision_->candidates;
  auto usable = [&](int b) {
    if (b < 0 || b >= static_cast<int>(e_.pool.size())) return false;
    if (!e_.pool.at(b).options().can_continue) return false;
    if (device_only && e_.pool.at(b).tier() != Tier::kDevice) return false;
    if (std::find(continued_on_.begin(), continued_on_.end(), b) != continued_on_.end()) return false;
    auto c = std::find_if(cands.begin(), cands.end(), [b](const Candidate& x) { return x.backend == b; });
    return c != cands.end() && c->passed_filters;
  };
  // The decision's chain is what its policy allows (a pinned policy's has one tier only).
  const TimePoint now = e_.clock.Now();
  for (int b : decision_->chain) {
    if (!usable(b)) continue;
    continued_on_.push_back(b);
    if (!e_.monitor.AdmitAttempt(b, now)) continue;  // ejected, or half-open with its probe out
    ++continuations_;
    e_.pool.at(b).requests.fetch_add(1, std::memory_order_relaxed);
    RecordPrefix(b);
    if (e_.stats) Count(e_.stats->upstream_attempts);
    return b;
  }
  return -1;
}

void RequestFlow::OnContinued(int backend) {
  if (e_.stats) Count(e_.stats->continuations);
  if (record_) ++record_->continuations;
}

void RequestFlow::OnContinuationFailure(int backend, AttemptResult r, const AttemptTiming& t) {
  ++failed_continuations_;
  e_.pool.at(backend).failures.fetch_add(1, std::memory_order_relaxed);
  Observe(backend, r, t);
}

bool RequestFlow::OnAttemptEnd(int backend, AttemptResult r, const AttemptTiming& t) {
  if (r == AttemptResult::kMidstreamCut) e_.pool.at(backend).failures.fetch_add(1, std::memory_order_relaxed);
  return Observe(backend, r, t);
}

void RequestFlow::RecordPrefix(int backend) {
  if (e_.prefix_index && !ctx_.prompt_blocks.empty()) e_.prefix_index->Record(static_cast<size_t>(backend), ctx_.prompt_blocks);
}

void RequestFlow::Trace(int backend, AttemptResult r) const {
  if (!record_) return;
  // How the attempt was started: by the hedge timer, or after a failed attempt (a failover).
  bool hedge = false, failover = false;
  const auto& all = machine_->attempts();
  for (size_t i = all.size(); i-- > 0;) {
    if (all[i].backend != backend) continue;
    hedge = all[i].hedge;
    failover = i > 0 && !all[i].hedge;
    break;
  }
  e_.telemetry->OnAttempt(*record_, backend, r, hedge, failover);
}

// What one attempt taught: the Resource agent's estimates and outlier detection, the answer
// lengths, the replicas' shared observations, telemetry.
bool RequestFlow::Observe(int backend, AttemptResult r, const AttemptTiming& t) {
  AttemptOutcome o;
  o.result = r;
  o.output_tokens = t.output_tokens;
  if (r == AttemptResult::kOk) {
    const double total = ToSeconds(t.end - t.sent);
    if (t.streamed && t.first) {
      o.ttft_s = ToSeconds(*t.first - t.sent);
      if (t.output_tokens > 1) o.tpot_s = ToSeconds(t.end - *t.first) / static_cast<double>(t.output_tokens - 1);
    } else {
      // Not streamed: only the total is seen. Attribute to the TTFT what the backend's current
      // per-token estimate does not explain (at least a tenth of the total).
      const PoolSnapshot& snap = e_.monitor.Current();
      const double tpot = backend < static_cast<int>(snap.backends.size()) ? snap.backends[backend].tpot.Median() : 0.0;
      o.ttft_s = std::max(0.1 * total, total - static_cast<double>(t.output_tokens) * tpot);
    }
    if (t.output_tokens > 0 && ctx_.endpoint != Endpoint::kEmbeddings)
      e_.output_tokens.Observe(ctx_.task_class, static_cast<double>(t.output_tokens));
  } else if (t.first) {
    o.ttft_s = ToSeconds(*t.first - t.sent);  // a stream cut (or left) after its first token
  } else {
    o.waited_s = ToSeconds(t.end - t.sent);  // no first byte: a lower bound on the TTFT
  }
  const bool changed = e_.monitor.OnAttemptEnd(backend, o, t.end);
  if (changed) e_.monitor.Publish(t.end);  // an ejection shows at once
  if (e_.replicas) e_.replicas->Note(backend, o.ttft_s, o.tpot_s);
  Trace(backend, r);
  return changed;
}

}  // namespace mec
