#include "sim/workload.h"

#include <algorithm>
#include <cmath>

#include "context/learned_complexity_model.h"
#include "core/rng.h"
#include "learn/router_eval_data.h"
#include "sim/trace_reader.h"

namespace mec::sim {

Result<PromptSet> LoadHeldOutPrompts(const std::string& data_dir) {
  const std::string dir = data_dir + "/router_eval/";
  auto labels = ReadCorrectnessCsv(dir + "routellm_mmlu_gsm8k_correctness.csv");
  if (!labels.ok()) return labels.status();
  auto prompts = ReadPromptsJsonl(dir + "routellm_prompts.jsonl");
  if (!prompts.ok()) return prompts.status();
  PromptSet set;
  set.mode = "data";
  for (const auto& it : *labels) {
    if (IsComplexityTrainId(it.item_id)) {
      ++set.skipped_train;
      continue;
    }
    if (it.contaminated) {
      ++set.skipped_contaminated;
      continue;
    }
    auto p = prompts->find(it.item_id);
    if (p == prompts->end()) return Status::InvalidArgument("router_eval: no prompt for " + it.item_id);
    set.items.push_back({it.item_id, p->second, it.weak_correct, it.strong_correct, it.benchmark == "gsm8k"});
  }
  if (set.items.empty()) return Status::InvalidArgument("router_eval: no held-out prompts in " + dir);
  return set;
}

std::vector<ClientSpec> MakeFleet(const Scenario& s, uint64_t seed) {
  std::vector<ClientSpec> fleet(static_cast<size_t>(s.clients));
  double total = 0;
  for (const auto& d : s.device_classes) total += d.share;
  Rng links(seed, "fleet/links");
  for (size_t i = 0; i < fleet.size(); ++i) {
    const double x = (static_cast<double>(i) + 0.5) / static_cast<double>(fleet.size()) * total;
    double acc = 0;
    size_t c = 0;
    for (; c + 1 < s.device_classes.size(); ++c) {
      acc += s.device_classes[c].share;
      if (x < acc) break;
    }
    fleet[i].device_class = static_cast<uint16_t>(c);
    const auto& cls = s.device_classes[c];
    double lt = 0;
    for (const auto& [n, sh] : cls.links) lt += sh;
    double u = links.Uniform() * lt, la = 0;
    size_t li = 0;
    for (; li + 1 < cls.links.size(); ++li) {
      la += cls.links[li].second;
      if (u < la) break;
    }
    const std::string& link_name = cls.links.empty() ? s.links.front().name : cls.links[li].first;
    for (size_t k = 0; k < s.links.size(); ++k)
      if (s.links[k].name == link_name) fleet[i].link = static_cast<uint16_t>(k);
    // With prefix caching the sites are one MEC site's replicas: every client lists them in the
    // same order (no replica is any client's own, so none is an affinity by itself).
    fleet[i].home_site = s.prefix_cache.enabled ? 0 : static_cast<uint16_t>(i % s.edge_sites.size());
  }
  return fleet;
}

namespace {

std::vector<SimRequest> Generate(const Scenario& s, const std::vector<ClientSpec>& fleet, const PromptSet& prompts, int64_t count,
                                 uint64_t seed, const std::vector<TraceRow>* trace) {
  // Clients per use case.
  std::vector<std::vector<uint32_t>> eligible(s.use_cases.size());
  for (size_t u = 0; u < s.use_cases.size(); ++u)
    for (uint32_t c = 0; c < fleet.size(); ++c)
      for (const auto& name : s.use_cases[u].clients)
        if (s.DeviceClassIndex(name) == fleet[c].device_class) eligible[u].push_back(c);
  double share_total = 0;
  for (const auto& u : s.use_cases) share_total += u.share;

  Rng arrivals(seed, "workload/arrivals"), cases(seed, "workload/use-cases"), clients(seed, "workload/clients"),
      pick(seed, "workload/prompts"), tokens(seed, "workload/tokens"), device(seed, "workload/device-correct");
  std::vector<SimRequest> out;
  out.reserve(static_cast<size_t>(count));
  double t = 0;
  for (int64_t i = 0; i < count; ++i) {
    SimRequest r;
    // Drawn in trace mode too: the other streams stay aligned. In a burst the rate is multiplied
    // (the gap's rate is the one at its start: a close approximation for gaps far shorter than
    // the burst).
    double rate = s.rate_per_s;
    for (const auto& b : s.bursts)
      if (t >= b.from_s && t < b.to_s) rate *= b.factor;
    t += arrivals.Exponential(1.0 / rate);
    r.arrival_s = trace ? (*trace)[static_cast<size_t>(i)].arrival_s : t;
    double x = cases.Uniform() * share_total, acc = 0;
    size_t u = 0;
    for (; u + 1 < s.use_cases.size(); ++u) {
      acc += s.use_cases[u].share;
      if (x < acc) break;
    }
    // One conversation (a trace row's second block id names it, with prefix_cache): one use case
    // and one client, chosen from the id; the draws above and below are made all the same.
    const TraceRow* row = trace ? &(*trace)[static_cast<size_t>(i)] : nullptr;
    const bool conversation = row && s.prefix_cache.enabled && row->blocks.size() >= 2;
    const uint64_t conv = conversation ? Fnv1a64(std::to_string(row->blocks[1])) : 0;
    if (conversation) {
      const double y = static_cast<double>(conv % 1000003) / 1000003.0 * share_total;
      double acc2 = 0;
      for (u = 0; u + 1 < s.use_cases.size(); ++u) {
        acc2 += s.use_cases[u].share;
        if (y < acc2) break;
      }
    }
    r.use_case = static_cast<uint16_t>(u);
    const auto& el = eligible[u];
    r.client = el.empty() ? 0 : el[clients.Below(el.size())];
    if (conversation && !el.empty()) r.client = el[(conv / 1000003) % el.size()];
    r.prompt = static_cast<uint32_t>(pick.Below(prompts.items.size()));
    const auto& uc = s.use_cases[u];
    r.input_tokens = static_cast<int32_t>(std::max<long>(1, std::lround(tokens.LognormalWithMean(uc.input_tokens, s.token_sigma))));
    r.output_tokens = static_cast<int32_t>(std::max<long>(1, std::lround(tokens.LognormalWithMean(uc.output_tokens, s.token_sigma))));
    if (trace) {
      const auto& row = (*trace)[static_cast<size_t>(i)];
      r.input_tokens = static_cast<int32_t>(std::clamp<int64_t>(row.input_tokens, 1, 1 << 30));
      r.output_tokens = static_cast<int32_t>(std::clamp<int64_t>(row.output_tokens, 1, 1 << 30));
      if (s.prefix_cache.enabled) r.blocks = row.blocks;
    }
    const auto& item = prompts.items[r.prompt];
    const auto& cls = s.device_classes[fleet[r.client].device_class];
    const double ratio = item.gsm8k ? cls.accuracy_ratio_gsm8k : cls.accuracy_ratio_mmlu;
    const bool keep = device.Uniform() < ratio;  // drawn for every request: the stream stays aligned
    r.device_correct = item.edge_correct && keep;
    out.push_back(r);
  }
  return out;
}

}  // namespace

std::vector<SimRequest> MakeWorkload(const Scenario& s, const std::vector<ClientSpec>& fleet, const PromptSet& prompts,
                                     int64_t count, uint64_t seed) {
  return Generate(s, fleet, prompts, count, seed, nullptr);
}

std::vector<SimRequest> MakeWorkloadFromTrace(const Scenario& s, const std::vector<ClientSpec>& fleet, const PromptSet& prompts,
                                              const std::vector<TraceRow>& trace, int64_t count, uint64_t seed) {
  return Generate(s, fleet, prompts, std::min<int64_t>(count, static_cast<int64_t>(trace.size())), seed, &trace);
}

}  // namespace mec::sim
