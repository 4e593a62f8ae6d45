#pragma once
// Learning on the deployment's own traffic, the I/O half (docs/learning.md). The request path asks
// ShouldSample() (a hash of the decision id against learning.sample_rate, and the rules below) and,
// once a sampled request has been answered by a tier other than the reference's, hands the answer
// over with Submit(); the client never waits for anything here. Then, on a thread of its own:
//
//   1. the reference backend answers the same request (non-streaming);
//   2. a verdict: exact match where both answers are checkable (learn/judge_protocol.h), else the
//      judge backend is asked twice, with the answers in both orders; a malformed verdict is
//      discarded and counted;
//   3. the verdict goes into the judged-sample log (telemetry/judged_sample_log.h) with the
//      prompt, the tier, the model and what the live model had predicted;
//   4. every learning.retrain_every verdicts (or retrain_interval_ms), a low-priority trainer
//      thread refits the corrections (learn/online_learner.h) on all verdicts but the held-back
//      share, and promotes the candidate into the LiveComplexityModel only if it is no worse on the
//      held-back verdicts (CompareOnHoldout); otherwise it is kept aside and the reason logged.
//
// Several replicas (`state: redis://...` and learning.share): every verdict also goes to Redis
// without its prompt (state/learning_sync.h), every replica stores the others' verdicts, only the
// replica holding the trainer's lease refits, and it publishes what the gate promotes; the others
// load it. While Redis is unreachable verdicts are kept (and sent later) and nobody refits.
//
// Rules: requests with privacy `device` or `edge` are never sent to a reference or judge of a tier
// their privacy forbids; requests pinned to a tier or model are sampled only with sample_pinned;
// reference and judge spending (at the backends' prices) is metered and capped per UTC day.
//
// Thread-safety: ShouldSample, Submit, SubmitFeedback and the accessors may be called from any
// thread; Start and Stop from one.

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "api/request.h"
#include "backend/backend_pool.h"
#include "config/options.h"
#include "context/live_complexity_model.h"
#include "context/request_context.h"
#include "core/clock.h"
#include "learn/online_learner.h"
#include "net/upstream_client.h"
#include "state/learning_sync.h"
#include "telemetry/access_log.h"
#include "telemetry/judged_sample_log.h"

namespace mec::net {

// A sampled request, handed over once the client has its answer.
struct JudgeJob {
  std::string id;               // decision id
  Endpoint endpoint = Endpoint::kChatCompletions;
  ParsedRequest request;        // as the client sent it (model and stream are replaced)
  std::string prompt;           // what the complexity model scores (the last user turn)
  std::string answer;           // the served backend's answer text
  int backend = -1;             // the serving backend
  double predicted = -1;        // the live quality of that backend's tier for this request
  std::string model_version;    // the live complexity model's name
  Privacy privacy = Privacy::kAny;
};

struct LearningStats {
  int64_t sampled = 0;          // requests picked for a verdict
  int64_t submitted = 0;        // answers handed over (sampled and served by a non-reference tier)
  int64_t dropped = 0;          // handed over while the queue was full
  int64_t capped = 0;           // not sampled: the day's spending cap was reached
  int64_t verdicts_exact = 0;
  int64_t verdicts_judge = 0;
  int64_t verdicts_feedback = 0;
  int64_t malformed = 0;        // judge replies that were not the strict JSON asked for
  int64_t failed = 0;           // reference or judge calls that failed
  double spend_usd = 0;         // reference + judge, since start
  double spend_today_usd = 0;
  int64_t retrains = 0;
  int64_t promotions = 0;
  int64_t rejections = 0;       // candidates kept aside by the gate
  int64_t samples = 0;          // verdicts received (stored, or waiting for the trainer thread to store them)
  std::string model;            // the live model's name
  std::string last_gate;        // the last gate's reason
  std::string last_failure;     // why the last reference or judge call failed
  // Predicted vs judged quality of the serving tier over the latest verdicts (means).
  double recent_predicted = -1, recent_judged = -1;
  // Sharing between replicas (all zero without it).
  bool shared = false;
  bool trainer = true;          // this replica refits (always, without sharing)
  bool redis_up = false;
  int64_t labels_pushed = 0, labels_pulled = 0;
  int64_t labels_foreign = 0;   // pulled rows of another feature space (base model or word bits): not used
  int64_t labels_waiting = 0;   // own rows not yet in Redis
  int64_t models_published = 0, models_loaded = 0;
  int64_t shared_errors = 0;
  double fleet_spend_today_usd = 0;  // the fleet's reference + judge spending today (what the cap applies to)
};

class LearningWorker {
 public:
  // `base` is the shipped model (the prior of every candidate); `live` is what the router reads.
  // `replica_id` names this replica in Redis when verdicts are shared (options.state and
  // learning.share); "" never shares.
  LearningWorker(const Options& options, const BackendPool& pool, std::shared_ptr<const ComplexityModel> base,
                 LiveComplexityModel& live, DeviceQualityAssumption device, const Clock& clock, std::string replica_id = "");
  ~LearningWorker();
  LearningWorker(const LearningWorker&) = delete;
  LearningWorker& operator=(const LearningWorker&) = delete;

  // Opens the sample log, loads earlier verdicts (and fits on them), starts the threads.
  Status Start();
  // Cancels the reference and judge calls in flight (their verdicts are lost), waits up to 5 s for
  // them to end, joins the threads.
  void Stop();

  // The backends chosen as reference and judge (-1: none, learning cannot run).
  int reference() const { return reference_; }
  int judge() const { return judge_; }

  // Request path: should this request get a verdict? Cheap, no I/O.
  bool ShouldSample(const RequestContext& ctx, std::string_view decision_id);
  // Request path: a sampled request's answer (from a backend that is not the reference's tier).
  void Submit(JudgeJob job);
  // `POST /v1/feedback`: a client's score of an answer, as a verdict of the backend's tier class.
  void SubmitFeedback(std::string id, std::string prompt, Tier tier, std::string backend, double score);

  // Where reference and judge spending is written as CloudWatch EMF (when the access log has EMF
  // on); call before Start().
  void set_access_log(AccessLog* log) { access_log_ = log; }

  LearningStats stats() const;
  // Prometheus text appended to GET /metrics (mecrouter_judge_* and mecrouter_learning_*).
  std::string MetricsText() const;
  // {"enabled": true, "sample_rate", "reference", "judge", stats..., "history": {"n", "predicted",
  // "judged"}} for /api/learning and the dashboard's "predicted vs judged" chart.
  std::string Json() const;

 private:
  awaitable<void> Judge(std::shared_ptr<JudgeJob> job);
  // One non-streaming call on the io thread: the whole body into *out, its cost (from its usage)
  // into *cost; the failure, if any. Registered for Stop() to cancel.
  awaitable<std::optional<std::string>> Call(int backend, Endpoint endpoint, std::string body,
                                             std::chrono::milliseconds generation, std::string* out, double* cost);
  void Store(StoredSample s);
  void TrainerLoop();
  void RetrainLocked(std::unique_lock<std::mutex>& lock);
  // One exchange with the other replicas (trainer thread, mu_ not held): push own verdicts, store
  // theirs, add spending, load a newer published model; true when this replica holds the lease.
  bool Share();
  void AdoptLocked(StoredSample s);  // a new verdict into samples_ (mu_ held)
  bool TierAllowed(Privacy privacy, Tier t) const;
  bool Stopping() const;
  double DayIndex() const;
  void AddSpend(double usd);

  const Options& options_;
  const LearningOptions& lo_;
  const BackendPool& pool_;
  std::shared_ptr<const ComplexityModel> base_;
  LiveComplexityModel& live_;
  DeviceQualityAssumption device_;
  const Clock& clock_;
  AccessLog* access_log_ = nullptr;
  int reference_ = -1;
  int judge_ = -1;

  // The I/O thread: reference and judge calls.
  std::unique_ptr<asio::io_context> ioc_;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::unique_ptr<UpstreamPools> pools_;
  std::thread io_thread_;
  std::atomic<int> in_flight_{0};
  std::vector<UpstreamCall*> active_calls_;  // io thread only: cancelled by Stop()
  struct ActiveCall;

  // The trainer thread: owns the sample log; verdicts arrive through inbox_.
  std::thread trainer_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<StoredSample> inbox_;            // guarded by mu_
  int64_t adopting_ = 0;                      // guarded by mu_: taken from inbox_, being written, not yet in samples_
  std::vector<StoredSample> samples_;         // guarded by mu_ (the trainer appends; the latest 50,000-62,500)
  int64_t new_since_fit_ = 0;                 // guarded by mu_
  TimePoint last_fit_{};                      // guarded by mu_
  std::unique_ptr<JudgedSampleLog> log_;      // trainer thread only (and Start)
  LearningStats st_;                          // guarded by mu_
  double spend_day_ = -1;                     // guarded by mu_
  std::deque<std::pair<double, double>> recent_;  // guarded by mu_: (predicted, judged) of the latest verdicts
  // guarded by mu_: after each verdict, (verdicts so far, mean predicted, mean judged) over the
  // last kRecent verdicts (the serving tier's quality); thinned to every other point past kMaxHistory.
  std::vector<std::array<double, 3>> history_;
  int64_t verdicts_seen_ = 0;

  // Sharing between replicas (null without it); trainer thread only unless said otherwise.
  std::unique_ptr<LearningSync> sync_;
  std::string space_;                          // the feature space of shared rows
  std::deque<std::string> to_push_;            // own rows not yet in Redis (bounded)
  std::unordered_set<std::string> ids_;        // ids in samples_
  int64_t live_version_ = 0;                   // the live model's version (0: the shipped model)
  double spend_unshared_ = 0;                  // guarded by mu_: spending not yet added to the fleet's
  double fleet_spend_ = 0, fleet_day_ = -1;    // guarded by mu_
};

}  // namespace mec::net
