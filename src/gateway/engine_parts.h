#pragma once
// The parts one routing engine owns (DESIGN.md §3), wired the same way for `mecrouter serve`,
// `demo` (cli/gateway_runtime.cc) and each simulated client (sim/client_engine.h): the backend
// pool and its monitor (Resource), the context builder with the answer-length learner (Context),
// the quality budget and, when on, the learned quality feedback (Monitor's learning). `engine`
// names them for the request flow (gateway/request_flow.h); whoever holds the parts sets its
// optional pointers (telemetry, stats, replicas) before the first request.
//
// Neither copyable nor movable: `engine` and the context builder refer to the members.
// Thread-safety: as each part's own (the gateway's workers share one).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend_monitor.h"
#include "backend/backend_pool.h"
#include "cache/prefix_index.h"
#include "config/options.h"
#include "context/context_builder.h"
#include "core/clock.h"
#include "gateway/engine.h"
#include "learn/output_tokens.h"
#include "learn/quality_budget.h"
#include "learn/quality_feedback.h"

namespace mec {

struct EngineParts {
  // `complexity` outlives the parts; `max_attempts`: routing.max_attempts.
  EngineParts(const std::vector<BackendOptions>& backends, const Clock& clock, const ComplexityModel& complexity,
              ContextDefaults defaults, int max_attempts, QualityBudgetOptions quality);
  EngineParts(const EngineParts&) = delete;
  EngineParts& operator=(const EngineParts&) = delete;

  // Turns on the learned quality feedback (POST /v1/feedback; the simulator's feedback_rate):
  // routing then reads each backend's adjusted quality per task class.
  void EnableFeedback();
  // Turns on prefix affinity (cache/prefix_index.h): routing then predicts that a backend holds
  // the prompt blocks last sent to it. The requests' contexts need their blocks (the context
  // builder's defaults.prompt_blocks, or the simulator's trace).
  void EnablePrefixAffinity(size_t capacity_blocks);

  BackendPool pool;
  BackendMonitor monitor;
  OutputTokenLearner output_tokens;
  ContextBuilder context;
  QualityBudget quality_budget;  // adaptive's minimum quality per class
  std::unique_ptr<QualityFeedback> feedback;  // null until EnableFeedback
  std::unique_ptr<PrefixIndex> prefix;        // null until EnablePrefixAffinity
  std::vector<std::string> names;             // backend names by index
  std::function<double(int, const std::string&, double)> adjust;
  Engine engine;
};

}  // namespace mec
