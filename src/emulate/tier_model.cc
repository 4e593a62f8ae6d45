#include "emulate/tier_model.h"

#include <algorithm>
#include <cmath>

namespace mec {

TierModel::TierModel(TierProfile profile, Rng rng, TimePoint start)
    : profile_(std::move(profile)), rng_(rng), start_(start), bucket_at_(start) {
  bucket_tokens_ = profile_.rate_limit_rps;
  gpu_active_.assign(static_cast<size_t>(std::max(1, profile_.gpus)), 0);
}

int TierModel::LeastBusyGpu() const {
  return static_cast<int>(std::min_element(gpu_active_.begin(), gpu_active_.end()) - gpu_active_.begin());
}

ServicePlan TierModel::StartOn(TimePoint now, const WorkItem& w, int gpu) {
  running_.push_back({w.ticket, gpu});
  const int streams = ++gpu_active_[static_cast<size_t>(gpu)];
  return Plan(now, w, streams);
}

bool TierModel::InOutage(TimePoint now) const {
  if (profile_.faults.outage) return true;
  const double t = ToSeconds(now - start_);
  for (const auto& [a, b] : profile_.outage_windows)
    if (t >= a && t < b) return true;
  return false;
}

double TierModel::RetryAfterSeconds() const {
  if (profile_.rate_limit_rps > 0) return std::max(1.0, std::ceil(1.0 / profile_.rate_limit_rps));
  return 1.0;
}

bool TierModel::TakeRateToken(TimePoint now) {
  if (profile_.rate_limit_rps <= 0) return true;
  bucket_tokens_ = std::min(profile_.rate_limit_rps, bucket_tokens_ + ToSeconds(now - bucket_at_) * profile_.rate_limit_rps);
  bucket_at_ = now;
  if (bucket_tokens_ < 1) return false;
  bucket_tokens_ -= 1;
  return true;
}

int64_t DrawOutputTokens(double mean, uint64_t content_hash, int64_t max_tokens, bool* truncated) {
  Rng r(content_hash, 0x6f7574ull);
  int64_t n = std::max<int64_t>(1, std::llround(r.LognormalWithMean(std::max(1.0, mean), 0.6)));
  bool cut = max_tokens >= 0 && n > max_tokens;
  if (cut) n = max_tokens;
  if (truncated) *truncated = cut;
  return n;
}

ServicePlan TierModel::Shape(const WorkItem& w, double jitter, int streams) const {
  const auto& p = profile_;
  const double slow = p.faults.slowdown;
  ServicePlan plan;
  double ttft_ms = p.base_ms + (p.prefill_tokens_per_s > 0 ? 1000.0 * w.input_tokens / p.prefill_tokens_per_s : 0.0);
  ttft_ms *= jitter;
  ttft_ms = (ttft_ms + p.rtt_ms) * slow;
  plan.ttft = FromMillis(ttft_ms);
  if (p.decode_tokens_per_s > 0) {
    const double batch = 1.0 + p.batch_slowdown_per_stream * std::max(0, streams - 1);
    plan.per_token = FromMillis(1000.0 / p.decode_tokens_per_s * batch * slow);
  }
  if (w.output_tokens >= 0) {
    plan.output_tokens = w.max_tokens >= 0 ? std::min(w.output_tokens, w.max_tokens) : w.output_tokens;
    plan.truncated = w.max_tokens >= 0 && w.output_tokens > w.max_tokens;
  } else {
    plan.output_tokens = DrawOutputTokens(p.mean_output_tokens, w.content_hash, w.max_tokens, &plan.truncated);
  }
  return plan;
}

ServicePlan TierModel::ExpectedPlan(const WorkItem& w) const {
  return Shape(w, 1.0, std::min(gpu_active_[static_cast<size_t>(LeastBusyGpu())] + 1, profile_.max_concurrency));
}

ServicePlan TierModel::Plan(TimePoint now, const WorkItem& w, int streams) {
  const auto& p = profile_;
  const double jitter = p.ttft_jitter_sigma > 0 ? rng_.LognormalWithMean(1.0, p.ttft_jitter_sigma) : 1.0;
  ServicePlan plan = Shape(w, jitter, streams);
  if (rng_.Bernoulli(p.faults.hang_rate)) plan.hang = true;
  if (!plan.hang && plan.output_tokens > 1 && rng_.Bernoulli(p.faults.drop_midstream_rate))
    plan.drop_after = 1 + static_cast<int64_t>(rng_.Below(static_cast<uint64_t>(plan.output_tokens - 1)));
  (void)now;
  return plan;
}

Admission TierModel::Arrive(TimePoint now, const WorkItem& w, ServicePlan* plan) {
  if (InOutage(now)) return Admission::kOutage;
  if (!TakeRateToken(now)) return Admission::kRateLimited;
  if (rng_.Bernoulli(profile_.faults.error_rate)) return Admission::kError;
  if (const int gpu = LeastBusyGpu(); gpu_active_[static_cast<size_t>(gpu)] < profile_.max_concurrency) {
    *plan = StartOn(now, w, gpu);
    return Admission::kStarted;
  }
  if (queued() >= profile_.max_queue) return Admission::kQueueFull;
  queue_.push_back(w);
  return Admission::kQueued;
}

std::vector<std::pair<WorkItem, ServicePlan>> TierModel::Release(TimePoint now, uint64_t ticket) {
  std::vector<std::pair<WorkItem, ServicePlan>> started;
  auto it = std::find_if(running_.begin(), running_.end(), [&](const Running& r) { return r.ticket == ticket; });
  if (it != running_.end()) {
    --gpu_active_[static_cast<size_t>(it->gpu)];
    running_.erase(it);
  } else {
    auto q = std::find_if(queue_.begin(), queue_.end(), [&](const WorkItem& w) { return w.ticket == ticket; });
    if (q != queue_.end()) queue_.erase(q);
    return started;  // a queued request left: no slot was freed
  }
  while (!queue_.empty()) {
    const int gpu = LeastBusyGpu();
    if (gpu_active_[static_cast<size_t>(gpu)] >= profile_.max_concurrency) break;
    WorkItem w = queue_.front();
    queue_.pop_front();
    started.emplace_back(w, StartOn(now, w, gpu));
  }
  return started;
}

}  // namespace mec
