#pragma once
// How one upstream attempt ended: the one vocabulary of the executor (gateway/failover_machine.h), the
// Resource agent (backend_monitor.h, outlier_detector.h), telemetry (the `result` label of
// mecrouter_attempts_total) and the simulator. What a result says about the backend's health is
// decided here, in one place (the predicates below), after Envoy's split between local-origin and
// upstream errors (split_external_local_origin_errors).

#include <string_view>

namespace mec {

enum class AttemptResult {
  kOk,           // an answer, or a stream that ended normally
  kConnect,      // connect failed: refused, unreachable, DNS, TLS handshake
  kTimeout,      // no first byte in time
  kReset,        // the connection closed before the first byte
  kServerError,  // HTTP 5xx
  kRateLimited,  // HTTP 429: busy, not broken
  kMidstreamCut, // failed after the first byte
  kCancelled,    // the client left, or a hedge lost: says nothing about the backend
  kClientError,  // HTTP 4xx (not 429), passed through to the client: the backend works
  kSkipped,      // never sent: the backend was ejected since the decision
};
inline constexpr int kAttemptResultCount = 10;

// "ok", "connect", ... (metric labels, logs).
std::string_view AttemptResultName(AttemptResult r);
// "connect failed", "timeout", ... (error messages).
std::string_view AttemptResultText(AttemptResult r);

// The path or the host is unreachable (the outlier detector's local-origin streak).
constexpr bool IsLocalFailure(AttemptResult r) { return r == AttemptResult::kConnect || r == AttemptResult::kTimeout; }
// The server is sick (the upstream streak).
constexpr bool IsUpstreamFailure(AttemptResult r) {
  return r == AttemptResult::kReset || r == AttemptResult::kServerError || r == AttemptResult::kMidstreamCut;
}
constexpr bool IsFailure(AttemptResult r) { return IsLocalFailure(r) || IsUpstreamFailure(r); }
// A response came back (any status, a cut stream included): the path works.
constexpr bool ProvesPath(AttemptResult r) {
  return r == AttemptResult::kOk || r == AttemptResult::kClientError || r == AttemptResult::kRateLimited || IsUpstreamFailure(r);
}
// Says nothing about the backend: left out of every health statistic.
constexpr bool SaysNothing(AttemptResult r) { return r == AttemptResult::kCancelled || r == AttemptResult::kSkipped; }

}  // namespace mec
