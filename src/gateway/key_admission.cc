#include "gateway/key_admission.h"

#include <algorithm>

#include <fmt/format.h>

#include "route/predict.h"

namespace mec {
namespace {

bool Reaches(const RequestContext& ctx, const Backend& b) {
  if (!((ctx.key_tiers >> static_cast<int>(b.tier())) & 1)) return false;
  if (ctx.privacy == Privacy::kDevice && b.tier() != Tier::kDevice) return false;
  if (ctx.privacy == Privacy::kEdge && b.tier() == Tier::kCloud) return false;
  if (ctx.model == "auto") return true;
  if (auto t = ParseTier(ctx.model)) return *t == b.tier();
  return b.Serves(ctx.model);
}

}  // namespace

std::optional<ApiError> AuthorizeKey(const KeyRecord& key, std::optional<Privacy> privacy_asked, RequestContext& ctx) {
  auto forbidden = [](std::string msg, std::string param) {
    return ApiError{403, "invalid_request_error", std::move(msg), std::move(param), "permission_denied"};
  };
  if (auto t = ParseTier(ctx.model); t && !key.AllowsTier(*t))
    return forbidden(fmt::format("This API key may not use the {} tier (it allows: {}).", ctx.model, TierListName(key.tiers)), "model");
  if (!key.models.empty() && ctx.model != "auto" && !ParseTier(ctx.model) &&
      std::find(key.models.begin(), key.models.end(), ctx.model) == key.models.end())
    return forbidden("This API key may not use the model '" + ctx.model + "'.", "model");
  if (privacy_asked && static_cast<int>(*privacy_asked) < static_cast<int>(key.privacy))
    return forbidden(fmt::format("This API key keeps requests within privacy '{}'; X-MEC-Privacy '{}' asks for more.",
                                 PrivacyName(key.privacy), PrivacyName(*privacy_asked)),
                     "X-MEC-Privacy");
  ctx.key_tiers = key.tiers;
  if (static_cast<int>(key.privacy) > static_cast<int>(ctx.privacy)) ctx.privacy = key.privacy;
  return std::nullopt;
}

Reservation MaxReservation(const RequestContext& ctx, const BackendPool& pool, int64_t reserve_output_tokens) {
  const double out = ctx.output_capped ? ctx.output_tokens : static_cast<double>(reserve_output_tokens);
  Reservation r;
  r.tokens = ctx.input_tokens + static_cast<int64_t>(out);
  for (const auto& b : pool.all()) {
    if (!Reaches(ctx, *b)) continue;
    const double tps = std::max(1.0, b->options().expect.tokens_per_s);
    const double busy_s = out / tps * 2 + 10;  // a slow answer's time, for priced energy
    r.usd = std::max(r.usd, ExpectedCost(b->options().price, static_cast<double>(ctx.input_tokens), out, busy_s));
  }
  return r;
}

Reservation UsedBy(const BackendPool& pool, int backend, int64_t input_tokens, int64_t output_tokens, double busy_s) {
  Reservation r;
  if (backend < 0 || static_cast<size_t>(backend) >= pool.size()) return r;
  r.tokens = input_tokens + output_tokens;
  r.usd = ExpectedCost(pool.at(backend).options().price, static_cast<double>(input_tokens), static_cast<double>(output_tokens), busy_s);
  return r;
}

ApiError LimitError(const LimitVerdict& v) {
  if (v.refused == LimitKind::kBudget)
    return ApiError{429, "insufficient_quota", "This API key's budget for the period is spent; it resets at the period's end.", "",
                    "insufficient_quota"};
  return ApiError{429, "requests",
                  fmt::format("Rate limit reached for this API key: {}. Retry after {:.0f} s.", LimitKindName(v.refused),
                              std::max(1.0, v.retry_after_s)),
                  "", "rate_limit_exceeded"};
}

}  // namespace mec
