#include "dashboard/live_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "dashboard/sample_quantiles.h"
#include "route/predict.h"
#include "telemetry/request_record.h"

namespace mec {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr size_t kMaxReasonChars = 400;

int64_t SecondOf(TimePoint t) {
  const int64_t ns = t.time_since_epoch().count();
  constexpr int64_t kNs = 1000000000;
  return ns >= 0 ? ns / kNs : -((-ns + kNs - 1) / kNs);
}

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Algorithm R with a deterministic index: every value seen in the second has the same chance
// cap/seen of being kept.
void Keep(std::vector<float>& kept, int64_t& seen, double value, int cap, uint64_t salt) {
  ++seen;
  if (kept.size() < static_cast<size_t>(cap)) {
    kept.push_back(static_cast<float>(value));
    return;
  }
  const uint64_t j = SplitMix(static_cast<uint64_t>(seen) ^ salt) % static_cast<uint64_t>(seen);
  if (j < static_cast<uint64_t>(cap)) kept[j] = static_cast<float>(value);
}

void Add(TierTotals& into, const TierTotals& x) {
  into.requests += x.requests;
  into.errors += x.errors;
  into.cost_usd += x.cost_usd;
  into.cloud_only_usd += x.cloud_only_usd;
}

int FirstCloud(const std::vector<LiveBackend>& backends) {
  for (size_t i = 0; i < backends.size(); ++i)
    if (backends[i].tier == Tier::kCloud) return static_cast<int>(i);
  return -1;
}

}  // namespace

std::string_view LiveTierName(int tier) {
  if (tier >= 0 && tier < kTierCount) return TierName(static_cast<Tier>(tier));
  return "none";
}

LiveStats::LiveStats(const LiveStatsOptions& options, std::vector<LiveBackend> backends, const Clock& clock)
    : options_(options),
      backends_(std::move(backends)),
      clock_(clock),
      reference_(FirstCloud(backends_)),
      unix0_(clock.UnixSeconds()),
      mono0_(SecondOf(clock.Now())),
      seconds_(static_cast<size_t>(std::max(options.window_s, 1))),
      decisions_(static_cast<size_t>(std::max(options.decisions, 1))) {}

LiveStats::Second& LiveStats::BucketFor(int64_t sec) {
  const int64_t w = static_cast<int64_t>(seconds_.size());
  Second& b = seconds_[static_cast<size_t>(((sec % w) + w) % w)];
  if (b.sec < sec) {  // a newer second takes the slot; a record older than the window is not bucketed
    b.sec = sec;
    for (auto& t : b.tiers) {
      t.sum = {};
      t.ttft_seen = t.latency_seen = t.overhead_seen = 0;
      t.ttft.clear();
      t.latency.clear();
    }
  }
  return b;
}

void LiveStats::OnOutcome(const RequestRecord& r) {
  const int64_t sec = SecondOf(clock_.Now());
  const bool known = r.backend >= 0 && static_cast<size_t>(r.backend) < backends_.size();
  const int tier = known ? static_cast<int>(backends_[r.backend].tier) : kNoTier;
  // Mirrors Telemetry::OnOutcome: only an answer that was delivered (whole or cut) costs.
  const bool served = known && (r.status == RequestStatus::kOk || r.status == RequestStatus::kMidstreamCut);
  const bool error = r.status == RequestStatus::kFailed || r.status == RequestStatus::kMidstreamCut ||
                     r.status == RequestStatus::kShed;
  TierTotals x;
  x.requests = 1;
  x.errors = error ? 1 : 0;
  if (served) {
    x.cost_usd = r.cost_usd;
    if (tier == static_cast<int>(Tier::kCloud)) {
      x.cloud_only_usd = r.cost_usd;
    } else if (reference_ >= 0) {
      x.cloud_only_usd = ExpectedCost(backends_[reference_].price, static_cast<double>(r.input_tokens),
                                      static_cast<double>(r.output_tokens), r.latency_s);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  Add(totals_[tier], x);
  // The ring's row is overwritten in place: its strings keep their capacity, so a full ring
  // records a decision without allocating (a new row and the swap allocated its id and reason).
  DecisionRow& row = decisions_[next_decision_];
  row.id.assign(r.id);
  row.unix_s = r.unix_s;
  row.policy.assign(r.policy);
  row.tier = tier;
  if (known) row.backend.assign(backends_[r.backend].name);
  else row.backend.clear();
  row.status.assign(RequestStatusName(r.status));
  row.http_status = r.http_status;
  row.ttft_s = r.ttft_s;
  row.latency_s = r.latency_s;
  row.cost_usd = x.cost_usd;
  row.attempts = r.attempts;
  row.hedges = r.hedges;
  row.reason.assign(r.reason, 0, kMaxReasonChars);
  row.error.assign(r.error, 0, kMaxReasonChars);
  next_decision_ = (next_decision_ + 1) % decisions_.size();
  ++recorded_;
  Second& b = BucketFor(sec);
  if (b.sec != sec) return;  // finished more than a window ago (a thread stalled): totals only
  TierSecond& t = b.tiers[tier];
  Add(t.sum, x);
  const uint64_t salt = static_cast<uint64_t>(sec) * 4 + static_cast<uint64_t>(tier);
  if (r.ttft_s) Keep(t.ttft, t.ttft_seen, *r.ttft_s, options_.samples_per_second, salt);
  if (r.status == RequestStatus::kOk) Keep(t.latency, t.latency_seen, r.latency_s, options_.samples_per_second, ~salt);
  if (r.overhead_s) Keep(t.overhead, t.overhead_seen, *r.overhead_s, options_.samples_per_second, salt ^ 0x9E3779B97F4A7C15ull);
}

void LiveStats::CopyDecisions(int max, std::vector<DecisionRow>& out) const {
  const size_t n = std::min<size_t>(static_cast<size_t>(std::max(max, 0)), std::min<uint64_t>(recorded_, decisions_.size()));
  out.reserve(n);
  for (size_t j = 0; j < n; ++j) out.push_back(decisions_[(next_decision_ + decisions_.size() - 1 - j) % decisions_.size()]);
}

std::vector<DecisionRow> LiveStats::Decisions(int n) const {
  std::vector<DecisionRow> out;
  std::lock_guard<std::mutex> lock(mu_);
  CopyDecisions(n, out);
  return out;
}

LiveView LiveStats::View(TimePoint now, int max_decisions) const {
  const int window = static_cast<int>(seconds_.size());
  const int step = std::clamp(options_.step_s, 1, window);
  const int nsteps = window / step;
  const int64_t end = SecondOf(now) - 1;  // the last complete second
  const int64_t first = end - window + 1;

  LiveView v;
  v.window_s = window;
  v.step_s = step;
  v.end_unix_s = unix0_ + (end - mono0_);
  if (reference_ >= 0) v.cloud_reference = backends_[reference_].name;
  v.seconds.resize(window);
  for (auto& s : v.requests) s.assign(window, 0);
  v.errors.assign(window, 0);
  std::vector<double> cost(window, 0), cloud(window, 0);
  // Samples gathered per step and tier, and for the last minute.
  std::vector<std::array<std::vector<float>, kLiveTierCount>> step_ttft(nsteps), step_latency(nsteps);
  std::array<std::vector<float>, kLiveTierCount> min_ttft, min_latency, min_overhead;
  {
    std::lock_guard<std::mutex> lock(mu_);
    v.totals = totals_;
    for (int i = 0; i < window; ++i) {
      const int64_t sec = first + i;
      v.seconds[i] = unix0_ + (sec - mono0_);
      const Second& b = seconds_[static_cast<size_t>(((sec % window) + window) % window)];
      if (b.sec != sec) continue;
      // Steps are aligned to the end: the last step ends with `end`.
      const int k = nsteps - 1 - (window - 1 - i) / step;
      const bool last_min = sec > end - 60;
      for (int t = 0; t < kLiveTierCount; ++t) {
        const TierSecond& ts = b.tiers[t];
        v.requests[t][i] = ts.sum.requests;
        v.errors[i] += ts.sum.errors;
        cost[i] += ts.sum.cost_usd;
        cloud[i] += ts.sum.cloud_only_usd;
        if (k >= 0) {
          step_ttft[k][t].insert(step_ttft[k][t].end(), ts.ttft.begin(), ts.ttft.end());
          step_latency[k][t].insert(step_latency[k][t].end(), ts.latency.begin(), ts.latency.end());
        }
        if (last_min) {
          Add(v.last_min[t], ts.sum);
          min_ttft[t].insert(min_ttft[t].end(), ts.ttft.begin(), ts.ttft.end());
          min_latency[t].insert(min_latency[t].end(), ts.latency.begin(), ts.latency.end());
          min_overhead[t].insert(min_overhead[t].end(), ts.overhead.begin(), ts.overhead.end());
        }
      }
    }
    CopyDecisions(max_decisions, v.decisions);
  }

  v.steps.resize(nsteps);
  v.cost_per_min.assign(nsteps, kNaN);
  v.cloud_only_per_min.assign(nsteps, kNaN);
  for (auto& s : v.ttft_p95) s.assign(nsteps, kNaN);
  for (auto& s : v.latency_p95) s.assign(nsteps, kNaN);
  for (int k = 0; k < nsteps; ++k) {
    const int last = window - 1 - (nsteps - 1 - k) * step;  // index of the step's last second
    v.steps[k] = v.seconds[last] + 1;
    for (int t = 0; t < kLiveTierCount; ++t) {  // NaN where the step has no sample
      v.ttft_p95[t][k] = SelectQuantile(step_ttft[k][t], 0.95);
      v.latency_p95[t][k] = SelectQuantile(step_latency[k][t], 0.95);
    }
    if (last >= 59) {
      double c = 0, cf = 0;
      for (int i = last - 59; i <= last; ++i) {
        c += cost[i];
        cf += cloud[i];
      }
      v.cost_per_min[k] = c;
      v.cloud_only_per_min[k] = cf;
    }
  }
  for (int t = 0; t < kLiveTierCount; ++t) {
    v.ttft_last_min[t] = Summarize(min_ttft[t]);
    v.latency_last_min[t] = Summarize(min_latency[t]);
    v.overhead_last_min[t] = Summarize(min_overhead[t]);
  }
  return v;
}

}  // namespace mec
