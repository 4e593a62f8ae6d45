#pragma once
// The record of one request through the gateway (DESIGN.md §2: request context, decision,
// outcome). The request path owns it as a plain value, fills it in steps (Telemetry::OnDecision,
// OnAttempt, OnOutcome) and then hands it over, moved, to the metrics, the access log and the
// decision log.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/hints.h"
#include "backend/attempt_result.h"
#include "core/clock.h"
#include "route/candidate.h"

namespace mec {

struct RequestContext;
struct Decision;

// How a request ended (one per request; the `status` label of mecrouter_requests_total).
enum class RequestStatus {
  kOk,            // an answer was delivered (2xx)
  kClientError,   // the backend answered 4xx (other than 429) and it was passed through
  kFailed,        // no backend could serve (the executor gave up, or routing found none)
  kMidstreamCut,  // a stream ended with an error event after its first byte
  kCancelled,     // the client went away
  kShed,          // 429 before any attempt: every candidate full and too late by waiting
  kRejected,      // 4xx before routing: bad input, unknown model or hint
};
inline constexpr int kRequestStatusCount = 7;
std::string_view RequestStatusName(RequestStatus s);


struct RequestRecord {
  std::string id;                       // the decision id (X-MEC-Decision-Id)
  std::string request_id;               // X-Request-Id (the client's, or the trace id)
  std::string key_name;                 // the caller's API key's name ("" without keys); never the key
  double key_spend_usd = 0;             // charged to that key's budget
  std::string trace_id;                 // W3C trace context: the trace this request belongs to
  double unix_s = 0;                    // arrival, seconds since the Unix epoch (fractional)
  TimePoint start{};                    // arrival on the gateway's monotonic clock

  // Request features (from the request context).
  std::string endpoint;                 // chat, completions, embeddings
  std::string model;                    // as asked
  std::string task_class;
  std::string use_case;
  int64_t input_tokens_est = 0;
  double output_tokens_est = 0;
  std::optional<double> deadline_ms;
  std::optional<double> ttft_deadline_ms;
  double min_quality = 0;
  std::string privacy;                  // any, edge, device
  std::string network;                  // X-MEC-Network as understood, "" if nothing was said
  bool stream = false;

  // The decision.
  bool decided = false;                 // false: rejected before routing, or routing failed
  std::string policy;
  std::string reason;
  std::vector<int> chain;               // backend indices, primary first
  std::vector<Candidate> candidates;    // every backend considered, with its predictions
  bool hedge_planned = false;
  double decision_s = 0;                // time spent deciding

  // The outcome.
  int attempts = 0;                     // upstream attempts sent (hedges included, skips not)
  int hedges = 0;                       // attempts started by the hedge timer
  int continuations = 0;                // attempts that continued a cut stream (docs/continuation.md)
  int backend = -1;                     // the backend that answered, or the last one tried; -1: none
  bool answered = false;                // `backend` answered (an attempt ended ok or mid-stream)
  RequestStatus status = RequestStatus::kOk;
  int http_status = 0;
  std::optional<double> ttft_s;         // arrival -> first byte to the client
  double latency_s = 0;                 // arrival -> end
  int64_t input_tokens = 0;             // from the upstream's usage when it said, else the estimate
  int64_t output_tokens = 0;
  double cost_usd = 0;                  // of the tokens actually used, at the serving backend's price
  // The cloud-only counterfactual: what the reference cloud backend (the first configured) would
  // have charged for the same tokens; a request the cloud served counts its own cost; 0 when no
  // answer was delivered or there is no cloud backend. ASSUMPTION (as the dashboard's): the cloud
  // model would have produced as many tokens.
  double cloud_only_usd = 0;
  std::string error;                    // one line, when the request did not end kOk
  // From the first upstream send to the answering upstream's last byte (proxied answers only).
  std::optional<double> upstream_s;
  // The gateway's own time: latency_s minus upstream_s (set by Telemetry::OnOutcome, kOk only).
  std::optional<double> overhead_s;

  // The candidate for backend b, or null if b was not considered.
  const Candidate* CandidateFor(int b) const;
};

// "link=5g; rtt-edge=12; rtt-cloud=85; down-mbps=40" from a parsed network view ("" if empty).
std::string FormatNetwork(const NetworkView& n);

// Copies the request features of `ctx` into `r`.
void CaptureContext(const RequestContext& ctx, RequestRecord& r);
// Copies the decision into `r` (decided = true).
void CaptureDecision(const Decision& d, double decision_s, RequestRecord& r);

}  // namespace mec
