#include "cli/demo_report.h"

#include <algorithm>

#include "context/use_cases.h"
#include "core/json_writer.h"

namespace mec::cli {
namespace {

void Latency(JsonWriter& w, std::string_view key, const sim::LatencySummary& s) {
  w.Key(key).BeginObject().Field("mean", s.mean).Field("p50", s.p50).Field("p95", s.p95).Field("p99", s.p99).EndObject();
}

}  // namespace

std::vector<DemoUseCase> SummarizeUseCases(const sim::Scenario& s, const std::vector<DemoOutcome>& outcomes) {
  std::vector<DemoUseCase> out(s.use_cases.size());
  std::vector<std::vector<float>> e2e(s.use_cases.size()), ttft(s.use_cases.size());
  for (size_t u = 0; u < s.use_cases.size(); ++u) {
    out[u].key = s.use_cases[u].key;
    if (const UseCaseDefaults* d = FindUseCase(out[u].key)) {
      if (d->deadline_ms) out[u].deadline_ms = *d->deadline_ms;
      out[u].ttft_deadline_ms = d->ttft_deadline_ms;
    }
  }
  for (const auto& o : outcomes) {
    if (o.use_case < 0 || static_cast<size_t>(o.use_case) >= out.size()) continue;
    DemoUseCase& uc = out[static_cast<size_t>(o.use_case)];
    ++uc.requests;
    uc.met += o.met_deadline;
    if (!o.answered) continue;
    ++uc.answered;
    e2e[static_cast<size_t>(o.use_case)].push_back(static_cast<float>(o.latency_ms));
    if (o.ttft_ms >= 0) ttft[static_cast<size_t>(o.use_case)].push_back(static_cast<float>(o.ttft_ms));
    uc.device += o.tier == "device";
    uc.edge += o.tier == "edge";
    uc.cloud += o.tier == "cloud";
  }
  for (size_t u = 0; u < out.size(); ++u) {
    out[u].e2e_ms = sim::Summarize(std::move(e2e[u]));
    out[u].ttft_ms = sim::Summarize(std::move(ttft[u]));
  }
  return out;
}

std::string DemoJson(const DemoRunInfo& info, const sim::Scenario& s, std::vector<DemoOutcome> outcomes) {
  std::sort(outcomes.begin(), outcomes.end(), [](const DemoOutcome& a, const DemoOutcome& b) { return a.index < b.index; });
  const std::vector<DemoUseCase> ucs = SummarizeUseCases(s, outcomes);
  size_t answered = 0, met = 0, tc_n = 0, tc_met = 0, device = 0, edge = 0, cloud = 0;
  for (const auto& u : ucs) {
    answered += u.answered;
    met += u.met;
    device += u.device;
    edge += u.edge;
    cloud += u.cloud;
    if (u.deadline_ms <= 3000) {  // time-critical, as the simulator's metrics define it
      tc_n += u.requests;
      tc_met += u.met;
    }
  }
  auto share = [](size_t k, size_t n) { return n ? static_cast<double>(k) / static_cast<double>(n) : 0.0; };
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("scenario", info.scenario).Field("seed", info.seed).Field("mode", info.mode);
  w.Field("rate_per_s", info.rate_per_s).Field("duration_s", info.duration_s).Field("outage", info.outage);
  w.Field("requests", static_cast<int64_t>(outcomes.size())).Field("answered", static_cast<int64_t>(answered));
  w.Field("deadline_attainment", share(met, outcomes.size()));
  w.Key("time_critical").BeginObject().Field("deadline_attainment", share(tc_met, tc_n)).EndObject();
  w.Key("tier_share").BeginObject().Field("device", share(device, answered)).Field("edge", share(edge, answered));
  w.Field("cloud", share(cloud, answered)).EndObject();
  w.Key("use_cases").BeginObject();
  for (const auto& u : ucs) {
    if (u.requests == 0) continue;  // as the simulator's JSON would show it: requests 0
    w.Key(u.key).BeginObject().Field("requests", static_cast<int64_t>(u.requests)).Field("answered", static_cast<int64_t>(u.answered));
    w.Field("deadline_attainment", u.attainment());
    Latency(w, "e2e_ms", u.e2e_ms);
    Latency(w, "ttft_ms", u.ttft_ms);
    w.Key("tiers").BeginObject().Field("device", static_cast<int64_t>(u.device)).Field("edge", static_cast<int64_t>(u.edge));
    w.Field("cloud", static_cast<int64_t>(u.cloud)).EndObject().EndObject();
  }
  w.EndObject();
  w.Key("outcomes").BeginArray();
  for (const auto& o : outcomes) {
    w.BeginObject().Field("i", static_cast<int64_t>(o.index)).Field("use_case", s.use_cases[static_cast<size_t>(o.use_case)].key);
    w.Field("tier", o.answered ? o.tier : std::string("none"));
    w.Key("ttft_ms");
    if (o.answered && o.ttft_ms >= 0) w.Number(o.ttft_ms);
    else w.Null();
    w.Key("e2e_ms");
    if (o.answered) w.Number(o.latency_ms);
    else w.Null();
    w.Field("met", o.met_deadline).Field("attempts", o.attempts).Field("hedged", o.hedged).Field("failure", o.error);
    w.Field("input_tokens", o.input_tokens).Field("output_tokens", o.output_tokens).EndObject();
  }
  w.EndArray().EndObject();
  out += '\n';
  return out;
}

}  // namespace mec::cli
