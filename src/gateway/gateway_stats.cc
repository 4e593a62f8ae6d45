#include "gateway/gateway_stats.h"

#include "core/json_writer.h"

namespace mec {

std::string GatewayStats::ToJson() const {
  std::string out;
  JsonWriter w(out);
  auto v = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  // Terminal counters first, then requests: a request counted in between shows as in flight.
  const uint64_t ended = v(rejected) + v(completed) + v(failed) + v(midstream_cuts) + v(client_cancelled) + v(shed);
  const uint64_t all = v(requests);
  w.BeginObject()
      .Field("requests", all)
      .Field("in_flight", all > ended ? all - ended : 0)
      .Field("rejected", v(rejected))
      .Field("completed", v(completed))
      .Field("failed", v(failed))
      .Field("midstream_cuts", v(midstream_cuts))
      .Field("client_cancelled", v(client_cancelled))
      .Field("failovers", v(failovers))
      .Field("upstream_attempts", v(upstream_attempts))
      .Field("hedges", v(hedges))
      .Field("hedge_wins", v(hedge_wins))
      .Field("hedge_cost_usd", static_cast<double>(v(hedge_cost_nano_usd)) / 1e9)
      .Field("shed", v(shed))
      .Field("shadow_agree", v(shadow_agree))
      .Field("shadow_disagree", v(shadow_disagree))
      .Field("feedback", v(feedback))
      .Field("cache_hits", v(cache_hits))
      .Field("continuations", v(continuations))
      .EndObject();
  return out;
}

}  // namespace mec
