#pragma once
// Counters of the gateway's request outcomes, shared by all workers (relaxed atomics).
// Every accepted request ends in exactly one of: completed, failed, midstream_cut,
// client_cancelled, rejected (bad input, 4xx before routing), shed (429 before any attempt).

#include <atomic>
#include <cstdint>
#include <string>

namespace mec {

struct GatewayStats {
  std::atomic<uint64_t> requests{0};          // every request to a /v1 endpoint
  std::atomic<uint64_t> rejected{0};          // 4xx for bad input or unknown model
  std::atomic<uint64_t> completed{0};         // a full answer was delivered (incl. upstream 4xx passed through)
  std::atomic<uint64_t> failed{0};            // an error answer after routing (no backend could serve)
  std::atomic<uint64_t> midstream_cuts{0};    // a stream ended with an error event after its first byte
  std::atomic<uint64_t> client_cancelled{0};  // the client went away before the end
  std::atomic<uint64_t> failovers{0};         // attempts after the first
  std::atomic<uint64_t> upstream_attempts{0};
  std::atomic<uint64_t> hedges{0};            // second attempts started beside a slow first one
  std::atomic<uint64_t> hedge_wins{0};        // ... that answered first
  std::atomic<uint64_t> hedge_cost_nano_usd{0};  // estimated cost of the attempts that lost a race
  std::atomic<uint64_t> shed{0};              // 429: every candidate full and too late by waiting
  std::atomic<uint64_t> shadow_agree{0};      // the shadow policy chose the same primary
  std::atomic<uint64_t> shadow_disagree{0};
  std::atomic<uint64_t> feedback{0};          // POST /v1/feedback accepted
  std::atomic<uint64_t> cache_hits{0};        // answered from the response cache (also counted completed)
  std::atomic<uint64_t> continuations{0};     // a cut stream continued on another backend (docs/continuation.md)

  // JSON object of every counter plus in_flight = requests not yet ended (a response may
  // reach the client a moment before its outcome is counted).
  std::string ToJson() const;
};

}  // namespace mec
