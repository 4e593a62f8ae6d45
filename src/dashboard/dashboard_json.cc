#include "dashboard/dashboard_json.h"

#include <cmath>
#include <type_traits>

#include "core/json_writer.h"

namespace mec {

namespace {

void Ints(JsonWriter& w, std::string_view key, const std::vector<int64_t>& v) {
  w.Key(key).BeginArray();
  for (int64_t x : v) w.Int(x);
  w.EndArray();
}

// NaN becomes null (no data).
void Numbers(JsonWriter& w, std::string_view key, const std::vector<double>& v) {
  w.Key(key).BeginArray();
  for (double x : v) w.Number(x);
  w.EndArray();
}

template <typename Series>
void PerTier(JsonWriter& w, std::string_view key, const std::array<Series, kLiveTierCount>& s) {
  w.Key(key).BeginObject();
  for (int t = 0; t < kLiveTierCount; ++t) {
    if constexpr (std::is_same_v<typename Series::value_type, int64_t>) Ints(w, LiveTierName(t), s[t]);
    else Numbers(w, LiveTierName(t), s[t]);
  }
  w.EndObject();
}

void WritePercentiles(JsonWriter& w, std::string_view key, const Percentiles& p) {
  w.Key(key).BeginObject().Field("n", p.n);
  if (p.n > 0) w.Field("p50", p.p50).Field("p95", p.p95).Field("p99", p.p99);
  else w.Key("p50").Null().Key("p95").Null().Key("p99").Null();
  w.EndObject();
}

void WriteTotals(JsonWriter& w, const TierTotals& t) {
  w.BeginObject()
      .Field("requests", t.requests)
      .Field("errors", t.errors)
      .Field("cost_usd", t.cost_usd)
      .Field("cloud_only_usd", t.cloud_only_usd)
      .EndObject();
}

void WriteDecision(JsonWriter& w, const DecisionRow& d) {
  w.BeginObject()
      .Field("id", d.id)
      .Field("time", d.unix_s)
      .Field("policy", d.policy)
      .Field("tier", LiveTierName(d.tier))
      .Field("backend", d.backend)
      .Field("status", d.status)
      .Field("http_status", d.http_status);
  if (d.ttft_s) w.Field("ttft_ms", *d.ttft_s * 1000);
  else w.Key("ttft_ms").Null();
  w.Field("latency_ms", d.latency_s * 1000)
      .Field("cost_usd", d.cost_usd)
      .Field("attempts", d.attempts)
      .Field("hedges", d.hedges)
      .Field("reason", d.reason)
      .Field("error", d.error)
      .EndObject();
}

// "engine": null without one; else what it said last (docs/engines.md), its age at the snapshot,
// and whether routing counts it saturated then (route/saturation.h).
void WriteEngine(JsonWriter& w, const BackendView& b, const LiveBackend* info, TimePoint now) {
  w.Key("engine");
  if (!info || info->engine.kind == EngineKind::kOpenAI) {
    w.Null();
    return;
  }
  const EngineLoad* e = b.engine.get();
  const std::string why = SaturationReason(e, now, ThresholdsOf(info->engine));
  w.BeginObject().Field("kind", EngineKindName(info->engine.kind)).Field("saturated", !why.empty()).Field("saturation", why);
  auto optional = [&](std::string_view key, const auto& v) {
    w.Key(key);
    if (v) w.Number(static_cast<double>(*v));
    else w.Null();
  };
  if (e) {
    w.Field("age_s", ToSeconds(now - e->observed_at));
    optional("waiting", e->waiting);
    optional("running", e->running);
    optional("kv_usage", e->kv_usage);
    optional("prefix_hit_rate", e->prefix_hit_rate);
    optional("total_slots", e->total_slots);
    optional("busy_slots", e->busy_slots);
    w.Field("loading", e->loading);
    w.Key("loaded_models").BeginArray();
    for (const auto& m : e->loaded_models) w.String(m);
    w.EndArray();
  } else {
    w.Key("age_s").Null();
  }
  w.EndObject();
}

void WriteBackend(JsonWriter& w, const BackendView& b, const LiveBackend* info, TimePoint now) {
  w.BeginObject();
  w.Field("name", info ? std::string_view(info->name) : std::string_view("?"));
  w.Field("tier", info ? TierName(info->tier) : std::string_view("?"));
  w.Field("health", HealthStateName(b.health))
      .Field("routable", b.routable)
      .Field("ejected", b.health == HealthState::kEjected)
      .Field("ejected_for_s", b.ejected_for_s)
      .Field("ejections", b.ejections)
      .Field("peer_ejections", b.peer_ejections)  // another replica's ejection applied here (docs/replicas.md)
      .Field("fleet_prior", b.fleet_prior)       // a regional gateway's estimate is this backend's prior (docs/fleet.md)
      .Field("in_flight", b.in_flight)
      .Field("capacity", b.capacity)
      .Field("error_rate", b.error_rate)
      .Field("rate_limited_rate", b.rate_limited_rate)
      .Field("ttft_median_s", b.ttft.Median());
  const double tpot = b.tpot.Median();
  w.Field("tokens_per_s", tpot > 0 ? 1.0 / tpot : 0.0);
  w.Field("observations", b.ttft.n);
  WriteEngine(w, b, info, now);
  w.EndObject();
}

}  // namespace

std::string DashboardJson(const LiveView& v, const PoolSnapshot& snapshot, const std::vector<LiveBackend>& backends,
                          std::string_view stats_json) {
  std::string out;
  out.reserve(32 * 1024);
  JsonWriter w(out);
  w.BeginObject()
      .Field("now", v.end_unix_s)
      .Field("window_s", v.window_s)
      .Field("step_s", v.step_s);
  w.Key("tiers").BeginArray();
  for (int t = 0; t < kLiveTierCount; ++t) w.String(LiveTierName(t));
  w.EndArray();

  w.Key("backends").BeginArray();
  for (const BackendView& b : snapshot.backends) {
    const LiveBackend* info = b.index >= 0 && static_cast<size_t>(b.index) < backends.size() ? &backends[b.index] : nullptr;
    WriteBackend(w, b, info, snapshot.taken);
  }
  w.EndArray();

  w.Key("traffic").BeginObject();
  Ints(w, "t", v.seconds);
  PerTier(w, "requests", v.requests);
  Ints(w, "errors", v.errors);
  w.EndObject();

  w.Key("latency").BeginObject();
  Ints(w, "t", v.steps);
  PerTier(w, "ttft_p95_s", v.ttft_p95);
  PerTier(w, "latency_p95_s", v.latency_p95);
  w.EndObject();

  w.Key("percentiles").BeginObject();
  for (int t = 0; t < kLiveTierCount; ++t) {
    w.Key(LiveTierName(t)).BeginObject();
    WritePercentiles(w, "ttft_s", v.ttft_last_min[t]);
    WritePercentiles(w, "latency_s", v.latency_last_min[t]);
    WritePercentiles(w, "overhead_s", v.overhead_last_min[t]);
    w.EndObject();
  }
  w.EndObject();

  TierTotals minute, total;
  for (int t = 0; t < kLiveTierCount; ++t) {
    minute.cost_usd += v.last_min[t].cost_usd;
    minute.cloud_only_usd += v.last_min[t].cloud_only_usd;
    total.cost_usd += v.totals[t].cost_usd;
    total.cloud_only_usd += v.totals[t].cloud_only_usd;
  }
  w.Key("cost").BeginObject();
  if (v.cloud_reference.empty()) w.Key("cloud_reference").Null();
  else w.Field("cloud_reference", v.cloud_reference);
  Ints(w, "t", v.steps);
  Numbers(w, "usd_per_min", v.cost_per_min);
  Numbers(w, "cloud_only_usd_per_min", v.cloud_only_per_min);
  w.Field("last_min_usd", minute.cost_usd).Field("last_min_cloud_only_usd", minute.cloud_only_usd);
  w.Field("total_usd", total.cost_usd).Field("total_cloud_only_usd", total.cloud_only_usd);
  w.EndObject();

  w.Key("last_min").BeginObject();
  for (int t = 0; t < kLiveTierCount; ++t) {
    w.Key(LiveTierName(t));
    WriteTotals(w, v.last_min[t]);
  }
  w.EndObject();
  w.Key("totals").BeginObject();
  for (int t = 0; t < kLiveTierCount; ++t) {
    w.Key(LiveTierName(t));
    WriteTotals(w, v.totals[t]);
  }
  w.EndObject();

  w.Key("decisions").BeginArray();
  for (const DecisionRow& d : v.decisions) WriteDecision(w, d);
  w.EndArray();
  w.Key("stats").Raw(stats_json.empty() ? std::string_view("{}") : stats_json);
  w.EndObject();
  return out;
}

std::string DecisionsJson(const std::vector<DecisionRow>& decisions) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("decisions").BeginArray();
  for (const DecisionRow& d : decisions) WriteDecision(w, d);
  w.EndArray().EndObject();
  return out;
}

}  // namespace mec
