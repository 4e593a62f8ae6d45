#include "net/key_routes.h"

#include <simdjson.h>

#include <fmt/format.h>

#include "core/json_writer.h"
#include "dashboard/access_guard.h"
#include "net/bounded_wait.h"

namespace mec::net {
namespace {

void WriteRecord(JsonWriter& w, const KeyRecord& r) {
  w.Field("name", r.name).Field("key_prefix", "mk-" + r.id.substr(0, 8));
  w.Field("revoked", r.revoked).Field("created", r.created_unix);
  if (r.expires_unix) w.Field("expires", r.expires_unix);
  w.Key("limits").BeginObject();
  w.Field("rpm", r.limits.rpm).Field("tpm", r.limits.tpm).Field("max_parallel", r.limits.max_parallel);
  w.Field("budget_usd", r.limits.budget_usd).Field("budget_period", BudgetPeriodName(r.limits.period)).EndObject();
  w.Key("tiers").BeginArray();
  for (Tier t : {Tier::kDevice, Tier::kEdge, Tier::kCloud})
    if (r.AllowsTier(t)) w.String(TierName(t));
  w.EndArray().Field("privacy", PrivacyName(r.privacy));
  w.Key("models").BeginArray();
  for (const auto& m : r.models) w.String(m);
  w.EndArray();
}

// A create request's body -> a record's name and limits; errors name the field.
Result<KeyRecord> ParseCreate(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(body).get_object().get(o)) return Status::InvalidArgument("expected a JSON object");
  KeyRecord r;
  for (auto [k, v] : o) {
    auto num = [&](auto& out, const char* field) -> Status {
      double d = 0;
      if (v.get_double().get(d) || d < 0) return Status::InvalidArgument(std::string("'") + field + "' must be a number >= 0");
      out = static_cast<std::remove_reference_t<decltype(out)>>(d);
      return Status::Ok();
    };
    std::string_view s;
    Status st;
    if (k == "name") {
      if (v.get_string().get(s)) return Status::InvalidArgument("'name' must be a string");
      r.name = std::string(s);
    } else if (k == "budget_usd") st = num(r.limits.budget_usd, "budget_usd");
    else if (k == "rpm") st = num(r.limits.rpm, "rpm");
    else if (k == "tpm") st = num(r.limits.tpm, "tpm");
    else if (k == "max_parallel") st = num(r.limits.max_parallel, "max_parallel");
    else if (k == "budget_period") {
      auto p = v.get_string().get(s) ? std::nullopt : ParseBudgetPeriod(s);
      if (!p) return Status::InvalidArgument("'budget_period' must be one of 1h, 1d, 1w, 1mo");
      r.limits.period = *p;
    } else if (k == "privacy") {
      auto p = v.get_string().get(s) ? std::nullopt : ParsePrivacyName(s);
      if (!p) return Status::InvalidArgument("'privacy' must be one of any, edge, device");
      r.privacy = *p;
    } else if (k == "tiers" || k == "models") {
      simdjson::dom::array a;
      if (v.get_array().get(a)) return Status::InvalidArgument(std::string("'") + std::string(k) + "' must be an array of strings");
      std::string csv;
      std::vector<std::string> list;
      for (auto e : a) {
        if (e.get_string().get(s)) return Status::InvalidArgument(std::string("'") + std::string(k) + "' must be an array of strings");
        if (!csv.empty()) csv += ',';
        csv += s;
        list.emplace_back(s);
      }
      if (k == "models") r.models = std::move(list);
      else {
        auto bits = ParseTierList(csv);
        if (!bits.ok()) return bits.status();
        r.tiers = *bits;
      }
    } else if (k == "expires") {
      if (v.get_string().get(s)) return Status::InvalidArgument("'expires' must be a date string (YYYY-MM-DD)");
      auto e = ParseExpiry(s);
      if (!e.ok()) return e.status();
      r.expires_unix = *e;
    } else {
      return Status::InvalidArgument("unknown field '" + std::string(k) +
                                     "' (known: name, budget_usd, budget_period, rpm, tpm, max_parallel, tiers, privacy, models, expires)");
    }
    if (!st.ok()) return st;
  }
  if (r.name.empty()) return Status::InvalidArgument("'name' is required");
  if (r.limits.budget_usd > 0 && r.limits.period == BudgetPeriod::kNone)
    return Status::InvalidArgument("'budget_usd' needs 'budget_period' (1h, 1d, 1w, 1mo)");
  return r;
}

HttpResponse StatusError(const Status& s, unsigned v, bool ka) {
  const bool missing = s.code() == StatusCode::kNotFound;
  ApiError e{missing ? 404 : 400, "invalid_request_error", s.message(), "", missing ? "key_not_found" : "invalid_value"};
  return ErrorResponse(e, v, ka);
}

std::string UsageJson(const KeyRecord& k, const KeyUsage& u, std::string_view source) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("object", "usage").Field("key", k.name).Field("source", source);
  w.Key("limits").BeginObject();
  w.Field("rpm", k.limits.rpm).Field("tpm", k.limits.tpm).Field("max_parallel", k.limits.max_parallel);
  w.Field("budget_usd", k.limits.budget_usd).Field("budget_period", BudgetPeriodName(k.limits.period)).EndObject();
  w.Field("requests_this_minute", u.requests_this_minute).Field("tokens_this_minute", u.tokens_this_minute);
  w.Field("in_flight", u.in_flight).Field("spend_usd", u.spend_usd);
  if (k.limits.budget_usd > 0) w.Field("remaining_usd", std::max(0.0, k.limits.budget_usd - u.spend_usd));
  w.Key("period").BeginObject().Field("start_unix_ms", u.period.start_ms);
  if (u.period.end_ms != INT64_MAX) w.Field("end_unix_ms", u.period.end_ms);
  w.EndObject().EndObject();
  return out;
}

}  // namespace

std::string KeyRecordJson(const KeyRecord& r, std::string_view key) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  if (!key.empty()) w.Field("key", key);
  WriteRecord(w, r);
  w.EndObject();
  return out;
}

std::optional<HttpResponse> KeyAdminRoute(GatewayShared& s, const HttpRequest& req, std::string_view path) {
  if (path != "/admin/keys" && path.rfind("/admin/keys/", 0) != 0 && path != "/admin/keys-audit") return std::nullopt;
  const unsigned v = req.version();
  const bool ka = req.keep_alive();
  if (!s.keys)
    return ErrorResponse({404, "invalid_request_error", "API keys are not configured (auth.keys_db; docs/security.md).", "", "keys_disabled"}, v, ka);
  if (!s.admin_token_set)
    return ErrorResponse({403, "invalid_request_error",
                          "The admin API needs an operator token (dashboard.token_env); without one, manage keys with `mecrouter keys`.",
                          "", "admin_token_required"},
                         v, ka);
  if (!BearerMatches(req[http::field::authorization], s.admin_token))  // checked before too; never a key holder's key
    return ErrorResponse({401, "invalid_request_error", "The admin API needs the operator token (Authorization: Bearer).", "", "invalid_api_key"}, v, ka);
  const std::string who = "admin-api";
  const bool get = req.method() == http::verb::get;
  const bool post = req.method() == http::verb::post;
  if (path == "/admin/keys-audit" && get) {
    auto entries = s.keys->Audit(200);
    if (!entries.ok()) return StatusError(entries.status(), v, ka);
    std::string out;
    JsonWriter w(out);
    w.BeginObject().Field("object", "list").Key("data").BeginArray();
    for (const auto& e : *entries)
      w.BeginObject().Field("at", e.at_unix).Field("who", e.who).Field("action", e.action).Field("name", e.name).Field("detail", e.detail).EndObject();
    w.EndArray().EndObject();
    return NoStore(JsonResponse(std::move(out), v, ka));
  }
  if (path == "/admin/keys") {
    if (get) {
      auto all = s.keys->List();
      if (!all.ok()) return StatusError(all.status(), v, ka);
      std::string out;
      JsonWriter w(out);
      w.BeginObject().Field("object", "list").Key("data").BeginArray();
      for (const auto& r : *all) {
        w.BeginObject();
        WriteRecord(w, r);
        w.EndObject();
      }
      w.EndArray().EndObject();
      return NoStore(JsonResponse(std::move(out), v, ka));
    }
    if (post) {
      if (auto bad = CheckJsonContentType(req[http::field::content_type])) return ErrorResponse(*bad, v, ka);
      auto base = ParseCreate(req.body());
      if (!base.ok()) return StatusError(base.status(), v, ka);
      auto k = s.keys->Create(*base, who);
      if (!k.ok()) return StatusError(k.status(), v, ka);
      return NoStore(JsonResponse(KeyRecordJson(k->record, k->key), v, ka, http::status::created));
    }
  } else {
    std::string_view rest = path.substr(std::string_view("/admin/keys/").size());
    std::string_view action;
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
      action = rest.substr(slash + 1);
      rest = rest.substr(0, slash);
    }
    const std::string name(rest);
    if (action.empty() && get) {
      auto r = s.keys->Find(name);
      if (!r.ok()) return StatusError(r.status(), v, ka);
      return NoStore(JsonResponse(KeyRecordJson(*r), v, ka));
    }
    if (action == "revoke" && (post || req.method() == http::verb::delete_)) {
      if (Status st = s.keys->Revoke(name, who); !st.ok()) return StatusError(st, v, ka);
      auto r = s.keys->Find(name);
      if (!r.ok()) return StatusError(r.status(), v, ka);
      return NoStore(JsonResponse(KeyRecordJson(*r), v, ka));
    }
    if (action == "rotate" && post) {
      auto k = s.keys->Rotate(name, who);
      if (!k.ok()) return StatusError(k.status(), v, ka);
      return NoStore(JsonResponse(KeyRecordJson(k->record, k->key), v, ka));
    }
  }
  return ErrorResponse({405, "invalid_request_error", fmt::format("Method not allowed for {}.", path), "", "method_not_allowed"}, v, ka);
}

awaitable<HttpResponse> KeyUsageRoute(GatewayShared& s, const HttpRequest& req) {
  const unsigned v = req.version();
  const bool ka = req.keep_alive();
  if (!s.keys)
    co_return ErrorResponse({404, "invalid_request_error", "API keys are not configured (auth.keys_db; docs/security.md).", "", "keys_disabled"}, v, ka);
  auto key_or = s.keys->Authenticate(req[http::field::authorization]);
  if (auto* e = std::get_if<ApiError>(&key_or)) co_return ErrorResponse(*e, v, ka);
  KeyGuard::KeyPtr key = std::get<KeyGuard::KeyPtr>(key_or);
  std::optional<KeyUsage> shared;
  if (RedisLimiter* redis = s.keys->redis(); redis && redis->up()) {
    using Usage = std::optional<KeyUsage>;  // nullopt: Redis unavailable
    const Duration bound = std::chrono::milliseconds(std::max<int64_t>(s.options.auth.redis_timeout_ms, 200));
    const std::function<void(std::function<void(Usage)>)> start = [&](std::function<void(Usage)> done) {  // named: g++ 12
      redis->Usage(*key, s.clock.UnixMillis(), std::move(done));
    };
    auto got = co_await BoundedWait<Usage>(bound, start);
    if (got) shared = std::move(*got);
  }
  const std::string body = shared ? UsageJson(*key, *shared, "shared") : UsageJson(*key, s.keys->LocalUsage(*key), "this replica");
  co_return NoStore(JsonResponse(body, v, ka));
}

}  // namespace mec::net
