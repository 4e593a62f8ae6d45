#pragma once
// The Cache agent's part of one request (DESIGN.md §3: admit -> cache -> decide -> execute ->
// record): whether it may be answered from memory and from which level, what X-MEC-Cache says,
// and whether its fresh answer is kept. No I/O: the replicas' shared level (Redis) is asked by the
// caller, between LookUpLocal and Conclude, because that wait is a socket's.
//
//   CacheStep c(cache, parsed, ctx, pool, ParseCacheControl(header));
//   auto hit = c.LookUpLocal();
//   if (!hit && c.WantsShared(shared != nullptr)) c.OfferShared(<the shared level's answer>);
//   hit = c.Conclude(telemetry);                   // null: a miss (or bypass, or not cacheable)
//   ... after a fresh answer: if (c.stores()) c.Store(answer, shared);
//
// Order of the levels: this process's cache, the replicas' shared one, then this process's answer
// to the same request in the other delivery (whole for a stream, or the reverse), converted.
// An answer is reused only when its backend is good enough for the request (GoodEnough).
// Thread-safety: one per request; the caches it is given are thread-safe.

#include <memory>
#include <string>
#include <string_view>

#include "api/request.h"
#include "backend/backend_pool.h"
#include "cache/response_cache.h"
#include "context/request_context.h"

namespace mec {

class SharedCache;
class Telemetry;

// Cache-Control from the client: no-cache skips the lookup, no-store also the store.
struct CacheControl {
  bool no_cache = false, no_store = false;
};
CacheControl ParseCacheControl(std::string_view header);

// Whether a cached answer from `backend` is good enough for this request: its tier's expected
// quality (relative to the strongest backend, as the router sees it) meets the minimum. A model
// or tier pin is part of the cache key and the client's own choice: no quality gate then.
bool GoodEnough(const RequestContext& ctx, const BackendPool& pool, int backend);

class CacheStep {
 public:
  // `cache` null: the cache is off (nothing is cacheable). All references outlive the step.
  CacheStep(ResponseCache* cache, const ParsedRequest& parsed, const RequestContext& ctx, const BackendPool& pool,
            CacheControl control);

  // A repeatable request with the cache on: it has a key, a lookup and (maybe) a store.
  bool cacheable() const { return cache_ != nullptr; }
  const std::string& key() const { return key_; }  // REQUIRES: cacheable()
  // This process's level. Null: a miss, a bypass (no-cache), or not cacheable.
  std::shared_ptr<const CachedAnswer> LookUpLocal();
  // After a local miss: whether to ask the replicas' shared level (on, not bypassed, and the
  // request allows its data anywhere: an X-MEC-Privacy device or edge answer stays here).
  bool WantsShared(bool shared_on) const;
  // The shared level's answer (null: absent or too slow). Kept locally when good enough.
  void OfferShared(std::shared_ptr<const CachedAnswer> answer);
  // Ends the lookup (the conversion level last), counts it in telemetry (may be null) and
  // returns the hit, or null.
  std::shared_ptr<const CachedAnswer> Conclude(Telemetry* telemetry);

  // X-MEC-Cache: "hit", "miss" or "bypass"; null when not cacheable. Valid after Conclude.
  const char* state() const;
  // A fresh answer is to be kept (cacheable, and not Cache-Control: no-store).
  bool stores() const { return cache_ && !control_.no_store; }
  // Keeps a fresh answer here, and in the shared level (may be null) when the privacy allows.
  void Store(CachedAnswer answer, SharedCache* shared);

 private:
  ResponseCache* cache_;
  const ParsedRequest& parsed_;
  const RequestContext& ctx_;
  const BackendPool& pool_;
  const CacheControl control_;
  std::string key_;
  std::shared_ptr<const CachedAnswer> hit_;
};

}  // namespace mec
