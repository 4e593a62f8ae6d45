#include "emulate/tier_model.h"

#include <algorithm>
#include <cmath>

namespace mec {

TierModel::TierModel(TierProfile profile, Rng rng, TimePoint start, EngineFeatures engine)
    : profile_(std::move(profile)), rng_(rng), start_(start), bucket_at_(start), engine_(engine) {
  bucket_tokens_ = profile_.rate_limit_rps;
  gpu_active_.assign(static_cast<size_t>(std::max(1, profile_.gpus)), 0);
  if (!engine_.enabled) return;
  const size_t slots = static_cast<size_t>(std::max(1, profile_.gpus)) * static_cast<size_t>(profile_.max_concurrency);
  slot_task_.assign(slots, 0);
  slot_decoded_.assign(slots, 0);
  slot_busy_.assign(slots, 0);
  const int64_t kv = profile_.kv_capacity_tokens * std::max(1, profile_.gpus);
  prefix_capacity_ = kv > 0 ? static_cast<size_t>(std::max<int64_t>(1, kv / kPrefixBlockTokens)) : 8192;
  if (!engine_.load_on_demand) {
    resident_ = true;
    ready_at_ = start + FromMillis(profile_.load_ms);
  }
}

int TierModel::LeastBusyGpu() const {
  return static_cast<int>(std::min_element(gpu_active_.begin(), gpu_active_.end()) - gpu_active_.begin());
}

ServicePlan TierModel::StartOn(TimePoint now, const WorkItem& w, int gpu) {
  if (!engine_.enabled) {
    running_.push_back({w.ticket, gpu});
    const int streams = ++gpu_active_[static_cast<size_t>(gpu)];
    return Plan(now, w, streams);
  }
  const int streams = ++gpu_active_[static_cast<size_t>(gpu)];
  const int64_t hit = engine_.prefix_cache ? LookUpPrefix(w) : 0;
  WorkItem prefill = w;  // a cached prefix is not prefilled again
  prefill.input_tokens = w.input_tokens - hit;
  ServicePlan plan = Plan(now, prefill, streams);
  if (now < ready_at_) plan.ttft += ready_at_ - now;  // waits for an on-demand load
  prompt_seen_ += w.input_tokens;
  prompt_tokens_ += prefill.input_tokens;
  max_prompt_ = std::max(max_prompt_, w.input_tokens);
  // The GPU's first free slot.
  const size_t per_gpu = static_cast<size_t>(profile_.max_concurrency);
  int slot = -1;
  for (size_t k = static_cast<size_t>(gpu) * per_gpu; k < static_cast<size_t>(gpu + 1) * per_gpu; ++k)
    if (!slot_busy_[k]) {
      slot = static_cast<int>(k);
      break;
    }
  if (slot >= 0) {
    slot_busy_[static_cast<size_t>(slot)] = 1;
    slot_task_[static_cast<size_t>(slot)] = w.ticket;
    slot_decoded_[static_cast<size_t>(slot)] = 0;
  }
  running_.push_back({w.ticket, gpu, now, plan, w.input_tokens, slot});
  return plan;
}

int64_t TierModel::Generated(TimePoint now, const Running& r) {
  const Duration since = now - r.start - r.plan.ttft;
  if (since < Duration::zero() || r.plan.hang) return 0;
  if (r.plan.per_token <= Duration::zero()) return r.plan.output_tokens;
  return std::min<int64_t>(r.plan.output_tokens, 1 + since / r.plan.per_token);
}

int64_t TierModel::HeldTokens(TimePoint now, int gpu) const {
  int64_t held = 0;
  for (const auto& r : running_)
    if (r.gpu == gpu) held += r.input_tokens + Generated(now, r);
  return held;
}

bool TierModel::CanStart(TimePoint now, const WorkItem& w, int* gpu) const {
  *gpu = LeastBusyGpu();
  const int busy = gpu_active_[static_cast<size_t>(*gpu)];
  if (busy >= profile_.max_concurrency) return false;
  // vLLM: the prompt's blocks must fit the free cache; a lone prompt always starts (no deadlock).
  if (engine_.kv_admission && profile_.kv_capacity_tokens > 0 && busy > 0 &&
      HeldTokens(now, *gpu) + w.input_tokens > profile_.kv_capacity_tokens)
    return false;
  return true;
}

int64_t TierModel::LookUpPrefix(const WorkItem& w) {
  int64_t matched = 0;
  for (uint64_t h : w.prefix_blocks) {
    if (!prefix_index_.count(h)) break;
    ++matched;
  }
  // The last prompt token is always computed (its logits start the answer), as in vLLM.
  const int64_t hit = std::clamp<int64_t>(matched * kPrefixBlockTokens, 0, std::max<int64_t>(0, w.input_tokens - 1));
  prefix_queries_ += w.input_tokens;
  prefix_hits_ += hit;
  // Tail blocks first, so that the head is the most recent and the tail is evicted first (vLLM
  // frees a request's blocks in reverse order for the same reason): a prefix stays usable.
  for (auto h = w.prefix_blocks.rbegin(); h != w.prefix_blocks.rend(); ++h) {
    if (auto it = prefix_index_.find(*h); it != prefix_index_.end()) prefix_lru_.erase(it->second);
    prefix_lru_.push_front(*h);
    prefix_index_[*h] = prefix_lru_.begin();
  }
  while (prefix_lru_.size() > prefix_capacity_) {
    prefix_index_.erase(prefix_lru_.back());
    prefix_lru_.pop_back();
  }
  return hit;
}

bool TierModel::IdleExpired(TimePoint now) const {
  return engine_.load_on_demand && resident_ && running_.empty() && queue_.empty() &&
         now >= idle_since_ + FromSeconds(profile_.keep_alive_s);
}

void TierModel::EnsureLoaded(TimePoint now) {
  if (IdleExpired(now)) resident_ = false;
  if (resident_) return;
  resident_ = true;
  ready_at_ = now + FromMillis(profile_.load_ms);
}

EngineSnapshot TierModel::Engine(TimePoint now, bool with_slots) const {
  EngineSnapshot s;
  s.waiting = queued();
  s.running = active();
  const int gpus = static_cast<int>(gpu_active_.size());
  double usage = 0;
  for (int g = 0; g < gpus; ++g) {
    const int64_t held = HeldTokens(now, g);
    s.kv_tokens += held;
    if (profile_.kv_capacity_tokens > 0) usage += std::min(1.0, static_cast<double>(held) / static_cast<double>(profile_.kv_capacity_tokens));
  }
  s.kv_usage = usage / gpus;
  s.prefix_queries = prefix_queries_;
  s.prefix_hits = prefix_hits_;
  s.prompt_tokens_seen = prompt_seen_;
  s.prompt_tokens = prompt_tokens_;
  s.tokens_predicted = tokens_predicted_;
  s.tokens_generated = tokens_predicted_;
  for (const auto& r : running_) s.tokens_generated += Generated(now, r);
  s.max_prompt_tokens = max_prompt_;
  const bool resident = resident_ && !IdleExpired(now);
  s.loading = resident && now < ready_at_;
  s.loaded = resident && now >= ready_at_;
  const bool idle = running_.empty() && queue_.empty();
  s.expires_at = (idle ? std::max(idle_since_, ready_at_) : now) + FromSeconds(profile_.keep_alive_s);
  if (with_slots) {
    s.slots.resize(slot_busy_.size());
    for (size_t k = 0; k < slot_busy_.size(); ++k) {
      SlotView& v = s.slots[k];
      v.id = static_cast<int>(k);
      v.processing = slot_busy_[k] != 0;
      v.task = slot_task_[k];
      v.n_decoded = slot_decoded_[k];
    }
    for (const auto& r : running_) {
      if (r.slot < 0) continue;
      SlotView& v = s.slots[static_cast<size_t>(r.slot)];
      v.n_decoded = Generated(now, r);
      v.n_remain = r.plan.output_tokens - v.n_decoded;
    }
  }
  return s;
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

ServicePlan TierModel::Shape(const WorkItem& w, double jitter, int streams, double window_slowdown) const {
  const auto& p = profile_;
  const double slow = p.faults.slowdown * window_slowdown;
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
  double window = 1;
  const double t = ToSeconds(now - start_);
  for (const auto& s : p.slow_windows)
    if (t >= s.from_s && t < s.to_s) window *= s.factor;
  ServicePlan plan = Shape(w, jitter, streams, window);
  if (rng_.Bernoulli(p.faults.hang_rate)) plan.hang = true;
  if (!plan.hang && plan.output_tokens > 1 && rng_.Bernoulli(p.faults.drop_midstream_rate))
    plan.drop_after = 1 + static_cast<int64_t>(rng_.Below(static_cast<uint64_t>(plan.output_tokens - 1)));
  return plan;
}

Admission TierModel::Arrive(TimePoint now, const WorkItem& w, ServicePlan* plan) {
  if (InOutage(now)) return Admission::kOutage;
  if (engine_.enabled && !engine_.load_on_demand && now < ready_at_) return Admission::kLoading;
  if (!TakeRateToken(now)) return Admission::kRateLimited;
  if (rng_.Bernoulli(profile_.faults.error_rate)) return Admission::kError;
  if (engine_.enabled) {
    if (engine_.load_on_demand) EnsureLoaded(now);
    if (int gpu = 0; queue_.empty() && CanStart(now, w, &gpu)) {
      *plan = StartOn(now, w, gpu);
      return Admission::kStarted;
    }
    if (queued() >= profile_.max_queue) return Admission::kQueueFull;
    queue_.push_back(w);
    return Admission::kQueued;
  }
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
    if (engine_.enabled) {
      const int64_t made = Generated(now, *it);
      tokens_predicted_ += made;
      if (it->slot >= 0) {
        slot_busy_[static_cast<size_t>(it->slot)] = 0;
        slot_decoded_[static_cast<size_t>(it->slot)] = made;
      }
    }
    running_.erase(it);
  } else {
    auto q = std::find_if(queue_.begin(), queue_.end(), [&](const WorkItem& w) { return w.ticket == ticket; });
    if (q != queue_.end()) queue_.erase(q);
    return started;  // a queued request left: no slot was freed
  }
  while (!queue_.empty()) {
    int gpu = LeastBusyGpu();
    if (engine_.enabled ? !CanStart(now, queue_.front(), &gpu) : gpu_active_[static_cast<size_t>(gpu)] >= profile_.max_concurrency) break;
    WorkItem w = queue_.front();
    queue_.pop_front();
    started.emplace_back(w, StartOn(now, w, gpu));
  }
  if (engine_.enabled && running_.empty()) idle_since_ = now;
  return started;
}

}  // namespace mec
