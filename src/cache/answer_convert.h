#pragma once
// Converting a cached answer between its two deliveries, so that a streamed request can reuse an
// answer that was given whole and the other way round (the Cache agent; docs/cache.md).
//
// Only plain-text answers convert: one choice whose message (or completion text) is text, with no
// tool calls, function call, refusal, annotations, audio or logprobs; a whole answer without usage
// has nothing to put in a stream's usage chunk, and a stream without a usage chunk (the gateway
// asks upstream for one where the backend supports it) has nothing for a whole answer's usage:
// neither converts. What does not convert returns nullopt (the request is a miss). The converted
// answer keeps id, created, model, text, finish_reason and usage; system_fingerprint and other
// top-level extras are not carried over.

#include <optional>

#include "api/request.h"
#include "cache/response_cache.h"

namespace mec {

// A whole answer's body as stream events: a first chunk with the role and the whole text, one
// with the finish_reason, and the usage-only chunk (the replay drops it unless asked).
std::optional<CachedAnswer> AsStream(const CachedAnswer& whole, Endpoint endpoint);
// A stream's events (text deltas concatenated) as one whole body.
std::optional<CachedAnswer> AsWhole(const CachedAnswer& stream, Endpoint endpoint);

}  // namespace mec
