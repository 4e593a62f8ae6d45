#include "sim/outcomes.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "context/use_cases.h"
#include "emulate/tier_model.h"
#include "route/predict.h"
#include "sim/client_engine.h"
#include "sim/client_network.h"

namespace mec::sim {
namespace {

bool Down(const Scenario& s, const std::string& target, double t) {
  const double d = s.ExpectedDurationS();
  for (const auto& o : s.outages)
    if (o.target == target && t >= o.from * d && t < o.to * d) return true;
  return false;
}

// Noise-free TTFT and whole answer (seconds) on an idle server of profile `p`.
std::pair<double, double> Idle(const TierProfile& p, const SimRequest& r) {
  TierModel m(p, Rng(0), TimePoint{});
  WorkItem w;
  w.input_tokens = r.input_tokens;
  w.output_tokens = r.output_tokens;
  const ServicePlan plan = m.ExpectedPlan(w);
  const double ttft = ToSeconds(plan.ttft);
  return {ttft, ttft + ToSeconds(plan.per_token) * static_cast<double>(std::max<int64_t>(0, plan.output_tokens - 1))};
}

const char* TierColumn(int8_t t) { return t == 0 ? "device" : t == 1 ? "edge" : t == 2 ? "cloud" : ""; }

}  // namespace

std::vector<IdleTiming> IdleTimings(const SimInputs& in, uint64_t seed) {
  const Scenario& s = in.scenario;
  std::vector<ClientNetwork> nets;
  nets.reserve(in.fleet.size());
  for (uint32_t c = 0; c < in.fleet.size(); ++c)
    nets.emplace_back(s.links[in.fleet[c].link], s.device_classes[in.fleet[c].device_class], seed, c);
  std::vector<IdleTiming> out(in.requests.size());
  for (size_t i = 0; i < in.requests.size(); ++i) {
    const SimRequest& r = in.requests[i];
    const ClientSpec& spec = in.fleet[r.client];
    const DeviceClassSpec& cls = s.device_classes[spec.device_class];
    const LinkSpec& link = s.links[spec.link];
    ClientNetwork& net = nets[r.client];
    IdleTiming& t = out[i];
    t.offline = net.Offline(TimePoint{} + FromSeconds(r.arrival_s));
    const auto [dev_ttft, dev_e2e] = Idle(cls.profile, r);
    t.device_ttft_ms = static_cast<float>(dev_ttft * 1000);
    t.device_e2e_ms = static_cast<float>(dev_e2e * 1000);
    PriceOptions dev_price;
    dev_price.watts = cls.watts;
    dev_price.usd_per_kwh = s.usd_per_kwh;
    t.device_cost_usd = ExpectedCost(dev_price, r.input_tokens, r.output_tokens, dev_e2e);
    t.upload_ms = static_cast<float>(net.UploadS(r.input_tokens) * 1000);
    // The edge: the home site, else the nearest other site that is up.
    t.edge_up = false;
    for (int site : SiteOrder(s, spec.home_site)) {
      const auto& e = s.edge_sites[static_cast<size_t>(site)];
      if (Down(s, e.name, r.arrival_s)) continue;
      const auto [ttft, e2e] = Idle(e.profile, r);
      t.edge_up = true;
      t.edge_rtt_ms = static_cast<float>(link.rtt_edge_ms + (site == spec.home_site ? 0 : e.other_site_extra_rtt_ms));
      t.edge_server_ttft_ms = static_cast<float>(ttft * 1000);
      t.edge_e2e_ms = static_cast<float>(e2e * 1000 + t.edge_rtt_ms + t.upload_ms);
      t.edge_cost_usd = ExpectedCost(s.edge_price, r.input_tokens, r.output_tokens, e2e);
      break;
    }
    t.cloud_up = !Down(s, "cloud", r.arrival_s);
    const auto [cl_ttft, cl_e2e] = Idle(s.cloud, r);
    t.cloud_rtt_ms = static_cast<float>(link.rtt_cloud_ms);
    t.cloud_server_ttft_ms = static_cast<float>(cl_ttft * 1000);
    t.cloud_e2e_ms = static_cast<float>(cl_e2e * 1000 + t.cloud_rtt_ms + t.upload_ms);
    t.cloud_cost_usd = ExpectedCost(s.cloud_price, r.input_tokens, r.output_tokens, cl_e2e);
  }
  return out;
}

void WriteOutcomesCsv(std::ostream& out, const SimInputs& in, const std::vector<IdleTiming>& idle, const std::vector<PolicyRun>& runs) {
  const Scenario& s = in.scenario;
  out << "policy,request,arrival_s,client,use_case,deadline_ms,ttft_deadline_ms,min_quality,client_class,link,home_site,"
         "input_tokens,output_tokens,device_correct,edge_correct,cloud_correct,"
         "offline,edge_up,cloud_up,device_ttft_ms,device_e2e_ms,edge_server_ttft_ms,edge_e2e_ms,cloud_server_ttft_ms,cloud_e2e_ms,"
         "edge_rtt_ms,cloud_rtt_ms,rtt_sigma,upload_ms,loss,rto_ms,device_jitter,edge_jitter,cloud_jitter,"
         "device_cost_usd,edge_cost_usd,cloud_cost_usd,"
         "q_device,q_edge,q_cloud,chosen_quality,quality_bar,p_meet_device,p_meet_edge,p_meet_cloud,completed,tier,ttft_ms,e2e_ms,met_deadline,correct,as_good,cost_usd,"
         "attempts,hedges,failovers,continued,answer_sent_ms,slot_wait_ms,failure\n";
  std::string row;
  for (const auto& run : runs) {
    for (size_t i = 0; i < run.outcomes.size() && i < in.requests.size(); ++i) {
      const SimRequest& r = in.requests[i];
      const ClientSpec& spec = in.fleet[r.client];
      const DeviceClassSpec& cls = s.device_classes[spec.device_class];
      const LinkSpec& link = s.links[spec.link];
      const UseCaseSpec& uc = s.use_cases[r.use_case];
      const UseCaseDefaults* d = FindUseCase(uc.key);
      const auto& item = in.prompts.items[r.prompt];
      const IdleTiming& t = idle[i];
      const RequestOutcome& o = run.outcomes[i];
      const auto& edge = s.edge_sites[spec.home_site].profile;
      row.clear();
      auto add = [&](const auto& v) { fmt::format_to(std::back_inserter(row), "{},", v); };
      auto opt = [&](const std::optional<double>& v) { v ? add(*v) : add(""); };
      add(run.policy);
      add(i);
      add(r.arrival_s);
      add(r.client);
      add(uc.key);
      opt(d ? d->deadline_ms : std::nullopt);
      opt(d ? d->ttft_deadline_ms : std::nullopt);
      add(d ? d->min_quality : 0.0);
      add(cls.name);
      add(link.name);
      add(spec.home_site);
      add(r.input_tokens);
      add(r.output_tokens);
      add(int{r.device_correct});
      add(int{item.edge_correct});
      add(int{item.cloud_correct});
      add(int{t.offline});
      add(int{t.edge_up});
      add(int{t.cloud_up});
      for (float v : {t.device_ttft_ms, t.device_e2e_ms, t.edge_server_ttft_ms, t.edge_e2e_ms, t.cloud_server_ttft_ms, t.cloud_e2e_ms,
                      t.edge_rtt_ms, t.cloud_rtt_ms})
        add(v);
      add(link.rtt_sigma);
      add(t.upload_ms);
      add(link.loss);
      add(link.rto_ms);
      add(cls.profile.ttft_jitter_sigma);
      add(edge.ttft_jitter_sigma);
      add(s.cloud.ttft_jitter_sigma);
      add(t.device_cost_usd);
      add(t.edge_cost_usd);
      add(t.cloud_cost_usd);
      for (float q : o.tier_quality) add(q);
      add(o.chosen_quality);
      add(o.quality_bar);
      for (float p : o.p_meet) add(p);
      add(int{o.completed});
      add(TierColumn(o.tier));
      add(o.ttft_ms);
      add(o.e2e_ms);
      add(int{o.met_deadline});
      add(int{o.correct});
      add(int{o.as_good});
      add(o.cost_usd);
      add(int{o.attempts});
      add(int{o.hedges});
      add(int{o.failovers});
      add(int{o.continued});
      add(o.answer_sent_ms);
      add(o.slot_wait_ms);
      row += FailureReasonName(o.failure);
      row += '\n';
      out << row;
    }
  }
}

}  // namespace mec::sim
