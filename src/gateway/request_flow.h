#pragma once
// One request's routing and failover, without I/O (DESIGN.md §3: decide -> shed -> execute ->
// record). The gateway (net/gateway_handler.cc) drives it from sockets, the simulator
// (sim/simulator.cc) from simulated attempts: both call the same steps, so they cannot drift.
//
//   RequestFlow flow(engine, ctx, record);
//   switch (flow.Decide(policy, rng, shadow)) { ... }        // kRoute: run the attempts
//   FailoverAction a = flow.Start();                          // kStartAttempt: send to a.backend
//   ... a = flow.OnFailure(b, failure, sent);                 // before the first byte
//   ... a = flow.OnHedgeTimer();                              // at flow.HedgeAt()
//   ... for (int loser : flow.OnFirstByte(b)) cancel it;      // the winner is committed
//   flow.OnAttemptEnd(b, AttemptResult::k..., timing);        // every attempt that did not fail
//                                                             // before its first byte, once
//   ... int c = flow.PickContinuation(cut, stream_ok);        // after a cut: continue elsewhere
//   ... flow.OnContinued(c) or OnContinuationFailure(c, ...)  // (docs/continuation.md)
// Each attempt's outcome feeds, in one place, the Resource agent (BackendMonitor: latency
// estimates, outlier detection), the answer-length learner, the replicas' shared observations
// and telemetry (mecrouter_attempts_total, the decision log's attempts).
//
// Every FailoverAction::kStartAttempt the flow returns names a backend admitted just now by the
// monitor (BackendMonitor::AdmitAttempt, fresher than the decision's snapshot); an ejected one is
// skipped without using up an attempt. A decision's hedge runs only with a positive delay.
//
// Thread-safety: one flow belongs to one request (one coroutine or the simulation thread).

#include <optional>
#include <vector>

#include "backend/attempt_result.h"
#include "context/request_context.h"
#include "core/rng.h"
#include "gateway/engine.h"
#include "gateway/failover_machine.h"
#include "route/router.h"
#include "telemetry/request_record.h"

namespace mec {

// When an attempt's bytes came and went, on the engine's clock.
struct AttemptTiming {
  TimePoint sent{};
  std::optional<TimePoint> first;  // its first byte (token) arrived; unset: none came
  TimePoint end{};
  int64_t output_tokens = 0;
  bool streamed = true;  // false: only the whole answer's arrival was seen
};

class RequestFlow {
 public:
  // `record`: this request's telemetry record (null without telemetry). Both outlive the flow.
  RequestFlow(const Engine& engine, const RequestContext& ctx, RequestRecord* record);

  enum class Verdict {
    kRoute,        // run the attempts (Start)
    kNotFound,     // no backend serves the model: 404
    kUnavailable,  // routing found none that can serve it now: 503 (status().message() says why)
    kShed,         // every candidate full and too late by waiting: 429 with Retry-After
  };
  // Decides with `policy` (the shadow, if any and different, only for the record) and charges the
  // quality controller. REQUIRES: called once, first.
  Verdict Decide(const Router& policy, Rng& rng, const Router* shadow = nullptr);
  const Decision& decision() const { return *decision_; }  // REQUIRES: Decide returned kRoute or kShed
  const Status& status() const { return status_; }         // kNotFound / kUnavailable: why
  TimePoint start() const { return start_; }

  // The failover machine behind the monitor's admission gate (see above).
  FailoverAction Start();
  std::optional<TimePoint> HedgeAt() const { return machine_->HedgeAt(); }
  FailoverAction OnHedgeTimer();
  // The attempt on `backend`, sent at `sent`, failed before its first byte.
  FailoverAction OnFailure(int backend, const AttemptFailure& f, TimePoint sent);
  // `backend` produced the first byte for the client: it wins. Returns the other running attempts'
  // backends to cancel (report each with OnAttemptEnd(..., kCancelled, ...)).
  std::vector<int> OnFirstByte(int backend);
  // An attempt ended other than by failing before its first byte: kOk, kClientError,
  // kMidstreamCut, kCancelled. Returns true when a backend's health changed and the monitor
  // published a new snapshot.
  bool OnAttemptEnd(int backend, AttemptResult r, const AttemptTiming& t);

  // Mid-stream continuation (DESIGN.md §8): the stream from `cut` broke after the client had
  // received part of the answer. Returns the backend to continue it on, admitted by the monitor
  // just now, or -1: none (the stream ends with an error event). Candidates have the `continue`
  // capability, are in the decision's chain (what its policy allows, in its order: privacy, model,
  // capabilities, context and a pinned tier hold), were not tried for this request's
  // continuations yet. At most kMaxContinuations seams per request (a
  // continuation that fails before its first event, OnContinuationFailure, does not count).
  // `device_only`: the client is known to be offline now (the simulator's coverage gaps).
  int PickContinuation(int cut, bool device_only = false);
  static constexpr int kMaxContinuations = 2;
  // The continuation on `backend` failed before its first event (r: how), or refused it (a 4xx:
  // kClientError). Report a continuation that streamed with OnAttemptEnd, as any attempt.
  void OnContinuationFailure(int backend, AttemptResult r, const AttemptTiming& t);
  // The continuation on `backend` sent its first event: the seam is made (counted: /api/stats
  // `continuations`, the record's, mecrouter_continued_streams_total).
  void OnContinued(int backend);
  int continuations() const { return continuations_; }

  bool routed() const { return machine_.has_value(); }  // Decide returned kRoute
  const FailoverMachine& machine() const { return *machine_; }  // REQUIRES: routed()
  bool hedge_won() const { return hedge_won_; }

 private:
  FailoverAction Admitted(FailoverAction act, TimePoint now);  // `now`: the caller's reading of the clock
  bool Observe(int backend, AttemptResult r, const AttemptTiming& t);
  void Trace(int backend, AttemptResult r) const;
  // The prompt's blocks are sent to `backend`: it will hold them (prefix affinity).
  void RecordPrefix(int backend);

  const Engine& e_;
  const RequestContext& ctx_;
  RequestRecord* record_;
  TimePoint start_{};
  std::optional<Decision> decision_;
  Status status_;
  std::optional<FailoverMachine> machine_;
  bool hedge_won_ = false;
  int continuations_ = 0;     // picked
  int failed_continuations_ = 0;
  std::vector<int> continued_on_;  // backends tried for continuations, and the ones that were cut
};

}  // namespace mec
