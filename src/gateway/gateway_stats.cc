#include "gateway/gateway_stats.h"

#include "core/json_writer.h"

namespace mec {

std::string GatewayStats::ToJson() const {
  std::string out;
  JsonWriter w(out);
  auto v = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  w.BeginObject()
      .Field("requests", v(requests))
      .Field("rejected", v(rejected))
      .Field("completed", v(completed))
      .Field("failed", v(failed))
      .Field("midstream_cuts", v(midstream_cuts))
      .Field("client_cancelled", v(client_cancelled))
      .Field("failovers", v(failovers))
      .Field("upstream_attempts", v(upstream_attempts))
      .Field("shed", v(shed))
      .Field("shadow_agree", v(shadow_agree))
      .Field("shadow_disagree", v(shadow_disagree))
      .Field("feedback", v(feedback))
      .EndObject();
  return out;
}

}  // namespace mec
