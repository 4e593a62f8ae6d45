#include "backend/vllm_metrics.h"

#include <algorithm>
#include <array>

#include "backend/prometheus_text.h"

namespace mec {
namespace {

enum Name { kWaiting, kRunning, kKv, kKvOld, kQueries, kHits, kQueriesOld, kHitsOld, kNameCount };
constexpr std::array<std::string_view, kNameCount> kNames = {
    "vllm:num_requests_waiting",          "vllm:num_requests_running",
    "vllm:kv_cache_usage_perc",           "vllm:gpu_cache_usage_perc",
    "vllm:prefix_cache_queries_total",    "vllm:prefix_cache_hits_total",
    "vllm:gpu_prefix_cache_queries_total", "vllm:gpu_prefix_cache_hits_total"};

}  // namespace

Result<VllmMetrics> ParseVllmMetrics(std::string_view text) {
  std::vector<PromTotal> t;
  if (Status s = SumPromSamples(text, kNames, t); !s.ok()) return Status::InvalidArgument("vLLM /metrics: " + s.message());
  if (t[kWaiting].count == 0 && t[kRunning].count == 0)
    return Status::InvalidArgument("vLLM /metrics: no vllm:num_requests_waiting or vllm:num_requests_running sample");
  VllmMetrics m;
  m.load.waiting = t[kWaiting].Sum();
  m.load.running = t[kRunning].Sum();
  auto kv = t[kKv].count > 0 ? t[kKv].Mean() : t[kKvOld].Mean();
  if (kv) m.load.kv_usage = std::clamp(*kv, 0.0, 1.0);
  const bool current = t[kQueries].count > 0 && t[kHits].count > 0;
  const PromTotal& q = current ? t[kQueries] : t[kQueriesOld];
  const PromTotal& h = current ? t[kHits] : t[kHitsOld];
  if (q.count > 0 && h.count > 0) m.prefix = PrefixCacheCounters{q.sum, h.sum};
  return m;
}

}  // namespace mec
