#include "gateway/cache_step.h"

#include <algorithm>

#include "cache/answer_convert.h"
#include "cache/cache_key.h"
#include "api/hints.h"
#include "route/candidate_set.h"
#include "state/shared_cache.h"
#include "telemetry/telemetry.h"

namespace mec {

CacheControl ParseCacheControl(std::string_view v) {
  auto has = [&](std::string_view token) {
    for (size_t i = 0; i + token.size() <= v.size(); ++i)
      if (IEquals(v.substr(i, token.size()), token)) return true;
    return false;
  };
  CacheControl c;
  c.no_store = has("no-store");
  c.no_cache = c.no_store || has("no-cache");
  return c;
}

bool GoodEnough(const RequestContext& ctx, const BackendPool& pool, int backend) {
  if (backend < 0 || static_cast<size_t>(backend) >= pool.size()) return false;
  if (ctx.model != "auto") return true;
  double strongest = 0;
  for (const auto& b : pool.all()) strongest = std::max(strongest, BackendQuality(ctx, *b));
  const double q = strongest > 0 ? BackendQuality(ctx, pool.at(backend)) / strongest : 1.0;
  return q + 1e-9 >= ctx.min_quality;
}

CacheStep::CacheStep(ResponseCache* cache, const ParsedRequest& parsed, const RequestContext& ctx, const BackendPool& pool,
                     CacheControl control)
    : cache_(cache && Repeatable(parsed) ? cache : nullptr), parsed_(parsed), ctx_(ctx), pool_(pool), control_(control) {
  if (cache_) key_ = CacheKey(parsed_);
}

std::shared_ptr<const CachedAnswer> CacheStep::LookUpLocal() {
  if (!cache_ || control_.no_cache) return nullptr;
  hit_ = cache_->Get(key_);
  if (hit_ && !GoodEnough(ctx_, pool_, hit_->backend)) hit_ = nullptr;  // another tier must answer
  return hit_;
}

bool CacheStep::WantsShared(bool shared_on) const {
  return shared_on && cache_ && !control_.no_cache && !hit_ && ctx_.privacy == Privacy::kAny;
}

void CacheStep::OfferShared(std::shared_ptr<const CachedAnswer> answer) {
  if (!answer || hit_ || !GoodEnough(ctx_, pool_, answer->backend)) return;
  cache_->Put(key_, *answer);
  hit_ = std::move(answer);
}

std::shared_ptr<const CachedAnswer> CacheStep::Conclude(Telemetry* telemetry) {
  if (!cache_) return nullptr;
  const Endpoint e = parsed_.endpoint;
  if (!control_.no_cache && !hit_ && (e == Endpoint::kChatCompletions || e == Endpoint::kCompletions)) {
    // The same answer given in the other delivery (whole for a stream, or the reverse), converted.
    auto other = cache_->Get(CacheKeyFor(parsed_, !parsed_.stream));
    if (other && GoodEnough(ctx_, pool_, other->backend)) {
      auto converted = parsed_.stream ? AsStream(*other, e) : AsWhole(*other, e);
      if (converted) {
        cache_->Put(key_, *converted);
        hit_ = std::make_shared<const CachedAnswer>(std::move(*converted));
      }
    }
  }
  if (telemetry) telemetry->OnCacheLookup(hit_ ? CacheLookup::kHit : control_.no_cache ? CacheLookup::kBypass : CacheLookup::kMiss);
  return hit_;
}

const char* CacheStep::state() const {
  if (!cache_) return nullptr;
  return hit_ ? "hit" : control_.no_cache ? "bypass" : "miss";
}

void CacheStep::Store(CachedAnswer answer, SharedCache* shared) {
  if (!stores()) return;
  if (shared && ctx_.privacy == Privacy::kAny) shared->Put(key_, answer);
  cache_->Put(key_, std::move(answer));
}

}  // namespace mec
