#pragma once
// Something that wants to see every finished request, e.g. the dashboard's live statistics
// (dashboard/live_stats.h). Telemetry::OnOutcome calls it once per request, after latency, input
// tokens and cost are filled in and before the record moves on to the logs.
//
// Contract for implementations: called from any worker thread, on the request path: be quick
// (a short mutex hold at most), never block, never throw; copy what you keep.

namespace mec {

struct RequestRecord;

class OutcomeObserver {
 public:
  virtual ~OutcomeObserver() = default;
  virtual void OnOutcome(const RequestRecord& r) = 0;
};

}  // namespace mec
