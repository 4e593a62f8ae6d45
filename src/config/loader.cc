#include "config/loader.h"

#include <unistd.h>

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/host_port.h"

namespace mec {

std::string_view TierName(Tier t) {
  switch (t) {
    case Tier::kDevice: return "device";
    case Tier::kEdge: return "edge";
    case Tier::kCloud: return "cloud";
  }
  return "?";
}

std::optional<Tier> ParseTier(std::string_view s) {
  if (s == "device") return Tier::kDevice;
  if (s == "edge") return Tier::kEdge;
  if (s == "cloud") return Tier::kCloud;
  return std::nullopt;
}

std::string_view EngineKindName(EngineKind e) {
  switch (e) {
    case EngineKind::kOpenAI: return "openai";
    case EngineKind::kVllm: return "vllm";
    case EngineKind::kLlamaCpp: return "llamacpp";
    case EngineKind::kOllama: return "ollama";
  }
  return "?";
}

std::optional<EngineKind> ParseEngineKind(std::string_view s) {
  for (EngineKind e : {EngineKind::kOpenAI, EngineKind::kVllm, EngineKind::kLlamaCpp, EngineKind::kOllama})
    if (s == EngineKindName(e)) return e;
  return std::nullopt;
}

namespace {

// Walks a YAML tree, converting with errors that carry "source:line: path: message".
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  Status Error(const YAML::Node& n, const std::string& path, const std::string& msg) const {
    int line = n.IsDefined() ? n.Mark().line + 1 : 0;
    return Status::InvalidArgument(line > 0 ? fmt::format("{}:{}: {}: {}", source_, line, path, msg)
                                            : fmt::format("{}: {}: {}", source_, path, msg));
  }

  // Calls fn(key, value, path) for every key of a map; any key not in `allowed` is an error.
  Status ForEachKey(const YAML::Node& map, const std::string& path, std::initializer_list<std::string_view> allowed,
                    const std::function<Status(const std::string&, const YAML::Node&, const std::string&)>& fn) const {
    if (!map.IsMap()) return Error(map, path, "expected a mapping");
    for (const auto& kv : map) {
      std::string key = kv.first.as<std::string>();
      bool known = false;
      for (auto a : allowed) known |= a == key;
      std::string sub = path.empty() ? key : path + "." + key;
      if (!known) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        return Error(kv.first, sub, "unknown key (known: " + list + ")");
      }
      if (Status s = fn(key, kv.second, sub); !s.ok()) return s;
    }
    return Status::Ok();
  }

  Status Str(const YAML::Node& n, const std::string& path, std::string& out) const {
    if (!n.IsScalar()) return Error(n, path, "expected a string");
    out = n.as<std::string>();
    return Status::Ok();
  }

  Status Bool(const YAML::Node& n, const std::string& path, bool& out) const {
    bool v;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) return Error(n, path, "expected true or false");
    out = v;
    return Status::Ok();
  }

  template <typename T>
  Status Num(const YAML::Node& n, const std::string& path, T& out, double lo, double hi) const {
    T v;
    if (!n.IsScalar() || !YAML::convert<T>::decode(n, v)) return Error(n, path, "expected a number");
    if (static_cast<double>(v) < lo || static_cast<double>(v) > hi)
      return Error(n, path, fmt::format("must be between {} and {}", lo, hi));
    out = v;
    return Status::Ok();
  }

  Status StrList(const YAML::Node& n, const std::string& path, std::vector<std::string>& out) const {
    out.clear();
    if (n.IsScalar()) {
      out.push_back(n.as<std::string>());
      return Status::Ok();
    }
    if (!n.IsSequence()) return Error(n, path, "expected a list of strings");
    for (size_t i = 0; i < n.size(); ++i) {
      if (!n[i].IsScalar()) return Error(n[i], path + "[" + std::to_string(i) + "]", "expected a string");
      out.push_back(n[i].as<std::string>());
    }
    return Status::Ok();
  }

 private:
  std::string source_;
};

#define MEC_TRY(expr)                 \
  do {                                \
    if (Status s_ = (expr); !s_.ok()) \
      return s_;                      \
  } while (0)

Status ReadServerTls(const Reader& r, const YAML::Node& n, const std::string& path, ServerTlsOptions& t) {
  MEC_TRY(r.ForEachKey(n, path, {"cert", "key", "client_ca"},
                       [&](const std::string& k, const YAML::Node& v, const std::string& p) -> Status {
                         std::string& out = k == "cert" ? t.cert : k == "key" ? t.key : t.client_ca;
                         MEC_TRY(r.Str(v, p, out));
                         if (out.empty() || ::access(out.c_str(), R_OK) != 0)
                           return r.Error(v, p, "cannot read the file '" + out + "'");
                         return Status::Ok();
                       }));
  if (t.cert.empty() != t.key.empty()) return r.Error(n, path, "needs both cert and key");
  if (!t.client_ca.empty() && t.cert.empty()) return r.Error(n, path, "client_ca needs cert and key");
  return Status::Ok();
}

Status ReadServer(const Reader& r, const YAML::Node& n, const std::string& path, ServerOptions& s) {
  return r.ForEachKey(n, path,
                      {"listen", "threads", "max_body_bytes", "max_header_bytes", "max_header_count",
                       "header_timeout_ms", "body_timeout_ms", "keepalive_timeout_ms", "shutdown_grace_ms",
                       "max_connections", "max_in_flight", "allow_anonymous", "open_metrics", "share_port", "tls"},
                      [&](const std::string& k, const YAML::Node& v, const std::string& p) -> Status {
                        if (k == "listen") return r.Str(v, p, s.listen);
                        if (k == "tls") return ReadServerTls(r, v, p, s.tls);
                        if (k == "threads") return r.Num(v, p, s.threads, 0, 256);
                        if (k == "max_body_bytes") return r.Num(v, p, s.max_body_bytes, 1024, 1 << 30);
                        if (k == "max_header_bytes") return r.Num(v, p, s.max_header_bytes, 1024, 1 << 20);
                        if (k == "max_header_count") return r.Num(v, p, s.max_header_count, 8, 10000);
                        if (k == "header_timeout_ms") return r.Num(v, p, s.header_timeout_ms, 1, 3.6e6);
                        if (k == "body_timeout_ms") return r.Num(v, p, s.body_timeout_ms, 1, 3.6e6);
                        if (k == "keepalive_timeout_ms") return r.Num(v, p, s.keepalive_timeout_ms, 1, 3.6e6);
                        if (k == "shutdown_grace_ms") return r.Num(v, p, s.shutdown_grace_ms, 0, 3.6e6);
                        if (k == "max_in_flight") return r.Num(v, p, s.max_in_flight, 0, 1e6);
                        if (k == "allow_anonymous") return r.Bool(v, p, s.allow_anonymous);
                        if (k == "open_metrics") return r.Bool(v, p, s.open_metrics);
                        if (k == "share_port") return r.Bool(v, p, s.share_port);
                        return r.Num(v, p, s.max_connections, 1, 1e6);
                      });
}

// "a, b, c" of a name list, for error messages.
template <size_t N>
std::string JoinNames(const char* const (&names)[N]) {
  std::string out;
  for (const char* k : names) out += (out.empty() ? "" : ", ") + std::string(k);
  return out;
}

template <size_t N>
bool Contains(const char* const (&names)[N], std::string_view name) {
  for (const char* k : names)
    if (name == k) return true;
  return false;
}

// routing.profiles.NAME: {filters: [...], scorers: {name: weight, ...}, picker: name, reason: text}.
Status ReadProfile(const Reader& r, const YAML::Node& n, const std::string& path, ProfileOptions& o) {
  MEC_TRY(r.ForEachKey(n, path, {"filters", "scorers", "picker", "reason"},
                       [&](const std::string& k, const YAML::Node& v, const std::string& p) -> Status {
                         if (k == "filters") {
                           MEC_TRY(r.StrList(v, p, o.filters));
                           for (const auto& f : o.filters) {
                             if (Contains(kRoutingHardFilterNames, f))
                               return r.Error(v, p, "'" + f + "' is a hard filter, which every profile applies already");
                             if (!Contains(kRoutingFilterNames, f))
                               return r.Error(v, p, "unknown filter '" + f + "' (known: " + JoinNames(kRoutingFilterNames) + ")");
                           }
                           return Status::Ok();
                         }
                         if (k == "scorers") {
                           if (!v.IsMap()) return r.Error(v, p, "expected a mapping of scorer name to weight");
                           o.scorers.clear();
                           for (const auto& kv : v) {
                             ScorerWeight sw;
                             sw.scorer = kv.first.as<std::string>();
                             const std::string sp = p + "." + sw.scorer;
                             if (!Contains(kRoutingScorerNames, sw.scorer))
                               return r.Error(kv.first, sp, "unknown scorer '" + sw.scorer + "' (known: " + JoinNames(kRoutingScorerNames) + ")");
                             MEC_TRY(r.Num(kv.second, sp, sw.weight, 0, 1000));
                             if (!(sw.weight > 0)) return r.Error(kv.second, sp, "weight must be greater than 0");
                             o.scorers.push_back(sw);
                           }
                           return Status::Ok();
                         }
                         if (k == "picker") {
                           MEC_TRY(r.Str(v, p, o.picker));
                           if (!Contains(kRoutingPickerNames, o.picker))
                             return r.Error(v, p, "unknown picker '" + o.picker + "' (known: " + JoinNames(kRoutingPickerNames) + ")");
                           return Status::Ok();
                         }
                         return r.Str(v, p, o.reason);
                       }));
  if (o.picker == "max-score" && o.scorers.empty() && o.filters.empty())
    return r.Error(n, path, "needs scorers, filters or a picker other than max-score");
  return Status::Ok();
}

Status ReadProfiles(const Reader& r, const YAML::Node& n, const std::string& path, std::vector<ProfileOptions>& out) {
  if (!n.IsMap()) return r.Error(n, path, "expected a mapping of profile name to profile");
  out.clear();
  for (const auto& kv : n) {
    ProfileOptions o;
    o.name = kv.first.as<std::string>();
    const std::string p = path + "." + o.name;
    if (o.name.empty() || o.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") != std::string::npos)
      return r.Error(kv.first, p, "a profile name uses a-z, 0-9, '-', '_' and '.' only");
    if (Contains(kBuiltinPolicyNames, o.name) || o.name == "oracle")
      return r.Error(kv.first, p, "'" + o.name + "' is a built-in policy; give the profile another name");
    MEC_TRY(ReadProfile(r, kv.second, p, o));
    out.push_back(std::move(o));
  }
  return Status::Ok();
}

Status ReadRouting(const Reader& r, const YAML::Node& n, const std::string& path, RoutingOptions& o) {
  // Policies are checked once the whole block is read: they may name a profile defined after them.
  std::optional<YAML::Node> policy_node, shadow_node;  // copies share the node (and its line)
  std::string policy_path, shadow_path;
  MEC_TRY(r.ForEachKey(n, path,
                       {"policy", "shadow_policy", "auto_order", "max_attempts", "default_min_quality",
                        "default_deadline_ms", "deadline_target", "hedge", "hedge_threshold", "min_quality_per",
                        "quality_margin", "profiles", "panic_threshold", "shed_below", "estimate_memo",
                        "prefix_max_blocks", "prefix_capacity_blocks", "spread"},
                       [&](const std::string& k, const YAML::Node& v, const std::string& p) -> Status {
                         if (k == "policy") {
                           policy_node.emplace(v);
                           policy_path = p;
                           return r.Str(v, p, o.policy);
                         }
                         if (k == "shadow_policy") {
                           shadow_node.emplace(v);
                           shadow_path = p;
                           return r.Str(v, p, o.shadow_policy);
                         }
                         if (k == "profiles") return ReadProfiles(r, v, p, o.profiles);
                         if (k == "auto_order") {
                           std::vector<std::string> names;
                           MEC_TRY(r.StrList(v, p, names));
                           o.auto_order.clear();
                           for (const auto& name : names) {
                             auto t = ParseTier(name);
                             if (!t) return r.Error(v, p, "'" + name + "' is not a tier (device, edge, cloud)");
                             o.auto_order.push_back(*t);
                           }
                           if (o.auto_order.empty()) return r.Error(v, p, "needs at least one tier");
                           return Status::Ok();
                         }
                         if (k == "max_attempts") return r.Num(v, p, o.max_attempts, 1, 10);
                         if (k == "default_min_quality") return r.Num(v, p, o.default_min_quality, 0, 1);
                         if (k == "default_deadline_ms") return r.Num(v, p, o.default_deadline_ms, 0, 3.6e6);
                         if (k == "deadline_target") return r.Num(v, p, o.deadline_target, 0, 1);
                         if (k == "hedge") return r.Bool(v, p, o.hedge);
                         if (k == "quality_margin") return r.Num(v, p, o.quality_margin, 0, 1);
                         if (k == "panic_threshold") return r.Num(v, p, o.panic_threshold, 0, 1);
                         if (k == "shed_below") return r.Num(v, p, o.shed_below, 0, 1);
                         if (k == "spread") return r.Num(v, p, o.spread, 0, 1);
                         if (k == "estimate_memo") return r.Num(v, p, o.estimate_memo, 0, 1 << 20);
                         if (k == "prefix_max_blocks") return r.Num(v, p, o.prefix_max_blocks, 0, 1 << 16);
                         if (k == "prefix_capacity_blocks") return r.Num(v, p, o.prefix_capacity_blocks, 1, 1 << 24);
                         if (k == "min_quality_per") {
                           std::string per;
                           MEC_TRY(r.Str(v, p, per));
                           if (per != "class" && per != "request") return r.Error(v, p, "expected class or request, got '" + per + "'");
                           o.min_quality_per_request = per == "request";
                           return Status::Ok();
                         }
                         return r.Num(v, p, o.hedge_threshold, 0, 1);
                       }));
  auto known_policy = [&](const std::string& name) {
    if (Contains(kBuiltinPolicyNames, name)) return true;
    for (const auto& prof : o.profiles)
      if (prof.name == name) return true;
    return false;
  };
  auto check = [&](const YAML::Node& v, const std::string& p, const std::string& name, bool allow_empty) -> Status {
    if ((allow_empty && name.empty()) || known_policy(name)) return Status::Ok();
    std::string known = JoinNames(kBuiltinPolicyNames);
    for (const auto& prof : o.profiles) known += ", " + prof.name;
    return r.Error(v, p, "unknown policy '" + name + "' (known: " + known + ")");
  };
  if (policy_node) MEC_TRY(check(*policy_node, policy_path, o.policy, false));
  if (shadow_node) MEC_TRY(check(*shadow_node, shadow_path, o.shadow_policy, true));
  return Status::Ok();
}

// telemetry.decision_log.export: {s3: s3://BUCKET/PREFIX, interval_s, region, endpoint, timeout_ms}.
Status ReadDecisionExport(const Reader& r, const YAML::Node& n, const std::string& path, DecisionExportOptions& e) {
  return r.ForEachKey(n, path, {"s3", "interval_s", "region", "endpoint", "timeout_ms"},
                      [&](const std::string& k, const YAML::Node& v, const std::string& p) -> Status {
                        if (k == "s3") {
                          MEC_TRY(r.Str(v, p, e.s3));
                          if (!e.s3.starts_with("s3://") || e.s3.size() == 5 || e.s3[5] == '/')
                            return r.Error(v, p, "must be s3://BUCKET or s3://BUCKET/PREFIX");
                          return Status::Ok();
                        }
                        if (k == "interval_s") return r.Num(v, p, e.interval_s, 1, 86400 * 7);
                        if (k == "region") return r.Str(v, p, e.region);
                        if (k == "timeout_ms") return r.Num(v, p, e.timeout_ms, 100, 600000);
                        MEC_TRY(r.Str(v, p, e.endpoint));
                        if (!e.endpoint.starts_with("http://") && !e.endpoint.starts_with("https://"))
                          return r.Error(v, p, "must be an http:// or https:// URL");
                        return Status::Ok();
                      });
}

Status ReadTelemetry(const Reader& r, const YAML::Node& n, const std::string& path, TelemetryOptions& t) {
  return r.ForEachKey(
      n, path, {"metrics", "decision_log", "access_log"},
      [&](const std::string& k, const YAML::Node& v, const std::string& p) -> Status {
        if (k == "metrics") return r.Bool(v, p, t.metrics);
        if (k == "decision_log") {
          auto& d = t.decision_log;
          return r.ForEachKey(v, p, {"path", "batch", "flush_ms", "queue", "retention_rows", "retention_days", "export"},
                              [&](const std::string& dk, const YAML::Node& dv, const std::string& dp) -> Status {
                                if (dk == "path") return r.Str(dv, dp, d.path);
                                if (dk == "export") return ReadDecisionExport(r, dv, dp, d.exports);
                                if (dk == "batch") return r.Num(dv, dp, d.batch, 1, 100000);
                                if (dk == "flush_ms") return r.Num(dv, dp, d.flush_ms, 1, 3.6e6);
                                if (dk == "queue") return r.Num(dv, dp, d.queue, 1, 1e8);
                                if (dk == "retention_rows") return r.Num(dv, dp, d.retention_rows, 0, 1e12);
                                return r.Num(dv, dp, d.retention_days, 0, 36500);
                              });
        }
        auto& a = t.access_log;
        return r.ForEachKey(v, p, {"path", "emf", "emf_namespace"},
                            [&](const std::string& ak, const YAML::Node& av, const std::string& ap) -> Status {
                              if (ak == "path") return r.Str(av, ap, a.path);
                              if (ak == "emf") return r.Bool(av, ap, a.emf);
                              MEC_TRY(r.Str(av, ap, a.emf_namespace));
                              if (a.emf_namespace.empty()) return r.Error(av, ap, "must not be empty");
                              return Status::Ok();
                            });
      });
}

// "%40" -> "@"; nullopt when a '%' is not followed by two hex digits.
std::optional<std::string> PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) || !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
      return std::nullopt;
    out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
    i += 2;
  }
  return out;
}

// `state: redis[s]://[[USER]:PASSWORD@]HOST[:PORT]`, or a map {url, sync_ms, stale_ms, ejections,
// cache, cache_lookup_ms, tls_ca_file, tls_verify}. The password never appears in an error.
Status ReadState(const Reader& r, const YAML::Node& n, const std::string& path, StateOptions& st) {
  auto url = [&](const YAML::Node& v, const std::string& p) -> Status {
    std::string u;
    MEC_TRY(r.Str(v, p, u));
    const char* expected = "expected redis://HOST:PORT or rediss://HOST:PORT (TLS), optionally with [USER]:PASSWORD@ before HOST";
    st.redis_tls = u.rfind("rediss://", 0) == 0;
    if (!st.redis_tls && u.rfind("redis://", 0) != 0) return r.Error(v, p, expected);
    std::string hp = u.substr(st.redis_tls ? 9 : 8);
    st.redis_user.clear();
    st.redis_password.clear();
    if (const auto at = hp.rfind('@'); at != std::string::npos) {
      const std::string userinfo = hp.substr(0, at);
      hp = hp.substr(at + 1);
      const auto colon = userinfo.find(':');
      if (colon == std::string::npos) return r.Error(v, p, "a password alone needs its colon: write :PASSWORD@HOST");
      auto user = PercentDecode(userinfo.substr(0, colon)), pass = PercentDecode(userinfo.substr(colon + 1));
      if (!user || !pass) return r.Error(v, p, "bad %-escape in the user or password");
      if (pass->empty()) return r.Error(v, p, "empty password before '@'");
      st.redis_user = *user;
      st.redis_password = *pass;
    }
    while (!hp.empty() && hp.back() == '/') hp.pop_back();
    const auto colon = hp.rfind(':');
    st.redis_host = hp.substr(0, colon);
    if (colon != std::string::npos) {
      const std::string port = hp.substr(colon + 1);
      char* end = nullptr;
      const long v2 = std::strtol(port.c_str(), &end, 10);
      if (port.empty() || *end != '\0' || v2 < 1 || v2 > 65535) return r.Error(v, p, "bad port in '" + hp + "'");
      st.redis_port = static_cast<int>(v2);
    }
    if (st.redis_host.empty()) return r.Error(v, p, expected);
    return Status::Ok();
  };
  if (n.IsScalar()) return url(n, path);
  MEC_TRY(r.ForEachKey(n, path, {"url", "sync_ms", "stale_ms", "ejections", "cache", "cache_lookup_ms", "tls_ca_file", "tls_verify"},
                       [&](const std::string& k, const YAML::Node& v, const std::string& p) -> Status {
                         if (k == "url") return url(v, p);
                         if (k == "sync_ms") return r.Num(v, p, st.sync_ms, 10, 600000);
                         if (k == "ejections") return r.Bool(v, p, st.share_ejections);
                         if (k == "cache") return r.Bool(v, p, st.share_cache);
                         if (k == "cache_lookup_ms") return r.Num(v, p, st.cache_lookup_ms, 1, 10000);
                         if (k == "tls_ca_file") return r.Str(v, p, st.tls_ca_file);
                         if (k == "tls_verify") return r.Bool(v, p, st.tls_verify);
                         return r.Num(v, p, st.stale_ms, 100, 3.6e6);
                       }));
  if (!st.redis_tls && (!st.tls_ca_file.empty() || !st.tls_verify))
    return r.Error(n, path, "tls_ca_file and tls_verify need a rediss:// url");
  return Status::Ok();
}

// auth: {keys_db, reload_ms, redis_timeout_ms, fallback_replicas, reserve_output_tokens}.
Status ReadAuth(const Reader& r, const YAML::Node& n, const std::string& path, AuthOptions& a) {
  MEC_TRY(r.ForEachKey(n, path, {"keys_db", "reload_ms", "redis_timeout_ms", "fallback_replicas", "reserve_output_tokens"},
                       [&](const std::string& k, const YAML::Node& v, const std::string& p) -> Status {
                         if (k == "keys_db") return r.Str(v, p, a.keys_db);
                         if (k == "reload_ms") return r.Num(v, p, a.reload_ms, 10, 60000);
                         if (k == "redis_timeout_ms") return r.Num(v, p, a.redis_timeout_ms, 1, 10000);
                         if (k == "fallback_replicas") return r.Num(v, p, a.fallback_replicas, 0, 10000);
                         return r.Num(v, p, a.reserve_output_tokens, 1, 1e7);
                       }));
  if (n["keys_db"].IsDefined() && a.keys_db.empty()) return r.Error(n["keys_db"], path + ".keys_db", "must not be empty");
  return Status::Ok();
}

Status ReadCache(const Reader& r, const YAML::Node& n, const std::string& path, CacheOptions& c) {
  return r.ForEachKey(n, path, {"enabled", "max_bytes", "ttl_ms"},
                      [&](const std::string& k, const YAML::Node& v, const std::string& p) -> Status {
                        if (k == "enabled") return r.Bool(v, p, c.enabled);
                        if (k == "max_bytes") return r.Num(v, p, c.max_bytes, 0, 1e12);
                        return r.Num(v, p, c.ttl_ms, 1, 3.6e9);
                      });
}

Status ReadDashboard(const Reader& r, const YAML::Node& n, const std::string& path, DashboardOptions& d) {
  return r.ForEachKey(n, path, {"enabled", "token_env", "decisions", "window_s"},
                      [&](const std::string& k, const YAML::Node& v, const std::string& p) -> Status {
                        if (k == "enabled") return r.Bool(v, p, d.enabled);
                        if (k == "token_env") return r.Str(v, p, d.token_env);
                        if (k == "decisions") return r.Num(v, p, d.decisions, 1, 100000);
                        MEC_TRY(r.Num(v, p, d.window_s, 60, 3600));
                        if (d.window_s % 5 != 0) return r.Error(v, p, "must be a multiple of 5");
                        return Status::Ok();
                      });
}

Status ReadLearning(const Reader& r, const YAML::Node& n, const std::string& path, LearningOptions& l) {
  return r.ForEachKey(n, path,
                      {"enabled", "sample_rate", "daily_cap_usd", "reference", "judge", "sample_pinned", "retention_days",
                       "retrain_every", "retrain_interval_ms", "holdout_share", "min_samples", "queue", "labels_db",
                       "word_bits", "share", "lease_ms"},
                      [&](const std::string& k, const YAML::Node& v, const std::string& p) -> Status {
                        if (k == "enabled") return r.Bool(v, p, l.enabled);
                        if (k == "sample_rate") return r.Num(v, p, l.sample_rate, 0, 1);
                        if (k == "daily_cap_usd") return r.Num(v, p, l.daily_cap_usd, 0, 1e9);
                        if (k == "reference") return r.Str(v, p, l.reference);
                        if (k == "judge") return r.Str(v, p, l.judge);
                        if (k == "sample_pinned") return r.Bool(v, p, l.sample_pinned);
                        if (k == "retention_days") return r.Num(v, p, l.retention_days, 0, 36500);
                        if (k == "retrain_every") return r.Num(v, p, l.retrain_every, 1, 1000000);
                        if (k == "retrain_interval_ms") return r.Num(v, p, l.retrain_interval_ms, 1000, 3.6e9);
                        if (k == "holdout_share") return r.Num(v, p, l.holdout_share, 0.05, 0.5);
                        if (k == "min_samples") return r.Num(v, p, l.min_samples, 1, 1000000);
                        if (k == "queue") return r.Num(v, p, l.queue, 1, 1000000);
                        if (k == "word_bits") return r.Num(v, p, l.word_bits, 10, 20);
                        if (k == "share") return r.Bool(v, p, l.share);
                        if (k == "lease_ms") return r.Num(v, p, l.lease_ms, 1000, 3.6e6);
                        return r.Str(v, p, l.labels_db);
                      });
}

Status ReadBackend(const Reader& r, const YAML::Node& n, const std::string& path, BackendOptions& b) {
  b.line = n.Mark().line + 1;
  bool has_tier = false;
  std::optional<ContinueStyle> style;
  MEC_TRY(r.ForEachKey(
      n, path,
      {"name", "tier", "url", "models", "embedding_models", "api_key_env", "auth_header", "max_concurrency",
       "context_window", "quality_ratio", "capabilities", "stream_usage", "tls_verify", "ca_file", "timeouts", "price", "expect",
       "health_check", "outlier", "engine", "engine_poll_ms", "engine_stale_ms", "engine_max_waiting", "engine_max_kv_usage",
       "engine_cold_load_ms", "continue_style"},
      [&](const std::string& k, const YAML::Node& v, const std::string& p) -> Status {
        if (k == "name") return r.Str(v, p, b.name);
        if (k == "engine") {
          std::string e;
          MEC_TRY(r.Str(v, p, e));
          auto kind = ParseEngineKind(e);
          if (!kind) return r.Error(v, p, "expected vllm, llamacpp, ollama or openai, got '" + e + "'");
          b.engine.kind = *kind;
          return Status::Ok();
        }
        if (k == "continue_style") {
          std::string st;
          MEC_TRY(r.Str(v, p, st));
          if (st == "continue_final_message") style = ContinueStyle::kContinueFinalMessage;
          else if (st == "prefill") style = ContinueStyle::kPrefill;
          else if (st == "prefix") style = ContinueStyle::kPrefix;
          else return r.Error(v, p, "expected continue_final_message, prefill or prefix, got '" + st + "'");
          return Status::Ok();
        }
        if (k == "engine_poll_ms") return r.Num(v, p, b.engine.poll_ms, 50, 5000);
        if (k == "engine_stale_ms") return r.Num(v, p, b.engine.stale_ms, 100, 3.6e6);
        if (k == "engine_max_waiting") return r.Num(v, p, b.engine.max_waiting, 0, 1e6);
        if (k == "engine_max_kv_usage") return r.Num(v, p, b.engine.max_kv_usage, 0.01, 1);
        if (k == "engine_cold_load_ms") return r.Num(v, p, b.engine.cold_load_ms, 0, 3.6e6);
        if (k == "tier") {
          std::string t;
          MEC_TRY(r.Str(v, p, t));
          auto tier = ParseTier(t);
          if (!tier) return r.Error(v, p, "expected device, edge or cloud, got '" + t + "'");
          b.tier = *tier;
          has_tier = true;
          return Status::Ok();
        }
        if (k == "url") {
          MEC_TRY(r.Str(v, p, b.url));
          if (b.url.rfind("http://", 0) != 0 && b.url.rfind("https://", 0) != 0)
            return r.Error(v, p, "expected an http:// or https:// URL");
          while (!b.url.empty() && b.url.back() == '/') b.url.pop_back();
          return Status::Ok();
        }
        if (k == "models") return r.StrList(v, p, b.models);
        if (k == "embedding_models") return r.StrList(v, p, b.embedding_models);
        if (k == "api_key_env") return r.Str(v, p, b.api_key_env);
        if (k == "auth_header") return r.Str(v, p, b.auth_header);
        if (k == "max_concurrency") return r.Num(v, p, b.max_concurrency, 1, 1e6);
        if (k == "context_window") return r.Num(v, p, b.context_window, 16, 1e8);
        if (k == "quality_ratio") {
          double q = 1;
          MEC_TRY(r.Num(v, p, q, 0, 1));
          b.quality_ratio = q;
          return Status::Ok();
        }
        if (k == "stream_usage") return r.Bool(v, p, b.stream_usage);
        if (k == "tls_verify") return r.Bool(v, p, b.tls_verify);
        if (k == "ca_file") return r.Str(v, p, b.ca_file);
        if (k == "capabilities") {
          std::vector<std::string> caps;
          MEC_TRY(r.StrList(v, p, caps));
          for (const auto& c : caps) {
            if (c == "tools") b.tools = true;
            else if (c == "json_schema") b.json_schema = true;
            else if (c == "image_input") b.image_input = true;
            else if (c == "continue") b.can_continue = true;
            else return r.Error(v, p, "unknown capability '" + c + "' (tools, json_schema, image_input, continue)");
          }
          return Status::Ok();
        }
        if (k == "timeouts") {
          return r.ForEachKey(v, p, {"connect_ms", "first_byte_ms", "idle_ms", "total_ms"},
                              [&](const std::string& tk, const YAML::Node& tv, const std::string& tp) -> Status {
                                auto& t = b.timeouts;
                                int64_t& slot = tk == "connect_ms" ? t.connect_ms
                                                : tk == "first_byte_ms" ? t.first_byte_ms
                                                : tk == "idle_ms" ? t.idle_ms
                                                                  : t.total_ms;
                                return r.Num(tv, tp, slot, 1, 3.6e6);
                              });
        }
        if (k == "expect") {
          return r.ForEachKey(v, p, {"ttft_ms", "tokens_per_s", "rtt_ms", "half_life_ms"},
                              [&](const std::string& ek, const YAML::Node& ev, const std::string& ep) -> Status {
                                auto& e = b.expect;
                                if (ek == "ttft_ms") return r.Num(ev, ep, e.ttft_ms, 0.001, 3.6e6);
                                if (ek == "tokens_per_s") return r.Num(ev, ep, e.tokens_per_s, 0.001, 1e6);
                                if (ek == "rtt_ms") return r.Num(ev, ep, e.rtt_ms, 0.001, 3.6e6);
                                return r.Num(ev, ep, e.half_life_ms, 1, 3.6e6);
                              });
        }
        if (k == "health_check") {
          return r.ForEachKey(v, p,
                              {"enabled", "path", "interval_ms", "jitter", "timeout_ms", "healthy_threshold",
                               "unhealthy_threshold"},
                              [&](const std::string& hk, const YAML::Node& hv, const std::string& hp) -> Status {
                                auto& h = b.health_check;
                                if (hk == "enabled") return r.Bool(hv, hp, h.enabled);
                                if (hk == "path") {
                                  MEC_TRY(r.Str(hv, hp, h.path));
                                  if (h.path.empty() || h.path.front() != '/')
                                    return r.Error(hv, hp, "expected a path starting with '/' (relative to url)");
                                  return Status::Ok();
                                }
                                if (hk == "interval_ms") return r.Num(hv, hp, h.interval_ms, 10, 3.6e6);
                                if (hk == "jitter") return r.Num(hv, hp, h.jitter, 0, 0.9);
                                if (hk == "timeout_ms") return r.Num(hv, hp, h.timeout_ms, 1, 3.6e6);
                                if (hk == "healthy_threshold") return r.Num(hv, hp, h.healthy_threshold, 1, 1000);
                                return r.Num(hv, hp, h.unhealthy_threshold, 1, 1000);
                              });
        }
        if (k == "outlier") {
          return r.ForEachKey(v, p,
                              {"consecutive_local_failures", "consecutive_upstream_failures", "base_ejection_ms",
                               "max_ejection_ms", "uneject_on_health_check"},
                              [&](const std::string& ok, const YAML::Node& ov, const std::string& op) -> Status {
                                auto& o = b.outlier;
                                if (ok == "consecutive_local_failures") return r.Num(ov, op, o.consecutive_local_failures, 0, 1000);
                                if (ok == "consecutive_upstream_failures") return r.Num(ov, op, o.consecutive_upstream_failures, 0, 1000);
                                if (ok == "base_ejection_ms") return r.Num(ov, op, o.base_ejection_ms, 1, 3.6e6);
                                if (ok == "uneject_on_health_check") return r.Bool(ov, op, o.uneject_on_health_check);
                                return r.Num(ov, op, o.max_ejection_ms, 1, 8.64e7);
                              });
        }
        // price
        return r.ForEachKey(v, p,
                            {"input_per_1m", "output_per_1m", "gpu_per_hour", "gpu_tokens_per_second", "watts",
                             "usd_per_kwh"},
                            [&](const std::string& pk, const YAML::Node& pv, const std::string& pp) -> Status {
                              auto& pr = b.price;
                              double& slot = pk == "input_per_1m" ? pr.input_per_1m
                                             : pk == "output_per_1m" ? pr.output_per_1m
                                             : pk == "gpu_per_hour" ? pr.gpu_per_hour
                                             : pk == "gpu_tokens_per_second" ? pr.gpu_tokens_per_second
                                             : pk == "watts" ? pr.watts
                                                             : pr.usd_per_kwh;
                              return r.Num(pv, pp, slot, 0, 1e6);
                            });
      }));
  if (b.name.empty()) return r.Error(n, path + ".name", "required");
  if (!has_tier) return r.Error(n, path + ".tier", "required (device, edge or cloud)");
  // llama.cpp's server and Ollama continue a final assistant message as it is (docs/continuation.md).
  const bool prefills = b.engine.kind == EngineKind::kLlamaCpp || b.engine.kind == EngineKind::kOllama;
  b.continue_style = style.value_or(prefills ? ContinueStyle::kPrefill : ContinueStyle::kContinueFinalMessage);
  if (b.url.empty()) return r.Error(n, path + ".url", "required");
  if (b.models.empty() && b.embedding_models.empty()) return r.Error(n, path + ".models", "needs at least one model");
  // Cross-key checks point at the key when it is present, else at its section (defaults satisfy both).
  auto at = [&](const char* section, const char* key) {
    YAML::Node k = n[section][key];
    return k.IsDefined() ? k : YAML::Node(n[section]);
  };
  if (b.outlier.max_ejection_ms < b.outlier.base_ejection_ms)
    return r.Error(at("outlier", "max_ejection_ms"), path + ".outlier.max_ejection_ms", "must be at least base_ejection_ms");
  if (b.engine.stale_ms < b.engine.poll_ms) {
    YAML::Node k = n["engine_stale_ms"];
    return r.Error(k.IsDefined() ? k : n, path + ".engine_stale_ms", "must be at least engine_poll_ms");
  }
  if (b.health_check.timeout_ms > b.health_check.interval_ms)
    return r.Error(at("health_check", "timeout_ms"), path + ".health_check.timeout_ms", "must not exceed interval_ms");
  const ExpectOptions tier_expect = TierDefaultExpect(b.tier);  // fill what the config left out
  if (b.expect.ttft_ms <= 0) b.expect.ttft_ms = tier_expect.ttft_ms;
  if (b.expect.tokens_per_s <= 0) b.expect.tokens_per_s = tier_expect.tokens_per_s;
  if (b.expect.rtt_ms <= 0) b.expect.rtt_ms = tier_expect.rtt_ms;
  return Status::Ok();
}

// fleet: {publish, token_env, url, interval_s, stale_s, max_weight, quality_max_weight, tls_verify} (docs/fleet.md).
Status ReadFleet(const Reader& r, const YAML::Node& n, const std::string& path, FleetOptions& f) {
  MEC_TRY(r.ForEachKey(n, path, {"publish", "token_env", "url", "interval_s", "stale_s", "max_weight", "quality_max_weight", "tls_verify"},
                       [&](const std::string& k, const YAML::Node& v, const std::string& p) -> Status {
                         if (k == "publish") return r.Bool(v, p, f.publish);
                         if (k == "token_env") return r.Str(v, p, f.token_env);
                         if (k == "url") {
                           MEC_TRY(r.Str(v, p, f.url));
                           if (f.url.rfind("http://", 0) != 0 && f.url.rfind("https://", 0) != 0)
                             return r.Error(v, p, "expected http://HOST:PORT/PATH or https://HOST/PATH");
                           return Status::Ok();
                         }
                         if (k == "interval_s") return r.Num(v, p, f.interval_s, 0.2, 3600);
                         if (k == "stale_s") return r.Num(v, p, f.stale_s, 0.2, 86400);
                         if (k == "tls_verify") return r.Bool(v, p, f.tls_verify);
                         if (k == "quality_max_weight") return r.Num(v, p, f.quality_max_weight, 0, 1e6);
                         return r.Num(v, p, f.max_weight, 0.1, 1000);
                       }));
  if ((f.publish || !f.url.empty()) && f.token_env.empty())
    return r.Error(n, path + ".token_env", "required with publish or url: the fleet endpoint always needs a bearer token");
  if (!f.publish && f.url.empty()) return r.Error(n, path, "needs publish: true, a url to pull from, or both");
  if (f.stale_s == 0) f.stale_s = 3 * f.interval_s;
  if (f.stale_s < f.interval_s) return r.Error(n["stale_s"], path + ".stale_s", "must be at least interval_s");
  if (!f.tls_verify && f.url.rfind("https://", 0) != 0) return r.Error(n["tls_verify"], path + ".tls_verify", "needs an https:// url");
  return Status::Ok();
}

}  // namespace

Result<Options> LoadOptionsFromString(std::string_view yaml, std::string_view source_name) {
  Options o;
  o.source = std::string(source_name);
  Reader r{std::string(source_name)};
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("{}:{}: YAML syntax error: {}", source_name, e.mark.line + 1, e.msg));
  }
  try {
    Status s = r.ForEachKey(root, "", {"server", "routing", "telemetry", "cache", "dashboard", "backends", "state", "learning", "auth", "fleet"},
                            [&](const std::string& k, const YAML::Node& v, const std::string& p) -> Status {
                              if (k == "server") return ReadServer(r, v, p, o.server);
                              if (k == "routing") return ReadRouting(r, v, p, o.routing);
                              if (k == "telemetry") return ReadTelemetry(r, v, p, o.telemetry);
                              if (k == "cache") return ReadCache(r, v, p, o.cache);
                              if (k == "state") return ReadState(r, v, p, o.state);
                              if (k == "dashboard") return ReadDashboard(r, v, p, o.dashboard);
                              if (k == "learning") return ReadLearning(r, v, p, o.learning);
                              if (k == "auth") return ReadAuth(r, v, p, o.auth);
                              if (k == "fleet") return ReadFleet(r, v, p, o.fleet);
                              if (!v.IsSequence()) return r.Error(v, p, "expected a list of backends");
                              for (size_t i = 0; i < v.size(); ++i) {
                                BackendOptions b;
                                MEC_TRY(ReadBackend(r, v[i], "backends[" + std::to_string(i) + "]", b));
                                o.backends.push_back(std::move(b));
                              }
                              return Status::Ok();
                            });
    if (!s.ok()) return s;
    if (o.backends.empty()) return r.Error(root, "backends", "at least one backend is required");
    std::set<std::string> names;
    for (size_t i = 0; i < o.backends.size(); ++i) {
      if (!names.insert(o.backends[i].name).second)
        return r.Error(root["backends"][i]["name"], "backends[" + std::to_string(i) + "].name",
                       "duplicate backend name '" + o.backends[i].name + "'");
    }
    for (const std::string* name : {&o.learning.reference, &o.learning.judge}) {
      if (!name->empty() && !names.count(*name))
        return r.Error(root["learning"], *name == o.learning.reference ? "learning.reference" : "learning.judge",
                       "no backend is named '" + *name + "'");
    }
    if (!ListenPort(o.server.listen))
      return r.Error(root["server"]["listen"], "server.listen", "expected HOST:PORT with a port from 0 to 65535");
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("{}:{}: {}", source_name, e.mark.line + 1, e.msg));
  }
  return o;
}

Result<Options> LoadOptionsFromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return LoadOptionsFromString(ss.str(), path);
}

std::string MaskedRedisUrl(const StateOptions& st) {
  if (st.redis_host.empty()) return "";
  return fmt::format("{}://{}{}:{}", st.redis_tls ? "rediss" : "redis",
                     st.redis_password.empty() ? "" : st.redis_user + ":***@", st.redis_host, st.redis_port);
}

std::string DescribeOptions(const Options& o) {
  std::string out = fmt::format("config: {}\nlisten: {} ({} worker threads; 0 = one per core)\n", o.source,
                                o.server.listen, o.server.threads);
  out += fmt::format("limits: body {} bytes, headers {} bytes / {} fields, header timeout {} ms, body timeout {} ms\n",
                     o.server.max_body_bytes, o.server.max_header_bytes, o.server.max_header_count,
                     o.server.header_timeout_ms, o.server.body_timeout_ms);
  std::string order;
  for (Tier t : o.routing.auto_order) order += (order.empty() ? "" : " > ") + std::string(TierName(t));
  out += fmt::format("routing: policy {}{}, auto order {}, max attempts {}, default min quality {} ({}), deadline target {}, spread {}{}\n",
                     o.routing.policy, o.routing.shadow_policy.empty() ? "" : " (shadow " + o.routing.shadow_policy + ")", order,
                     o.routing.max_attempts, o.routing.default_min_quality,
                     o.routing.min_quality_per_request ? std::string("per request")
                                                       : fmt::format("class average, margin {}", o.routing.quality_margin),
                     o.routing.deadline_target, o.routing.spread,
                     o.routing.hedge ? fmt::format(", hedging below p(meet) {}", o.routing.hedge_threshold) : "");
  for (const auto& prof : o.routing.profiles) {
    std::string scorers;
    for (const auto& sw : prof.scorers) scorers += fmt::format("{}{} x{}", scorers.empty() ? "" : " + ", sw.scorer, sw.weight);
    std::string filters;
    for (const auto& f : prof.filters) filters += (filters.empty() ? "" : ", ") + f;
    out += fmt::format("profile {}: filters [{}], scorers [{}], picker {}\n", prof.name, filters, scorers, prof.picker);
  }
  const auto& tel = o.telemetry;
  out += fmt::format("telemetry: metrics {}; decision log {}; access log {}\n", tel.metrics ? "on (GET /metrics)" : "off",
                     tel.decision_log.path.empty()
                         ? std::string("off")
                         : fmt::format("{} (batches of {}, every {} ms, queue {}, keep {} rows / {} days{})",
                                       tel.decision_log.path, tel.decision_log.batch, tel.decision_log.flush_ms,
                                       tel.decision_log.queue, tel.decision_log.retention_rows,
                                       tel.decision_log.retention_days,
                                       tel.decision_log.exports.s3.empty()
                                           ? std::string()
                                           : fmt::format("; exported to {} every {} s", tel.decision_log.exports.s3,
                                                         tel.decision_log.exports.interval_s)),
                     tel.access_log.path.empty() ? std::string("off")
                                                 : (tel.access_log.path == "-" ? std::string("stderr") : tel.access_log.path) +
                                                       (tel.access_log.emf ? " (+ CloudWatch EMF, namespace " + tel.access_log.emf_namespace + ")" : ""));
  out += fmt::format("dashboard: {}; token {}\n",
                     o.dashboard.enabled ? fmt::format("on (GET /dashboard; {} decisions, {} s of history)", o.dashboard.decisions,
                                                       o.dashboard.window_s)
                                         : std::string("off"),
                     o.dashboard.token_env.empty() ? std::string("none (/dashboard, /api, /admin, /v1/feedback are open)")
                     : std::getenv(o.dashboard.token_env.c_str()) ? "from $" + o.dashboard.token_env + " (set)"
                                                                  : "from $" + o.dashboard.token_env + " (NOT SET)");
  const auto& l = o.learning;
  out += l.enabled ? fmt::format("learning: on; sample rate {}, cap ${}/day, reference {}, judge {}, pinned {}, prompts kept {} days, "
                                 "refit every {} verdicts or {} s, {}% held back{}\n",
                                 l.sample_rate, l.daily_cap_usd, l.reference.empty() ? "(strongest)" : l.reference,
                                 l.judge.empty() ? "(the reference)" : l.judge, l.sample_pinned ? "sampled" : "not sampled",
                                 l.retention_days, l.retrain_every, l.retrain_interval_ms / 1000, l.holdout_share * 100,
                                 o.state.redis_host.empty() || !l.share
                                     ? std::string()
                                     : fmt::format("; shared through Redis (one trainer, lease {} s)", l.lease_ms / 1000.0))
                   : std::string("learning: off\n");
  const auto& st = o.state;
  out += st.redis_host.empty()
             ? std::string("state: off (nothing shared between replicas)\n")
             : fmt::format("state: {} ({}{}); sync every {} ms, stale after {} ms; ejections {}, cache {}\n", MaskedRedisUrl(st),
                           !st.redis_tls ? std::string("plaintext")
                           : !st.tls_verify
                               ? std::string("TLS NOT VERIFIED: tls_verify false")
                               : "TLS, verified against the system CA store" + (st.tls_ca_file.empty() ? "" : " and " + st.tls_ca_file),
                           st.redis_password.empty() ? "" : "; AUTH", st.sync_ms, st.stale_ms,
                           st.share_ejections ? "shared" : "not shared", st.share_cache ? "shared" : "not shared");
  const auto& f = o.fleet;
  const std::string fleet_token = f.token_env.empty() ? std::string()
                                  : std::getenv(f.token_env.c_str()) ? "token from $" + f.token_env + " (set)"
                                                                     : "token from $" + f.token_env + " (NOT SET)";
  out += !f.publish && f.url.empty() ? std::string("fleet: off\n")
                                     : fmt::format("fleet: {}{}{}; {}\n", f.publish ? "publishes GET /v1/fleet/state" : "",
                                                   f.publish && !f.url.empty() ? "; " : "",
                                                   f.url.empty() ? std::string()
                                                                 : fmt::format("pulls {} every {} s (stale after {} s, at most {} observations' weight, "
                                                                               "quality feedback {})",
                                                                               f.url, f.interval_s, f.stale_s, f.max_weight,
                                                                               f.quality_max_weight > 0 ? fmt::format("as at most {} scores per backend and class", f.quality_max_weight)
                                                                                                        : std::string("not applied")),
                                                   fleet_token);
  out += fmt::format("backends ({}):\n", o.backends.size());
  for (const auto& b : o.backends) {
    std::string models, caps;
    for (const auto& m : b.models) models += (models.empty() ? "" : ", ") + m;
    for (const auto& m : b.embedding_models) models += (models.empty() ? "" : ", ") + m + " (embeddings)";
    if (b.tools) caps += " tools";
    if (b.json_schema) caps += " json_schema";
    if (b.image_input) caps += " image_input";
    if (b.can_continue)
      caps += b.continue_style == ContinueStyle::kPrefill ? " continue (prefill)"
              : b.continue_style == ContinueStyle::kPrefix ? " continue (prefix)"
                                                           : " continue (continue_final_message)";
    std::string key = b.api_key_env.empty() ? "no credential"
                      : std::getenv(b.api_key_env.c_str()) ? "key from $" + b.api_key_env + " (set)"
                                                             : "key from $" + b.api_key_env + " (NOT SET)";
    out += fmt::format("  - {} [{}] {}\n      models: {}\n      {}, header {}; max concurrency {}; context {} tokens; capabilities:{}; quality ratio {}\n",
                       b.name, TierName(b.tier), b.url, models, key, b.auth_header, b.max_concurrency,
                       b.context_window, caps.empty() ? " none" : caps,
                       b.quality_ratio ? fmt::format("{}", *b.quality_ratio) : std::string("(tier default)"));
    out += fmt::format("      timeouts: connect {} ms, first byte {} ms, idle {} ms, total {} ms{}\n", b.timeouts.connect_ms,
                       b.timeouts.first_byte_ms, b.timeouts.idle_ms, b.timeouts.total_ms,
                       b.url.rfind("https://", 0) == 0 ? (b.tls_verify ? "; TLS verified" : "; TLS NOT VERIFIED") : "");
    out += fmt::format("      expect: ttft {} ms, {} tok/s, rtt {} ms (half-life {} ms); health check: {}; outlier: "
                       "eject after {} local / {} upstream failures in a row for {} ms x ejections (max {} ms)\n",
                       b.expect.ttft_ms, b.expect.tokens_per_s, b.expect.rtt_ms, b.expect.half_life_ms,
                       b.health_check.enabled ? fmt::format("GET {} every {} ms +-{:.0f}%, timeout {} ms, {} up / {} down",
                                                             b.health_check.path, b.health_check.interval_ms,
                                                             b.health_check.jitter * 100, b.health_check.timeout_ms,
                                                             b.health_check.healthy_threshold,
                                                             b.health_check.unhealthy_threshold)
                                              : std::string("off"),
                       b.outlier.consecutive_local_failures, b.outlier.consecutive_upstream_failures,
                       b.outlier.base_ejection_ms, b.outlier.max_ejection_ms);
    if (b.engine.kind != EngineKind::kOpenAI)
      out += fmt::format("      engine: {}, polled every {} ms at the url's origin, stale after {} ms; saturated past {:g} waiting or KV {:g}\n",
                         EngineKindName(b.engine.kind), b.engine.poll_ms, b.engine.stale_ms, b.engine.max_waiting, b.engine.max_kv_usage);
  }
  return out;
}

}  // namespace mec
