#include "sim/client_engine.h"

#include <algorithm>

#include "emulate/tier_model.h"

namespace mec::sim {

// What a client's engine expects of a backend before measuring it (config `expect:`), from the
// tier model itself: its noise-free TTFT for a 200-token prompt (the size the router's prefill
// term is relative to, route/predict.cc), its single-stream decode rate, and the link's median RTT.
ExpectOptions ProfilePriors(const TierProfile& p, double rtt_ms) {
  TierModel m(p, Rng(0), TimePoint{});
  WorkItem w;
  w.input_tokens = 200;
  w.output_tokens = 1;
  const ServicePlan plan = m.ExpectedPlan(w);
  ExpectOptions e;
  e.ttft_ms = ToMillis(plan.ttft) + rtt_ms;
  e.tokens_per_s = p.decode_tokens_per_s > 0 ? p.decode_tokens_per_s : 1000;
  e.rtt_ms = std::max(1.0, rtt_ms);
  return e;
}

std::vector<int> SiteOrder(const Scenario& s, int home_site) {
  std::vector<int> order = {home_site};
  for (int i = 0; i < static_cast<int>(s.edge_sites.size()); ++i)
    if (i != home_site) order.push_back(i);
  return order;
}

std::vector<BackendOptions> ClientBackends(const Scenario& s, const DeviceClassSpec& d, const LinkSpec& link, int home_site) {
  std::vector<BackendOptions> v;
  const bool profile_priors = s.priors == "profile";
  auto base = [&](std::string name, Tier t, const TierProfile& p, double rtt_ms) {
    BackendOptions o;
    o.name = std::move(name);
    o.tier = t;
    o.url = "sim://" + o.name + "/v1";
    o.models = {p.model};
    o.context_window = p.context_window;
    o.timeouts = s.timeouts;
    o.health_check.enabled = false;  // ASSUMPTION: clients rely on passive outlier detection (docs/simulator.md)
    o.expect = profile_priors ? ProfilePriors(p, rtt_ms) : TierDefaultExpect(t);
    o.can_continue = std::find(s.continue_tiers.begin(), s.continue_tiers.end(), t) != s.continue_tiers.end();
    return o;
  };
  BackendOptions dev = base("device", Tier::kDevice, d.profile, 0);
  if (s.device_timeouts) dev.timeouts = *s.device_timeouts;
  dev.max_concurrency = d.profile.max_concurrency;
  dev.price.watts = d.watts;
  dev.price.usd_per_kwh = s.usd_per_kwh;
  v.push_back(dev);
  for (int i : SiteOrder(s, home_site)) {
    const auto& e = s.edge_sites[i];
    const double rtt = link.rtt_edge_ms + (i == home_site ? 0 : e.other_site_extra_rtt_ms);
    BackendOptions o = base(e.name, Tier::kEdge, e.profile, rtt);
    o.price = s.edge_price;
    if (s.engine_signals.enabled) {  // the site's vLLM, read by the simulator's poll (sim/simulator.cc)
      o.engine.kind = EngineKind::kVllm;
      o.engine.poll_ms = static_cast<int64_t>(s.engine_signals.poll_ms);
      o.engine.stale_ms = static_cast<int64_t>(s.engine_signals.stale_ms);
      o.engine.max_waiting = s.engine_signals.max_waiting;
    }
    v.push_back(o);
  }
  BackendOptions c = base("cloud", Tier::kCloud, s.cloud, link.rtt_cloud_ms);
  c.price = s.cloud_price;
  v.push_back(c);
  return v;
}


}  // namespace mec::sim
