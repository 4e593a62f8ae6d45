#pragma once
// A request's ids for correlation across hops: X-Request-Id and W3C Trace Context (traceparent,
// https://www.w3.org/TR/trace-context/#traceparent-header).
//
// - X-Request-Id: the client's, when it is 1-128 characters of [A-Za-z0-9._:/+=@-]; otherwise
//   (absent or not acceptable) the trace id. Sent back on every answer and passed upstream.
// - traceparent: a valid incoming one (version 00, or a later version read as 00; trace id and
//   parent id not all zeros, lowercase hex) keeps its trace id and flags; mecrouter is a hop, so
//   upstreams get a new parent id (this gateway's span). Without a valid one, a new trace starts
//   (flags 01, sampled). `tracestate` is passed on unchanged when the traceparent was valid.
// Both ids go into the access log and the decision log (telemetry/request_record.h).

#include <string>
#include <string_view>

#include "core/rng.h"

namespace mec::net {

struct RequestIds {
  std::string request_id;
  std::string trace_id;   // 32 lowercase hex digits
  std::string span_id;    // 16: this gateway's span, the upstreams' parent id
  std::string parent_id;  // 16: the caller's span; empty when this gateway started the trace
  std::string flags = "01";
  std::string tracestate;  // passed on when the caller's traceparent was valid

  // The traceparent header for an upstream request.
  std::string Traceparent() const;

  // From the client's headers (either may be empty: absent).
  static RequestIds From(std::string_view x_request_id, std::string_view traceparent, std::string_view tracestate, Rng& rng);
};

// Parsing, exposed for tests. True when `v` is a valid traceparent; fills the ids and flags.
bool ParseTraceparent(std::string_view v, std::string& trace_id, std::string& parent_id, std::string& flags);
bool AcceptableRequestId(std::string_view v);

}  // namespace mec::net
