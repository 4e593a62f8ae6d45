#include "backend/fleet_state.h"

#include <simdjson.h>

#include <cmath>
#include <optional>

#include "backend/engine_json.h"
#include "core/json_writer.h"

namespace mec {
namespace {

constexpr std::string_view kWhat = "fleet state";
constexpr size_t kMaxBackends = 10000;

FleetEstimate FromView(const LogNormalEstimate& e) { return {e.Median(), e.sigma, e.n}; }

void WriteEstimate(JsonWriter& w, std::string_view key, const FleetEstimate& e) {
  w.Key(key).BeginObject().Field("median_s", e.median_s).Field("sigma", e.sigma).Field("weight", e.weight).EndObject();
}

Status Bad(std::string_view message) { return engine_json::Bad(kWhat, message); }

// A finite number at obj[key] within [lo, hi].
Status Number(simdjson::dom::object obj, std::string_view key, double lo, double hi, double& out, std::string_view where) {
  double v = 0;
  simdjson::dom::element e;
  if (obj[key].get(e)) return Bad(std::string(where) + std::string(key) + " is missing");
  if (e.is_int64()) v = static_cast<double>(e.get_int64().value_unsafe());
  else if (e.is_uint64()) v = static_cast<double>(e.get_uint64().value_unsafe());
  else if (e.get_double().get(v)) return Bad(std::string(where) + std::string(key) + " is not a number");
  if (!std::isfinite(v) || v < lo || v > hi) return Bad(std::string(where) + std::string(key) + " is out of range");
  out = v;
  return Status::Ok();
}

Status ReadEstimate(simdjson::dom::object obj, std::string_view key, FleetEstimate& out, const std::string& where) {
  simdjson::dom::object e;
  if (obj[key].get_object().get(e)) return Bad(where + std::string(key) + " is missing or not an object");
  const std::string in = where + std::string(key) + ".";
  if (Status s = Number(e, "median_s", 1e-9, 1e6, out.median_s, in); !s.ok()) return s;
  if (Status s = Number(e, "sigma", 0, 100, out.sigma, in); !s.ok()) return s;
  return Number(e, "weight", 0, 1e12, out.weight, in);
}

std::optional<HealthState> ParseHealth(std::string_view s) {
  for (HealthState h : {HealthState::kHealthy, HealthState::kUnhealthy, HealthState::kEjected, HealthState::kHalfOpen})
    if (s == HealthStateName(h)) return h;
  return std::nullopt;
}

Status ReadBackend(simdjson::dom::element el, size_t i, FleetBackendState& b) {
  const std::string where = "backends[" + std::to_string(i) + "].";
  simdjson::dom::object obj;
  if (el.get_object().get(obj)) return Bad(where.substr(0, where.size() - 1) + " is not an object");
  std::string_view name, tier, health;
  if (obj["name"].get_string().get(name) || name.empty()) return Bad(where + "name is missing or empty");
  if (obj["tier"].get_string().get(tier)) return Bad(where + "tier is missing");
  if (obj["health"].get_string().get(health)) return Bad(where + "health is missing");
  const std::optional<HealthState> h = ParseHealth(health);
  if (!h) return Bad(where + "health '" + std::string(health) + "' is unknown");
  b.name = std::string(name);
  b.tier = std::string(tier);
  b.health = *h;
  if (obj["routable"].get_bool().get(b.routable)) return Bad(where + "routable is missing or not a boolean");
  if (Status s = Number(obj, "ejected_for_s", 0, 1e9, b.ejected_for_s, where); !s.ok()) return s;
  if (Status s = Number(obj, "error_rate", 0, 1, b.error_rate, where); !s.ok()) return s;
  if (Status s = ReadEstimate(obj, "ttft", b.ttft, where); !s.ok()) return s;
  if (Status s = ReadEstimate(obj, "tpot", b.tpot, where); !s.ok()) return s;
  return ReadEstimate(obj, "rtt", b.rtt, where);
}

Status ReadClass(simdjson::dom::element el, size_t i, FleetClassQuality& q) {
  const std::string where = "quality.classes[" + std::to_string(i) + "].";
  simdjson::dom::object obj;
  if (el.get_object().get(obj)) return Bad(where.substr(0, where.size() - 1) + " is not an object");
  std::string_view backend, tier, task_class;
  if (obj["backend"].get_string().get(backend) || backend.empty()) return Bad(where + "backend is missing or empty");
  if (obj["tier"].get_string().get(tier)) return Bad(where + "tier is missing");
  if (obj["task_class"].get_string().get(task_class)) return Bad(where + "task_class is missing");
  if (Status s = Number(obj, "n", 1e-9, 1e12, q.n, where); !s.ok()) return s;
  if (Status s = Number(obj, "score", 0, q.n, q.score, where); !s.ok()) return s;
  q.backend = std::string(backend);
  q.tier = std::string(tier);
  q.task_class = std::string(task_class);
  return Status::Ok();
}

}  // namespace

FleetState FleetStateFromSnapshot(const PoolSnapshot& snap, const BackendPool& pool, int64_t unix_ms) {
  FleetState s;
  s.generated_unix_ms = unix_ms;
  s.snapshot_version = snap.version;
  s.backends.reserve(snap.backends.size());
  for (size_t i = 0; i < snap.backends.size() && i < pool.size(); ++i) {
    const BackendView& v = snap.backends[i];
    FleetBackendState b;
    b.name = pool.at(i).name();
    b.tier = std::string(TierName(pool.at(i).tier()));
    b.health = v.health;
    b.routable = v.routable;
    b.ejected_for_s = v.ejected_for_s;
    b.error_rate = v.error_rate;
    b.ttft = FromView(v.ttft);
    b.tpot = FromView(v.tpot);
    b.rtt = FromView(v.rtt);
    s.backends.push_back(std::move(b));
  }
  return s;
}

std::string FleetStateToJson(const FleetState& s) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("version", s.version).Field("generated_unix_ms", s.generated_unix_ms).Field("snapshot_version", s.snapshot_version);
  w.Key("backends").BeginArray();
  for (const auto& b : s.backends) {
    const int64_t until = b.ejected_for_s > 0 ? s.generated_unix_ms + static_cast<int64_t>(std::ceil(b.ejected_for_s * 1000)) : 0;
    w.BeginObject().Field("name", b.name).Field("tier", b.tier).Field("health", HealthStateName(b.health)).Field("routable", b.routable);
    w.Field("ejected_for_s", b.ejected_for_s).Field("ejected_until_unix_ms", until).Field("error_rate", b.error_rate);
    WriteEstimate(w, "ttft", b.ttft);
    WriteEstimate(w, "tpot", b.tpot);
    WriteEstimate(w, "rtt", b.rtt);
    w.EndObject();
  }
  w.EndArray();
  w.Key("quality").BeginObject().Field("complexity_model", s.quality.complexity_model).Field("model_swaps", s.quality.model_swaps);
  w.Key("classes").BeginArray();
  for (const auto& q : s.quality.classes)
    w.BeginObject().Field("backend", q.backend).Field("tier", q.tier).Field("task_class", q.task_class).Field("score", q.score).Field("n", q.n).EndObject();
  w.EndArray().EndObject();
  w.EndObject();
  return out;
}

Result<FleetState> ParseFleetState(std::string_view json) {
  auto doc = engine_json::Parse(json, kWhat);
  if (!doc.ok()) return doc.status();
  simdjson::dom::object root;
  if (doc->get_object().get(root)) return Bad("expected a JSON object");
  FleetState s;
  int64_t version = 0;
  if (root["version"].get_int64().get(version)) return Bad("version is missing");
  if (version != kFleetStateVersion) return Bad("version " + std::to_string(version) + " is not supported (this reader knows 1)");
  s.version = static_cast<int>(version);
  if (root["generated_unix_ms"].get_int64().get(s.generated_unix_ms)) return Bad("generated_unix_ms is missing");
  uint64_t snap = 0;
  if (!root["snapshot_version"].get_uint64().get(snap)) s.snapshot_version = snap;
  simdjson::dom::array backends;
  if (root["backends"].get_array().get(backends)) return Bad("backends is missing or not an array");
  if (backends.size() > kMaxBackends) return Bad("more than 10000 backends");
  size_t i = 0;
  for (simdjson::dom::element el : backends) {
    FleetBackendState b;
    if (Status st = ReadBackend(el, i++, b); !st.ok()) return st;
    s.backends.push_back(std::move(b));
  }
  simdjson::dom::object quality;
  if (!root["quality"].get_object().get(quality)) {  // optional
    std::string_view model;
    if (!quality["complexity_model"].get_string().get(model)) s.quality.complexity_model = std::string(model);
    int64_t swaps = 0;
    if (!quality["model_swaps"].get_int64().get(swaps)) s.quality.model_swaps = swaps;
    simdjson::dom::array classes;
    if (!quality["classes"].get_array().get(classes)) {  // optional
      if (classes.size() > kMaxFleetClasses) return Bad("quality.classes has more than " + std::to_string(kMaxFleetClasses) + " entries");
      size_t k = 0;
      for (simdjson::dom::element el : classes) {
        FleetClassQuality q;
        if (Status st = ReadClass(el, k++, q); !st.ok()) return st;
        s.quality.classes.push_back(std::move(q));
      }
    }
  }
  return s;
}

}  // namespace mec
