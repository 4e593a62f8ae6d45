#include "sim/scenario.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "context/tier_quality.h"

namespace mec::sim {
namespace {

namespace fs = std::filesystem;

// An error naming the scenario, line and key.
struct ScenarioError {
  std::string message;
};

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void Fail(const YAML::Node& n, const std::string& what) const {
    throw ScenarioError{fmt::format("{}:{}: {}", source_, n.Mark().line + 1, what)};
  }
  // Calls f(key, value) for every entry; `allowed` names the keys (others are errors).
  template <typename F>
  void Map(const YAML::Node& n, const std::string& where, std::initializer_list<const char*> allowed, F f) const {
    if (!n.IsMap()) Fail(n, where + ": expected a mapping");
    for (const auto& kv : n) {
      const std::string k = kv.first.as<std::string>();
      bool ok = false;
      for (const char* a : allowed) ok |= k == a;
      if (!ok) {
        std::string known;
        for (const char* a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
        Fail(kv.first, fmt::format("{}.{}: unknown key (known: {})", where, k, known));
      }
      f(k, kv.second);
    }
  }
  double Number(const YAML::Node& n, const std::string& key, double lo = -1e300, double hi = 1e300) const {
    double v = 0;
    try {
      v = n.as<double>();
    } catch (const YAML::Exception&) {
      Fail(n, key + ": expected a number");
    }
    if (!std::isfinite(v) || v < lo || v > hi) Fail(n, fmt::format("{}: {} is out of range [{}, {}]", key, v, lo, hi));
    return v;
  }
  std::string String(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) Fail(n, key + ": expected a string");
    return n.as<std::string>();
  }
  TierProfile Profile(const YAML::Node& n, const std::string& key) const {
    if (!n.IsMap()) Fail(n, key + ": expected a tier profile mapping (emulate/tier_profile.h fields, optional base)");
    auto p = LoadProfileYaml(YAML::Dump(n), fmt::format("{}:{} ({})", source_, n.Mark().line + 1, key));
    if (!p.ok()) throw ScenarioError{p.status().message()};
    // The simulator models every GPU as its own server (edge_sites[].gpus, a site's load balancer).
    if (p->gpus != 1) Fail(n, key + ".gpus: the simulator models each GPU on its own: set edge_sites[].gpus instead");
    return *p;
  }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

std::optional<LinkType> ParseLinkType(std::string_view s) {
  if (s == "5g") return LinkType::k5g;
  if (s == "4g") return LinkType::k4g;
  if (s == "3g") return LinkType::k3g;
  if (s == "wifi") return LinkType::kWifi;
  if (s == "wired") return LinkType::kWired;
  return std::nullopt;
}

void ParseTimeouts(const Reader& r, const YAML::Node& n, TimeoutOptions& t) {
  r.Map(n, "timeouts", {"connect_ms", "first_byte_ms", "idle_ms", "total_ms"}, [&](const std::string& k, const YAML::Node& v) {
    const auto ms = static_cast<int64_t>(r.Number(v, "timeouts." + k, 1, 1e9));
    if (k == "connect_ms") t.connect_ms = ms;
    else if (k == "first_byte_ms") t.first_byte_ms = ms;
    else if (k == "idle_ms") t.idle_ms = ms;
    else t.total_ms = ms;
  });
}

void ParsePrice(const Reader& r, const YAML::Node& n, const std::string& where, PriceOptions& p) {
  r.Map(n, where, {"input_per_1m", "output_per_1m", "gpu_per_hour", "gpu_tokens_per_second"}, [&](const std::string& k, const YAML::Node& v) {
    const double x = r.Number(v, where + "." + k, 0);
    if (k == "input_per_1m") p.input_per_1m = x;
    else if (k == "output_per_1m") p.output_per_1m = x;
    else if (k == "gpu_per_hour") p.gpu_per_hour = x;
    else p.gpu_tokens_per_second = x;
  });
}

Scenario Parse(const Reader& r, const YAML::Node& root) {
  Scenario s;
  s.source = r.source();
  r.Map(root, "scenario",
        {"name", "description", "requests", "arrival", "token_sigma", "clients", "links", "device_classes", "edge_sites", "cloud",
         "usd_per_kwh", "edge_price", "cloud_price", "use_cases", "outages", "timeouts", "device_timeouts", "routing",
         "edge_models", "placement", "learning", "engine_signals", "prefix_cache", "fleet"},
        [&](const std::string& k, const YAML::Node& v) {
          if (k == "name") s.name = r.String(v, k);
          else if (k == "description") s.description = r.String(v, k);
          else if (k == "requests") s.requests = static_cast<int64_t>(r.Number(v, k, 1, 1e9));
          else if (k == "token_sigma") s.token_sigma = r.Number(v, k, 0, 3);
          else if (k == "clients") s.clients = static_cast<int>(r.Number(v, k, 1, 1e7));
          else if (k == "usd_per_kwh") s.usd_per_kwh = r.Number(v, k, 0, 10);
          else if (k == "edge_price") ParsePrice(r, v, k, s.edge_price);
          else if (k == "cloud_price") ParsePrice(r, v, k, s.cloud_price);
          else if (k == "timeouts") ParseTimeouts(r, v, s.timeouts);
          else if (k == "device_timeouts") {
            TimeoutOptions t = s.timeouts;
            ParseTimeouts(r, v, t);
            s.device_timeouts = t;
          }
          else if (k == "cloud") s.cloud = r.Profile(v, k);
          else if (k == "edge_models") {
            if (!v.IsSequence() || v.size() == 0) r.Fail(v, "edge_models: expected a non-empty list of model names");
            for (const auto& m : v) s.edge_models.push_back(r.String(m, "edge_models[]"));
          } else if (k == "learning") {
            r.Map(v, k, {"enabled", "sample_rate", "retrain_every", "holdout_share", "min_samples", "word_bits"},
                  [&](const std::string& lk, const YAML::Node& lv) {
                    auto& l = s.learning;
                    const std::string w = "learning." + lk;
                    if (lk == "enabled") {
                      const std::string b = r.String(lv, w);
                      if (b != "true" && b != "false") r.Fail(lv, w + ": true or false");
                      l.enabled = b == "true";
                    } else if (lk == "sample_rate") l.sample_rate = r.Number(lv, w, 0, 1);
                    else if (lk == "retrain_every") l.retrain_every = static_cast<int>(r.Number(lv, w, 1, 1e6));
                    else if (lk == "holdout_share") l.holdout_share = r.Number(lv, w, 0, 0.9);
                    else if (lk == "min_samples") l.min_samples = static_cast<int>(r.Number(lv, w, 1, 1e6));
                    else l.word_bits = static_cast<int>(r.Number(lv, w, 8, 24));
                  });
          } else if (k == "engine_signals") {
            r.Map(v, k, {"enabled", "poll_ms", "stale_ms", "max_waiting"}, [&](const std::string& ek, const YAML::Node& ev) {
              auto& e = s.engine_signals;
              const std::string w = "engine_signals." + ek;
              if (ek == "enabled") {
                const std::string b = r.String(ev, w);
                if (b != "true" && b != "false") r.Fail(ev, w + ": true or false");
                e.enabled = b == "true";
              } else if (ek == "poll_ms") e.poll_ms = r.Number(ev, w, 1, 60000);
              else if (ek == "stale_ms") e.stale_ms = r.Number(ev, w, 1, 3.6e6);
              else e.max_waiting = r.Number(ev, w, 0, 1e6);
            });
          } else if (k == "fleet") {
            r.Map(v, k, {"enabled", "interval_s", "max_weight", "half_life_s"}, [&](const std::string& fk, const YAML::Node& fv) {
              const std::string w = "fleet." + fk;
              if (fk == "enabled") {
                const std::string b = r.String(fv, w);
                if (b != "true" && b != "false") r.Fail(fv, w + ": true or false");
                s.fleet.enabled = b == "true";
              } else if (fk == "interval_s") s.fleet.interval_s = r.Number(fv, w, 0.1, 3600);
              else if (fk == "half_life_s") s.fleet.half_life_s = r.Number(fv, w, 0.1, 3600);
              else s.fleet.max_weight = r.Number(fv, w, 0.5, 1e6);
            });
          } else if (k == "prefix_cache") {
            r.Map(v, k, {"enabled", "affinity"}, [&](const std::string& pk, const YAML::Node& pv) {
              const std::string w = "prefix_cache." + pk;
              const std::string b = r.String(pv, w);
              if (b != "true" && b != "false") r.Fail(pv, w + ": true or false");
              (pk == "enabled" ? s.prefix_cache.enabled : s.prefix_cache.affinity) = b == "true";
            });
          } else if (k == "placement") {
            r.Map(v, k, {"policy", "cold_start_s", "half_life_s", "interval_s", "hysteresis", "min_share"},
                  [&](const std::string& pk, const YAML::Node& pv) {
                    auto& o = s.placement.options;
                    const std::string w = "placement." + pk;
                    if (pk == "policy") {
                      const std::string pol = r.String(pv, w);
                      if (pol != "demand" && pol != "static") r.Fail(pv, "placement.policy: demand or static");
                      o.adaptive = pol == "demand";
                    } else if (pk == "cold_start_s") s.placement.cold_start_s = r.Number(pv, w, 0, 3600);
                    else if (pk == "half_life_s") o.half_life_s = r.Number(pv, w, 1e-3, 1e6);
                    else if (pk == "interval_s") o.interval_s = r.Number(pv, w, 0, 1e6);
                    else if (pk == "hysteresis") o.hysteresis = r.Number(pv, w, 0, 100);
                    else o.min_share = r.Number(pv, w, 0, 1);
                  });
          }
          else if (k == "arrival") {
            r.Map(v, k, {"process", "rate_per_s", "bursts"}, [&](const std::string& ak, const YAML::Node& av) {
              if (ak == "process" && r.String(av, "arrival.process") != "poisson") r.Fail(av, "arrival.process: only poisson is supported");
              if (ak == "rate_per_s") s.rate_per_s = r.Number(av, "arrival.rate_per_s", 1e-6, 1e7);
              if (ak == "bursts") {
                if (!av.IsSequence()) r.Fail(av, "arrival.bursts: expected a list of {from_s, to_s, factor}");
                for (const auto& bv : av) {
                  BurstSpec b;
                  r.Map(bv, "arrival.bursts[]", {"from_s", "to_s", "factor"}, [&](const std::string& f, const YAML::Node& x) {
                    if (f == "from_s") b.from_s = r.Number(x, "arrival.bursts.from_s", 0, 1e9);
                    else if (f == "to_s") b.to_s = r.Number(x, "arrival.bursts.to_s", 0, 1e9);
                    else b.factor = r.Number(x, "arrival.bursts.factor", 1e-3, 1e3);
                  });
                  if (b.to_s <= b.from_s) r.Fail(bv, "arrival.bursts[]: to_s must be after from_s");
                  s.bursts.push_back(b);
                }
              }
            });
          } else if (k == "routing") {
            r.Map(v, k, {"max_attempts", "deadline_target", "hedge", "hedge_threshold", "publish_interval_ms", "priors", "feedback_rate", "min_quality_per", "quality_margin", "continue_tiers", "shed_below", "spread"}, [&](const std::string& rk, const YAML::Node& rv) {
              if (rk == "continue_tiers") {
                s.continue_tiers.clear();
                if (!rv.IsSequence()) r.Fail(rv, "routing.continue_tiers: a list of tiers (device, edge, cloud)");
                for (const auto& t : rv) {
                  auto tier = ParseTier(t.as<std::string>());
                  if (!tier) r.Fail(t, "routing.continue_tiers: device, edge or cloud");
                  else s.continue_tiers.push_back(*tier);
                }
              } else if (rk == "max_attempts") s.max_attempts = static_cast<int>(r.Number(rv, "routing.max_attempts", 1, 10));
              else if (rk == "deadline_target") s.deadline_target = r.Number(rv, "routing.deadline_target", 0, 1);
              else if (rk == "shed_below") s.shed_below = r.Number(rv, "routing.shed_below", 0, 1);
              else if (rk == "hedge") s.hedge = rv.as<bool>();
              else if (rk == "hedge_threshold") s.hedge_threshold = r.Number(rv, "routing.hedge_threshold", 0, 1);
              else if (rk == "spread") s.spread = r.Number(rv, "routing.spread", 0, 1);
              else if (rk == "feedback_rate") s.feedback_rate = r.Number(rv, "routing.feedback_rate", 0, 1);
              else if (rk == "quality_margin") s.quality_margin = r.Number(rv, "routing.quality_margin", 0, 1);
              else if (rk == "min_quality_per") {
                const std::string per = r.String(rv, "routing.min_quality_per");
                if (per != "class" && per != "request") r.Fail(rv, "routing.min_quality_per: class or request");
                s.min_quality_per_request = per == "request";
              }
              else if (rk == "priors") {
                s.priors = r.String(rv, "routing.priors");
                if (s.priors != "profile" && s.priors != "tier-defaults") r.Fail(rv, "routing.priors: profile or tier-defaults");
              } else s.publish_interval_ms = r.Number(rv, "routing.publish_interval_ms", 0, 1e6);
            });
          } else if (k == "links") {
            r.Map(v, k, {"5g", "4g", "3g", "wifi", "wired"}, [&](const std::string& name, const YAML::Node& lv) {
              LinkSpec l;
              l.name = name;
              l.type = *ParseLinkType(name);
              const std::string w = "links." + name;
              r.Map(lv, w, {"rtt_edge_ms", "rtt_cloud_ms", "rtt_sigma", "up_mbps", "down_mbps", "loss", "rto_ms"}, [&](const std::string& f, const YAML::Node& x) {
                const double d = r.Number(x, w + "." + f, 0);
                if (f == "rtt_edge_ms") l.rtt_edge_ms = d;
                else if (f == "rtt_cloud_ms") l.rtt_cloud_ms = d;
                else if (f == "rtt_sigma") l.rtt_sigma = d;
                else if (f == "up_mbps") l.up_mbps = std::max(1e-3, d);
                else if (f == "down_mbps") l.down_mbps = std::max(1e-3, d);
                else if (f == "loss") l.loss = std::min(1.0, d);
                else l.rto_ms = d;
              });
              s.links.push_back(l);
            });
          } else if (k == "device_classes") {
            if (!v.IsSequence()) r.Fail(v, "device_classes: expected a list");
            for (const auto& dv : v) {
              DeviceClassSpec d;
              r.Map(dv, "device_classes[]", {"name", "share", "profile", "watts", "quality_model", "links", "handover_interval_s", "handover_ms", "gap_interval_s", "gap_mean_s"},
                    [&](const std::string& f, const YAML::Node& x) {
                      const std::string w = "device_classes." + f;
                      if (f == "name") d.name = r.String(x, w);
                      else if (f == "share") d.share = r.Number(x, w, 0, 1);
                      else if (f == "profile") d.profile = r.Profile(x, w);
                      else if (f == "watts") d.watts = r.Number(x, w, 0, 1e4);
                      else if (f == "quality_model") d.quality_model = r.String(x, w);
                      else if (f == "handover_interval_s") d.handover_interval_s = r.Number(x, w, 0);
                      else if (f == "gap_interval_s") d.gap_interval_s = r.Number(x, w, 0);
                      else if (f == "gap_mean_s") d.gap_mean_s = r.Number(x, w, 0);
                      else if (f == "handover_ms") {
                        if (!x.IsSequence() || x.size() != 2) r.Fail(x, w + ": expected [min, max]");
                        d.handover_ms_min = r.Number(x[0], w, 0);
                        d.handover_ms_max = r.Number(x[1], w, d.handover_ms_min);
                      } else {
                        r.Map(x, w, {"5g", "4g", "3g", "wifi", "wired"}, [&](const std::string& ln, const YAML::Node& lv) {
                          d.links.emplace_back(ln, r.Number(lv, w + "." + ln, 0, 1));
                        });
                      }
                    });
              if (d.name.empty()) r.Fail(dv, "device_classes[]: name is required");
              d.profile.name = "device";
              if (d.quality_model == "edge" || d.quality_model.empty()) {
                d.accuracy_ratio_mmlu = d.accuracy_ratio_gsm8k = 1;
              } else {
                auto m = CalibratedDeviceAssumption(d.quality_model, "MMLU");
                auto g = CalibratedDeviceAssumption(d.quality_model, "GSM8K");
                if (!m.ok() || !g.ok()) r.Fail(dv, "device_classes." + d.name + ".quality_model: no calibration for '" + d.quality_model + "'");
                d.accuracy_ratio_mmlu = m->accuracy_ratio;
                d.accuracy_ratio_gsm8k = g->accuracy_ratio;
                d.joint_success_share = m->joint_success_share;
              }
              s.device_classes.push_back(std::move(d));
            }
          } else if (k == "edge_sites") {
            if (!v.IsSequence()) r.Fail(v, "edge_sites: expected a list");
            for (const auto& ev : v) {
              EdgeSiteSpec e;
              r.Map(ev, "edge_sites[]", {"name", "gpus", "profile", "other_site_extra_rtt_ms", "models"}, [&](const std::string& f, const YAML::Node& x) {
                const std::string w = "edge_sites." + f;
                if (f == "name") e.name = r.String(x, w);
                else if (f == "models") {
                  if (!x.IsSequence()) r.Fail(x, w + ": expected a list of model names, one per GPU");
                  for (const auto& m : x) e.models.push_back(r.String(m, w));
                }
                else if (f == "gpus") e.gpus = static_cast<int>(r.Number(x, w, 1, 1024));
                else if (f == "profile") e.profile = r.Profile(x, w);
                else e.other_site_extra_rtt_ms = r.Number(x, w, 0);
              });
              if (e.name.empty()) r.Fail(ev, "edge_sites[]: name is required");
              e.profile.name = "edge";
              s.edge_sites.push_back(std::move(e));
            }
          } else if (k == "use_cases") {
            if (!v.IsSequence()) r.Fail(v, "use_cases: expected a list");
            for (const auto& uv : v) {
              UseCaseSpec u;
              r.Map(uv, "use_cases[]", {"key", "share", "input_tokens", "output_tokens", "clients", "edge_model"}, [&](const std::string& f, const YAML::Node& x) {
                const std::string w = "use_cases." + f;
                if (f == "key") u.key = r.String(x, w);
                else if (f == "edge_model") u.edge_model = r.String(x, w);
                else if (f == "share") u.share = r.Number(x, w, 0, 1);
                else if (f == "input_tokens") u.input_tokens = r.Number(x, w, 1, 1e7);
                else if (f == "output_tokens") u.output_tokens = r.Number(x, w, 1, 1e7);
                else {
                  if (!x.IsSequence()) r.Fail(x, w + ": expected a list of device class names");
                  for (const auto& c : x) u.clients.push_back(r.String(c, w));
                }
              });
              s.use_cases.push_back(std::move(u));
            }
          } else if (k == "outages") {
            if (!v.IsSequence()) r.Fail(v, "outages: expected a list");
            for (const auto& ov : v) {
              OutageSpec o;
              r.Map(ov, "outages[]", {"target", "from", "to", "slowdown"}, [&](const std::string& f, const YAML::Node& x) {
                if (f == "target") o.target = r.String(x, "outages.target");
                else if (f == "slowdown") o.slowdown = r.Number(x, "outages.slowdown", 1, 100);
                else if (f == "from") o.from = r.Number(x, "outages.from", 0, 1);
                else o.to = r.Number(x, "outages.to", 0, 1);
              });
              if (o.to < o.from) r.Fail(ov, "outages[]: to < from");
              s.outages.push_back(o);
            }
          }
        });
  // Cross-checks.
  if (s.name.empty()) r.Fail(root, "name is required");
  if (s.device_classes.empty()) r.Fail(root, "device_classes: at least one is required");
  if (s.edge_sites.empty()) r.Fail(root, "edge_sites: at least one is required");
  if (s.use_cases.empty()) r.Fail(root, "use_cases: at least one is required");
  if (s.cloud.name.empty()) r.Fail(root, "cloud: a profile is required");
  s.cloud.name = "cloud";
  for (const auto& d : s.device_classes)
    for (const auto& [ln, share] : d.links)
      if (!s.FindLink(ln)) throw ScenarioError{fmt::format("{}: device class {} uses link {} that `links` does not define", s.source, d.name, ln)};
  for (const auto& u : s.use_cases) {
    if (u.clients.empty()) throw ScenarioError{fmt::format("{}: use case {} has no clients", s.source, u.key)};
    for (const auto& c : u.clients)
      if (s.DeviceClassIndex(c) < 0) throw ScenarioError{fmt::format("{}: use case {} names unknown device class {}", s.source, u.key, c)};
  }
  // Edge models: the catalog, each use case's model and each GPU's starting model.
  if (s.edge_models.empty()) s.edge_models.push_back("edge");
  auto model_index = [&](const std::string& name, const std::string& who) {
    for (size_t m = 0; m < s.edge_models.size(); ++m)
      if (s.edge_models[m] == name) return static_cast<int>(m);
    throw ScenarioError{fmt::format("{}: {} names edge model {} that edge_models does not list", s.source, who, name)};
  };
  for (auto& u : s.use_cases) u.edge_model_index = u.edge_model.empty() ? 0 : model_index(u.edge_model, "use case " + u.key);
  for (auto& e : s.edge_sites) {
    if (!e.models.empty() && static_cast<int>(e.models.size()) != e.gpus)
      throw ScenarioError{fmt::format("{}: edge site {} lists {} models for {} GPUs (one per GPU)", s.source, e.name, e.models.size(), e.gpus)};
    for (int g = 0; g < e.gpus; ++g)
      e.model_index.push_back(e.models.empty() ? g % static_cast<int>(s.edge_models.size())
                                               : model_index(e.models[static_cast<size_t>(g)], "edge site " + e.name));
  }
  for (const auto& o : s.outages) {
    bool known = o.target == "cloud";
    for (const auto& e : s.edge_sites) known |= e.name == o.target;
    if (!known) throw ScenarioError{fmt::format("{}: outage target {} is neither an edge site nor cloud", s.source, o.target)};
  }
  return s;
}

}  // namespace

const LinkSpec* Scenario::FindLink(std::string_view n) const {
  for (const auto& l : links)
    if (l.name == n) return &l;
  return nullptr;
}

int Scenario::DeviceClassIndex(std::string_view n) const {
  for (size_t i = 0; i < device_classes.size(); ++i)
    if (device_classes[i].name == n) return static_cast<int>(i);
  return -1;
}

Result<Scenario> ParseScenario(const std::string& yaml, const std::string& source) {
  Reader r(source);
  try {
    YAML::Node root = YAML::Load(yaml);
    return Parse(r, root);
  } catch (const ScenarioError& e) {
    return Status::InvalidArgument(e.message);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("{}:{}: {}", source, e.mark.line + 1, e.msg));
  }
}

Result<Scenario> LoadScenarioFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read scenario file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseScenario(ss.str(), path);
}

void ApplyScenarioRouting(const Scenario& s, RoutingOptions& routing) {
  routing.max_attempts = s.max_attempts;
  routing.deadline_target = s.deadline_target;
  routing.shed_below = s.shed_below;
  routing.hedge = s.hedge;
  routing.hedge_threshold = s.hedge_threshold;
  routing.spread = s.spread;
  routing.min_quality_per_request = s.min_quality_per_request;
  routing.quality_margin = s.quality_margin;
}

Result<std::string> FindScenarioFile(const std::string& name, const std::string& argv0) {
  std::error_code ec;
  if (fs::is_regular_file(name, ec)) return name;
  return FindShippedFile(name + ".yaml", argv0);
}

Result<std::string> FindShippedFile(const std::string& file, const std::string& argv0) {
  std::error_code ec;
  std::vector<fs::path> dirs = {fs::path("scenarios")};
  if (!argv0.empty()) {
    fs::path exe = fs::weakly_canonical(fs::path(argv0), ec).parent_path();
    dirs.push_back(exe / "../../scenarios");
    dirs.push_back(exe / "../scenarios");
    dirs.push_back(exe / "scenarios");
  }
#ifdef MEC_SCENARIO_DIR
  dirs.emplace_back(MEC_SCENARIO_DIR);
#endif
  std::string looked;
  for (const auto& d : dirs) {
    fs::path p = d / file;
    if (fs::is_regular_file(p, ec)) return p.lexically_normal().string();
    looked += (looked.empty() ? "" : ", ") + p.lexically_normal().string();
  }
  return Status::NotFound("no file '" + file + "' (looked at " + looked + ")");
}

}  // namespace mec::sim
