#pragma once
// What an API key allows one request (docs/security.md), without I/O: the 403s (a tier, model or
// privacy the key does not allow), the key's tiers and privacy applied to the request's context,
// the reservation taken at admission (its maximum cost and tokens), what it actually used, and the
// 429 a refused reservation becomes. net/proxy_call.cc drives it between parsing and routing.

#include <optional>

#include "api/error.h"
#include "auth/limits.h"
#include "backend/backend_pool.h"
#include "context/request_context.h"

namespace mec {

// A 403 when the key forbids what the request asks for explicitly: a tier (model "device",
// "edge", "cloud"), a concrete model outside the key's list, or X-MEC-Privacy looser than the
// key's (`privacy_asked`: the request's own hint, if any). Otherwise narrows `ctx` to the key's
// tiers and privacy and returns nullopt.
std::optional<ApiError> AuthorizeKey(const KeyRecord& key, std::optional<Privacy> privacy_asked, RequestContext& ctx);

// The most the request may use: its input plus its output bound (max_tokens, else
// `reserve_output_tokens`) in tokens, and that at the price of the dearest backend it may reach.
Reservation MaxReservation(const RequestContext& ctx, const BackendPool& pool, int64_t reserve_output_tokens);

// What an answer used: its tokens, and their cost at the serving backend's price (busy_s: the
// request's duration, for priced energy). backend < 0: nothing was served.
Reservation UsedBy(const BackendPool& pool, int backend, int64_t input_tokens, int64_t output_tokens, double busy_s);

// The 429 for a refused reservation: `insufficient_quota` for a spent budget, `rate_limit_exceeded`
// for the rest (OpenAI's codes), with the limit named.
ApiError LimitError(const LimitVerdict& v);

}  // namespace mec
