#include "sim/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "config/options.h"
#include "context/use_cases.h"
#include "core/json_writer.h"

namespace mec::sim {

LatencySummary Summarize(std::vector<float> v) {
  LatencySummary s;
  s.n = static_cast<int64_t>(v.size());
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (float x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  auto rank = [&](double p) {
    size_t k = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
    return static_cast<double>(v[std::min(v.size() - 1, k == 0 ? 0 : k - 1)]);
  };
  s.p50 = rank(0.50);
  s.p95 = rank(0.95);
  s.p99 = rank(0.99);
  return s;
}

namespace {

struct UseCaseInfo {
  std::optional<double> deadline_ms;
  bool time_critical = false;
};

}  // namespace

namespace {

// PolicyMetrics' drift fields, for the scenario's first slowdown of an edge site.
void MeasureDrift(const PolicyRun& run, const Scenario& s, const std::vector<SimRequest>& requests, PolicyMetrics& m) {
  const OutageSpec* slow = nullptr;
  for (const auto& o : s.outages)
    if (o.slowdown > 0 && !slow) slow = &o;
  if (!slow) return;
  int site = -1;
  for (size_t k = 0; k < s.edge_sites.size(); ++k)
    if (s.edge_sites[k].name == slow->target) site = static_cast<int>(k);
  if (site < 0) return;
  const double d = s.ExpectedDurationS(), from = slow->from * d, to = slow->to * d;
  // Per second of arrival: answers, and answers from the site.
  const size_t n = std::min(run.outcomes.size(), requests.size());
  const size_t secs = n ? static_cast<size_t>(requests[n - 1].arrival_s) + 1 : 0;
  std::vector<int> all(secs, 0), at(secs, 0);
  for (size_t i = 0; i < n; ++i) {
    const auto& o = run.outcomes[i];
    if (!o.completed) continue;
    const size_t b = std::min(secs - 1, static_cast<size_t>(requests[i].arrival_s));
    ++all[b];
    at[b] += o.site == site;
  }
  auto share = [&](double a, double b) {  // over arrivals in [a, b)
    int x = 0, y = 0;
    for (size_t t = static_cast<size_t>(std::max(0.0, a)); t < secs && static_cast<double>(t) < b; ++t) x += at[t], y += all[t];
    return y ? static_cast<double>(x) / y : 0.0;
  };
  m.drift_site = slow->target;
  m.drift_baseline_share = share(from - 60, from);
  m.drift = m.drift_baseline_share > 0;  // a policy that never used the site has nothing to say
  m.drift_share_during = share(from, to);
  const double half = 0.5 * m.drift_baseline_share;
  m.drift_shift_s = m.drift_return_s = std::numeric_limits<double>::quiet_NaN();
  for (double t = std::ceil(from) + 5; t <= static_cast<double>(secs); t += 1)
    if (share(t - 5, t) <= half) {
      m.drift_shift_s = t - from;
      break;
    }
  // Back: only for traffic that left (a share that never fell to half has nothing to come back from).
  for (double t = std::ceil(to) + 5; !std::isnan(m.drift_shift_s) && t <= static_cast<double>(secs); t += 1)
    if (share(t - 5, t) >= half) {
      m.drift_return_s = t - to;
      break;
    }
}

}  // namespace

PolicyMetrics ComputeMetrics(const PolicyRun& run, const Scenario& s, const std::vector<SimRequest>& requests, double cloud_mean_cost) {
  PolicyMetrics m;
  m.policy = run.policy;
  m.model_loads = run.model_loads;
  m.prefix_query_tokens = run.prefix_query_tokens;
  m.prefix_hit_tokens = run.prefix_hit_tokens;
  m.cold_waits = run.cold_waits;
  m.learning_verdicts = run.learning_verdicts;
  m.learners = run.learners;
  std::array<double, 4> quarter_u{0, 0, 0, 0};
  std::array<int64_t, 4> quarter_n{0, 0, 0, 0};
  const size_t total = std::min(run.outcomes.size(), requests.size());
  std::vector<UseCaseInfo> info(s.use_cases.size());
  for (size_t u = 0; u < s.use_cases.size(); ++u) {
    if (const UseCaseDefaults* d = FindUseCase(s.use_cases[u].key)) {
      info[u].deadline_ms = d->deadline_ms;
      info[u].time_critical = d->deadline_ms && *d->deadline_ms <= 3000;
    }
  }
  std::vector<float> ttft, e2e, tc_e2e, tc_ttft, edge_ttft;
  std::vector<std::vector<float>> uc_e2e(s.use_cases.size());
  std::vector<int64_t> uc_n(s.use_cases.size()), uc_met(s.use_cases.size()), uc_done(s.use_cases.size()), uc_good(s.use_cases.size());
  int64_t met = 0, tc_n = 0, tc_met = 0, correct = 0;
  std::array<int64_t, 3> tiers{0, 0, 0};
  double cost = 0, utility = 0;
  const double norm = cloud_mean_cost > 0 ? cloud_mean_cost : 1;
  for (size_t i = 0; i < run.outcomes.size() && i < requests.size(); ++i) {
    const RequestOutcome& o = run.outcomes[i];
    const size_t u = requests[i].use_case;
    ++m.requests;
    ++uc_n[u];
    cost += o.cost_usd;
    m.hedges += o.hedges;
    if (o.failovers > 0) ++m.fallbacks;
    if (o.continued > 0) ++m.continued;
    const bool tc = info[u].time_critical;
    tc_n += tc;
    if (o.completed) {
      ++m.completed;
      ttft.push_back(o.ttft_ms);
      e2e.push_back(o.e2e_ms);
      uc_e2e[u].push_back(o.e2e_ms);
      if (tc) {
        tc_e2e.push_back(o.e2e_ms);
        tc_ttft.push_back(o.ttft_ms);
      }
      ++uc_done[u];
      uc_good[u] += o.as_good;
      correct += o.correct;
      if (o.tier >= 0 && o.tier < 3) ++tiers[o.tier];
      if (run.prefix_query_tokens > 0 && o.tier == static_cast<int>(Tier::kEdge)) edge_ttft.push_back(o.ttft_ms);
      if (o.met_deadline) {
        ++met;
        ++uc_met[u];
        tc_met += tc;
      }
    } else {
      ++m.failed;
      ++m.failures[FailureReasonName(o.failure)];
    }
    const double u_i = (o.completed && o.correct && o.met_deadline ? 1.0 : 0.0) - 0.5 * o.cost_usd / norm;
    utility += u_i;
    const size_t q = std::min<size_t>(3, i * 4 / std::max<size_t>(1, total));
    quarter_u[q] += u_i;
    ++quarter_n[q];
  }
  for (int q = 0; q < 4; ++q) m.utility_by_quarter[q] = quarter_n[q] ? quarter_u[q] / static_cast<double>(quarter_n[q]) : 0;
  const double n = std::max<int64_t>(1, m.requests);
  m.availability = m.completed / n;
  m.ttft_ms = Summarize(std::move(ttft));
  m.edge_ttft_ms = Summarize(std::move(edge_ttft));
  MeasureDrift(run, s, requests, m);
  m.e2e_ms = Summarize(std::move(e2e));
  m.deadline_attainment = met / n;
  m.tc_e2e_ms = Summarize(std::move(tc_e2e));
  m.tc_ttft_ms = Summarize(std::move(tc_ttft));
  m.tc_deadline_attainment = tc_n ? static_cast<double>(tc_met) / tc_n : 0;
  m.quality = m.completed ? static_cast<double>(correct) / m.completed : 0;
  m.cost_usd = cost;
  m.cost_per_1k_usd = cost / n * 1000;
  m.utility = utility / n;
  for (int t = 0; t < 3; ++t) m.tier_share[t] = m.completed ? static_cast<double>(tiers[t]) / m.completed : 0;
  for (size_t u = 0; u < s.use_cases.size(); ++u) {
    UseCaseMetrics um;
    um.requests = uc_n[u];
    um.deadline_attainment = uc_n[u] ? static_cast<double>(uc_met[u]) / uc_n[u] : 0;
    um.as_good_share = uc_done[u] ? static_cast<double>(uc_good[u]) / uc_done[u] : 0;
    um.e2e_ms = Summarize(std::move(uc_e2e[u]));
    if (const UseCaseDefaults* d = FindUseCase(s.use_cases[u].key)) um.min_quality = d->min_quality;
    um.contract_kept = um.requests == 0 || (uc_done[u] > 0 && um.as_good_share >= um.min_quality);
    m.contract_kept = m.contract_kept && um.contract_kept;
    m.use_cases[s.use_cases[u].key] = um;
  }
  return m;
}

namespace {

void Latency(JsonWriter& w, std::string_view key, const LatencySummary& s) {
  w.Key(key).BeginObject().Field("mean", s.mean).Field("p50", s.p50).Field("p95", s.p95).Field("p99", s.p99).EndObject();
}

}  // namespace

std::string MetricsJson(const ReportHeader& h, const std::vector<PolicyMetrics>& policies) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("scenario", h.scenario).Field("seed", h.seed).Field("mode", h.mode).Field("requests", h.requests);
  w.Key("policies").BeginObject();
  for (const auto& m : policies) {
    w.Key(m.policy).BeginObject();
    w.Field("requests", m.requests).Field("completed", m.completed).Field("failed", m.failed).Field("availability", m.availability);
    Latency(w, "ttft_ms", m.ttft_ms);
    Latency(w, "e2e_ms", m.e2e_ms);
    w.Field("deadline_attainment", m.deadline_attainment);
    w.Key("time_critical").BeginObject();
    Latency(w, "e2e_ms", m.tc_e2e_ms);
    Latency(w, "ttft_ms", m.tc_ttft_ms);
    w.Field("deadline_attainment", m.tc_deadline_attainment).EndObject();
    w.Field("quality", m.quality).Field("cost_usd", m.cost_usd).Field("cost_per_1k_usd", m.cost_per_1k_usd).Field("utility", m.utility);
    w.Field("contract_kept", m.contract_kept);
    w.Key("tier_share").BeginObject().Field("device", m.tier_share[0]).Field("edge", m.tier_share[1]).Field("cloud", m.tier_share[2]).EndObject();
    w.Key("utility_by_quarter").BeginArray();
    for (double u : m.utility_by_quarter) w.Number(u);
    w.EndArray();
    w.Field("fallbacks", m.fallbacks).Field("continued", m.continued).Field("hedges", m.hedges).Field("model_loads", m.model_loads).Field("cold_waits", m.cold_waits);
    w.Key("failures").BeginObject();
    for (const auto& [k, v] : m.failures) w.Field(k, v);
    w.EndObject();
    w.Key("use_cases").BeginObject();
    for (const auto& [k, u] : m.use_cases) {
      w.Key(k).BeginObject().Field("requests", u.requests).Field("deadline_attainment", u.deadline_attainment).Field("as_good_share", u.as_good_share);
      w.Field("min_quality", u.min_quality).Field("contract_kept", u.contract_kept);
      Latency(w, "e2e_ms", u.e2e_ms);
      w.EndObject();
    }
    w.EndObject();
    if (m.drift) {
      auto num = [](double x) { return std::isfinite(x) ? x : -1.0; };  // -1: never
      w.Key("drift").BeginObject().Field("site", m.drift_site).Field("baseline_share", m.drift_baseline_share);
      w.Field("share_during", m.drift_share_during).Field("shift_s", num(m.drift_shift_s)).Field("return_s", num(m.drift_return_s)).EndObject();
    }
    if (m.prefix_query_tokens > 0) {
      w.Key("prefix_cache").BeginObject().Field("query_tokens", m.prefix_query_tokens).Field("hit_tokens", m.prefix_hit_tokens);
      w.Field("hit_rate", static_cast<double>(m.prefix_hit_tokens) / static_cast<double>(m.prefix_query_tokens));
      Latency(w, "edge_ttft_ms", m.edge_ttft_ms);
      w.EndObject();
    }
    if (m.learning_verdicts > 0) {  // the loop ran and this policy answered below the cloud
      w.Key("learning").BeginObject().Field("verdicts", m.learning_verdicts);
      w.Key("learners").BeginObject();
      for (const auto& [cls, l] : m.learners) {
        w.Key(cls).BeginObject().Field("verdicts", l.sampled).Field("retrains", l.retrains).Field("promotions", l.promotions);
        w.Field("model", l.model).Field("last_gate", l.last_gate).EndObject();
      }
      w.EndObject().EndObject();
    }
    w.EndObject();
  }
  w.EndObject().EndObject();
  out += '\n';
  return out;
}

std::string OutcomesJsonl(const PolicyRun& run, const Scenario& s, const std::vector<SimRequest>& requests) {
  std::string out;
  for (size_t i = 0; i < run.outcomes.size() && i < requests.size(); ++i) {
    const RequestOutcome& o = run.outcomes[i];
    const SimRequest& r = requests[i];
    JsonWriter w(out);
    w.BeginObject().Field("policy", run.policy).Field("i", static_cast<int64_t>(i)).Field("use_case", s.use_cases[r.use_case].key);
    w.Field("tier", o.completed && o.tier >= 0 ? TierName(static_cast<Tier>(o.tier)) : std::string_view("none"));
    w.Key("ttft_ms");
    if (o.completed) w.Number(o.ttft_ms);
    else w.Null();
    w.Key("e2e_ms");
    if (o.completed) w.Number(o.e2e_ms);
    else w.Null();
    w.Field("met", o.met_deadline).Field("attempts", static_cast<int>(o.attempts));
    w.Field("failure", o.completed ? std::string_view() : std::string_view(FailureReasonName(o.failure)));
    w.Field("input_tokens", static_cast<int64_t>(r.input_tokens)).Field("output_tokens", static_cast<int64_t>(r.output_tokens)).EndObject();
    out += '\n';
  }
  return out;
}

std::string MetricsTable(const ReportHeader& h, const std::vector<PolicyMetrics>& policies) {
  std::string t = fmt::format("scenario {} | seed {} | mode {} | {} requests per policy\n\n", h.scenario, h.seed, h.mode, h.requests);
  t += fmt::format("{:<14} {:>7} {:>8} {:>8} {:>8} {:>7} | {:>8} {:>8} {:>7} | {:>7} {:>9} {:>7} {:>5} | {:>5} {:>5} {:>5} | {:>6} {:>6} {:>5}\n",
                   "policy", "avail", "e2e mean", "e2e p95", "ttft p50", "dl att", "TC p95", "TC ttft95", "TC att", "quality", "$/1k req", "U",
                   "kept", "dev", "edge", "cloud", "fallbk", "hedges", "loads");
  for (const auto& m : policies) {
    t += fmt::format("{:<14} {:>6.2f}% {:>7.0f}ms {:>6.0f}ms {:>6.0f}ms {:>6.1f}% | {:>6.0f}ms {:>7.0f}ms {:>6.1f}% | {:>6.1f}% {:>9.4f} {:>7.3f} {:>5} | {:>4.0f}% {:>4.0f}% {:>4.0f}% | {:>6} {:>6} {:>5}\n",
                     m.policy, 100 * m.availability, m.e2e_ms.mean, m.e2e_ms.p95, m.ttft_ms.p50, 100 * m.deadline_attainment, m.tc_e2e_ms.p95,
                     m.tc_ttft_ms.p95, 100 * m.tc_deadline_attainment, 100 * m.quality, m.cost_per_1k_usd, m.utility,
                     m.contract_kept ? "yes" : "NO", 100 * m.tier_share[0], 100 * m.tier_share[1], 100 * m.tier_share[2], m.fallbacks,
                     m.hedges, m.model_loads);
  }
  for (const auto& m : policies) {
    if (!m.drift) continue;
    auto secs = [](double x) { return std::isfinite(x) ? fmt::format("{:.0f} s", x) : std::string("never"); };
    t += fmt::format("drift {}: {} answered {:.1f}% before, {:.1f}% while slow; left (share <= half): {} after it slowed; back: {} after it recovered\n",
                     m.policy, m.drift_site, 100 * m.drift_baseline_share, 100 * m.drift_share_during, secs(m.drift_shift_s),
                     secs(m.drift_return_s));
  }
  for (const auto& m : policies) {
    if (m.prefix_query_tokens == 0) continue;
    t += fmt::format("prefix cache {}: hit rate {:.1f}% of {} prompt tokens; edge TTFT p50 {:.0f}ms p95 {:.0f}ms\n", m.policy,
                     100.0 * static_cast<double>(m.prefix_hit_tokens) / static_cast<double>(m.prefix_query_tokens), m.prefix_query_tokens,
                     m.edge_ttft_ms.p50, m.edge_ttft_ms.p95);
  }
  for (const auto& m : policies) {
    if (m.learning_verdicts == 0) continue;
    t += fmt::format("learning {}: {} verdicts; U by quarter {:.3f} {:.3f} {:.3f} {:.3f};", m.policy, m.learning_verdicts,
                     m.utility_by_quarter[0], m.utility_by_quarter[1], m.utility_by_quarter[2], m.utility_by_quarter[3]);
    for (const auto& [cls, l] : m.learners) t += fmt::format(" {} {}/{} promoted ({})", cls, l.promotions, l.retrains, l.model);
    t += "\n";
  }
  t += "\nTC = time-critical use cases (deadline <= 3 s); dl att = requests answered within their deadline;\n"
       "quality = accuracy of answers against the labels; U = 1[correct in time] - 0.5 x cost / cloud-only's mean cost;\n"
       "kept = every use case's quality contract (share of answers as good as the cloud's >= its minimum).\n";
  return t;
}

}  // namespace mec::sim
