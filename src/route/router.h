#pragma once
// The routing interface (DESIGN.md §3 Router): a request context and the current backend
// snapshot in, a decision out — the chosen backend first, then the ordered fallbacks — or an
// error. Implementations perform no I/O, take no locks, and read time and randomness only
// through what they are given, so the gateway and the simulator run the same code.

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "backend/backend_pool.h"
#include "backend/pool_snapshot.h"
#include "context/request_context.h"
#include "core/rng.h"
#include "core/status.h"
#include "learn/quality_budget.h"
#include "learn/quality_feedback.h"
#include "route/candidate.h"

namespace mec {

// What a decision may read besides the request.
struct RouteEnv {
  const BackendPool& pool;
  const PoolSnapshot& snapshot;
  Rng& rng;                     // the caller's stream (one per worker or per simulated client)
  TimePoint now{};
  // Optional: the learned quality of backend b for a task class, given the predicted quality
  // (learn/quality_feedback). Null: the prediction stands.
  const std::function<double(int backend, const std::string& task_class, double predicted)>* adjust_quality = nullptr;
  // Optional: the per-class minimum-quality controller (learn/quality_budget.h) that `adaptive`
  // reads unless the request holds its minimum per request. Null: every request's minimum is a
  // floor. Decide only reads it; the caller charges the decision (ChargeQuality) once it acts on
  // it.
  QualityBudget* quality_budget = nullptr;
  // Optional, and preferred over adjust_quality when set: the learned quality of every backend
  // for the request's task class in one lookup (QualityFeedback::AdjustAll). REQUIRES: it says
  // what adjust_quality would, when both are set.
  const QualityFeedback* quality_feedback = nullptr;
  // Optional, by backend index: prompt tokens each backend's KV cache probably holds (prefix
  // affinity; the caller reads them from cache/prefix_index.h). Empty: none anywhere.
  std::span<const double> prefix_tokens{};
};

struct Decision {
  std::vector<int> chain;       // backend indices: primary first, then fallbacks in order
  std::string policy;
  std::string reason;           // one line, for X-MEC-Reason and the decision log
  std::vector<Candidate> candidates;  // every backend considered, with its predictions
  bool hedge = false;           // start the first fallback early if the primary is slow
  double hedge_delay_s = 0;
  bool shed = false;            // every candidate is full and waiting cannot meet the deadline
  double retry_after_s = 0;     // with shed
  // The minimum quality's class, when the policy held it as a class average (slot -1 otherwise),
  // and the predicted quality of the primary, which ChargeQuality records.
  QualityGate quality_gate;
  double primary_quality = 1;
};

// Records a decision the caller acts on (not a shadow decision, not a shed one) in the quality
// controller it was decided with. No-op without a controller or a class.
inline void ChargeQuality(const RouteEnv& env, const Decision& d) {
  if (env.quality_budget && d.quality_gate.slot >= 0 && !d.shed) env.quality_budget->Charge(d.quality_gate, d.primary_quality);
}

class Router {
 public:
  virtual ~Router() = default;
  virtual std::string_view name() const = 0;
  // NotFound: no backend serves the model. Unavailable: some do, but none can take this request
  // (the message says why).
  virtual Result<Decision> Decide(const RequestContext& ctx, const RouteEnv& env) const = 0;
};

}  // namespace mec
