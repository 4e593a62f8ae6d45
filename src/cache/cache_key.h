#pragma once
// The response cache's key (the Cache agent, DESIGN.md §3): which requests may share an answer.
//
// A request is repeatable when its answer is meant to be deterministic: temperature 0, or a fixed
// seed (and n == 1). The key covers every field that changes the answer — the endpoint, the
// requested model (so a tier or model pin only matches its own answers) and every top-level body
// field except those that only change its delivery (stream_options, and the mec hints, which
// never reach the key) — plus whether it streams, since a streamed answer is replayed as a stream.
// Fields are sorted by name, so key order in the JSON does not matter. The key is a SHA-256, so
// a client cannot craft a body that collides with another's answer.

#include <optional>
#include <string>

#include "api/request.h"

namespace mec {

// True when the request's answer may be reused (see above).
bool Repeatable(const ParsedRequest& req);

// The cache key of a repeatable request: 64 hex digits.
std::string CacheKey(const ParsedRequest& req);
// The key the same request would have with the other delivery (`stream` instead of req.stream):
// where a converted answer (answer_convert.h) may be found.
std::string CacheKeyFor(const ParsedRequest& req, bool stream);

}  // namespace mec
