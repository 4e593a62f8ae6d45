#include "net/learning_worker.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include "core/json_writer.h"
#include "core/rng.h"
#include "learn/judge_protocol.h"
#include "route/predict.h"

namespace mec::net {
namespace {

constexpr size_t kRecent = 50;        // edge verdicts in the predicted-vs-judged window
constexpr size_t kMaxHistory = 600;   // points of the predicted-vs-judged history
constexpr size_t kMaxFitSamples = 50000;  // the most recent verdicts a fit reads (bounds its CPU)
constexpr size_t kMaxToPush = 10000;      // own verdicts waiting for Redis; older ones are dropped

// The request for the reference: the client's fields, non-streaming, with the reference's model.
std::string ReferenceBody(const ParsedRequest& req, std::string_view model) {
  ParsedRequest r = req;
  r.fields.erase(std::remove_if(r.fields.begin(), r.fields.end(),
                                [](const auto& f) { return f.first == "stream" || f.first == "stream_options"; }),
                 r.fields.end());
  r.fields.emplace_back("stream", "false");
  r.stream = false;
  return BuildUpstreamBody(r, model, false);
}

}  // namespace

// Registers a call so that Stop() can cancel it (both on the io thread).
struct LearningWorker::ActiveCall {
  ActiveCall(LearningWorker* w, UpstreamCall* c) : w_(w), c_(c) { w_->active_calls_.push_back(c_); }
  ~ActiveCall() { std::erase(w_->active_calls_, c_); }
  LearningWorker* w_;
  UpstreamCall* c_;
};

bool LearningWorker::Stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

LearningWorker::LearningWorker(const Options& options, const BackendPool& pool, std::shared_ptr<const ComplexityModel> base,
                               LiveComplexityModel& live, DeviceQualityAssumption device, const Clock& clock, std::string replica_id)
    : options_(options), lo_(options.learning), pool_(pool), base_(std::move(base)), live_(live), device_(device), clock_(clock) {
  if (!options.state.redis_host.empty() && lo_.share && !replica_id.empty())
    sync_ = std::make_unique<LearningSync>(options.state, std::move(replica_id), lo_.lease_ms, static_cast<int64_t>(kMaxFitSamples));
  space_ = fmt::format("{}/{}", base_->Name(), lo_.word_bits);
  // The reference: the configured one, else the strongest configured backend (a cloud backend, the
  // first in the file; else the edge's).
  auto find = [&](const std::string& name) {
    for (const auto& b : pool_.all())
      if (b->name() == name) return b->index();
    return -1;
  };
  reference_ = lo_.reference.empty() ? -1 : find(lo_.reference);
  if (lo_.reference.empty()) {
    for (Tier t : {Tier::kCloud, Tier::kEdge}) {
      for (const auto& b : pool_.all())
        if (reference_ < 0 && b->tier() == t) reference_ = b->index();
    }
  }
  judge_ = lo_.judge.empty() ? reference_ : find(lo_.judge);
  st_.model = std::string(live_.Name());
}

LearningWorker::~LearningWorker() { Stop(); }

Status LearningWorker::Start() {
  if (reference_ < 0 || judge_ < 0) return Status::InvalidArgument("learning: no reference or judge backend");
  const std::string path = lo_.labels_db.empty() ? options_.telemetry.decision_log.path : lo_.labels_db;
  auto log = JudgedSampleLog::Open(path);
  if (!log.ok()) return Status::Unavailable("learning: cannot open the judged-sample log " + path + ": " + log.status().message());
  log_ = std::move(*log);
  if (auto r = log_->ApplyRetention(static_cast<double>(clock_.UnixSeconds()), lo_.retention_days); !r.ok())
    return r.status();
  auto rows = log_->LoadAll();
  if (!rows.ok()) return rows.status();
  {
    std::lock_guard lock(mu_);
    samples_ = std::move(*rows);
    st_.samples = static_cast<int64_t>(samples_.size());
    if (samples_.size() > kMaxFitSamples) samples_.erase(samples_.begin(), samples_.end() - kMaxFitSamples);
    for (const auto& s : samples_) ids_.insert(s.id);
    new_since_fit_ = static_cast<int64_t>(samples_.size());  // fit on what earlier runs judged
    last_fit_ = clock_.Now();
  }
  ioc_ = std::make_unique<asio::io_context>(1);
  work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(ioc_->get_executor());
  pools_ = std::make_unique<UpstreamPools>(*ioc_, clock_, options_.backends);
  io_thread_ = std::thread([this] { ioc_->run(); });
  trainer_ = std::thread([this] { TrainerLoop(); });
  return Status::Ok();
}

void LearningWorker::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (trainer_.joinable()) trainer_.join();
  if (!ioc_) return;
  // Cancel the calls in flight and let their coroutines end while the io_context still runs, so
  // no coroutine frame (holding a call into `pools_`) outlives what it refers to.
  asio::post(*ioc_, [this] {
    for (UpstreamCall* c : active_calls_) c->Cancel();
  });
  work_.reset();
  // At most 1,000 waits of 5 ms (~5 s); a count, not a clock: this waits on real threads.
  for (int i = 0; i < 1000 && in_flight_.load() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ioc_->stop();
  if (io_thread_.joinable()) io_thread_.join();
  if (in_flight_.load() > 0) {
    // A call that ignored its cancellation: leave it and its pools be rather than free what it uses.
    std::fprintf(stderr, "mecrouter: learning: %d verdict calls still pending at shutdown; left as they are\n", in_flight_.load());
    (void)pools_.release();
    (void)ioc_.release();
    return;
  }
  pools_.reset();
  ioc_.reset();
}

bool LearningWorker::TierAllowed(Privacy privacy, Tier t) const {
  switch (privacy) {
    case Privacy::kDevice: return t == Tier::kDevice;
    case Privacy::kEdge: return t != Tier::kCloud;
    case Privacy::kAny: break;
  }
  return true;
}

double LearningWorker::DayIndex() const { return std::floor(static_cast<double>(clock_.UnixSeconds()) / 86400.0); }

void LearningWorker::AddSpend(double usd) {
  if (access_log_ && usd > 0) access_log_->WriteJudgeSpend(usd, clock_.UnixMillis());
  std::lock_guard lock(mu_);
  const double day = DayIndex();
  if (day != spend_day_) {
    spend_day_ = day;
    st_.spend_today_usd = 0;
  }
  st_.spend_usd += usd;
  st_.spend_today_usd += usd;
  spend_unshared_ += usd;
}

bool LearningWorker::ShouldSample(const RequestContext& ctx, std::string_view decision_id) {
  if (reference_ < 0 || lo_.sample_rate <= 0) return false;
  if (ctx.endpoint == Endpoint::kEmbeddings) return false;
  if (ctx.model != "auto" && !lo_.sample_pinned) return false;
  if (!TierAllowed(ctx.privacy, pool_.at(reference_).tier()) || !TierAllowed(ctx.privacy, pool_.at(judge_).tier())) return false;
  if (static_cast<double>(Fnv1a64(decision_id) % 1000000) >= lo_.sample_rate * 1e6) return false;
  std::lock_guard lock(mu_);
  const double day = DayIndex();
  const double today = std::max(spend_day_ == day ? st_.spend_today_usd : 0.0, fleet_day_ == day ? fleet_spend_ : 0.0);
  if (lo_.daily_cap_usd > 0 && today >= lo_.daily_cap_usd) {
    ++st_.capped;
    return false;
  }
  ++st_.sampled;
  return true;
}

void LearningWorker::Submit(JudgeJob job) {
  if (!ioc_ || job.backend < 0) return;
  // Nothing to compare: the reference's own tier answered (its quality is 1 by definition).
  if (pool_.at(job.backend).tier() == pool_.at(reference_).tier()) return;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    if (in_flight_.load() >= lo_.queue) {
      ++st_.dropped;
      return;
    }
    ++st_.submitted;
  }
  in_flight_.fetch_add(1);
  auto j = std::make_shared<JudgeJob>(std::move(job));
  asio::co_spawn(*ioc_, Judge(j), [this](std::exception_ptr) { in_flight_.fetch_sub(1); });
}

void LearningWorker::SubmitFeedback(std::string id, std::string prompt, Tier tier, std::string backend, double score) {
  if (tier == Tier::kCloud || prompt.empty()) return;
  StoredSample s;
  s.id = "feedback:" + id;
  s.ts = static_cast<double>(clock_.UnixMillis()) / 1000.0;
  s.tier_class = tier == Tier::kDevice ? QualityClass::kDevice : QualityClass::kEdge;
  s.tier = std::string(TierName(tier));
  s.backend = std::move(backend);
  s.source = "feedback";
  s.as_good = std::clamp(score, 0.0, 1.0);
  s.gain = 0.5 * s.as_good;  // a score says "as good", not "better"
  s.model_version = std::string(live_.Name());
  s.prompt = std::move(prompt);
  Store(std::move(s));
}

awaitable<std::optional<std::string>> LearningWorker::Call(int backend, Endpoint endpoint, std::string body,
                                                         std::chrono::milliseconds generation, std::string* out, double* cost) {
  if (Stopping()) co_return "stopping";
  UpstreamCall call(*pools_, backend);
  ActiveCall active(this, &call);
  auto failure = co_await call.Start(EndpointPath(endpoint).substr(3), std::move(body), false, generation);
  if (failure) co_return "call failed: " + failure->detail;
  std::string whole;
  for (;;) {
    auto piece = co_await call.ReadSome();
    if (piece.error) co_return "read failed: " + *piece.error;
    whole.append(piece.data);
    if (call.done()) break;
  }
  if (call.status() < 200 || call.status() >= 300) co_return fmt::format("HTTP {}", call.status());
  auto usage = ExtractAnswerText(whole);
  if (usage.ok()) {
    *cost = ExpectedCost(pool_.at(backend).options().price, static_cast<double>(usage->prompt_tokens),
                         static_cast<double>(usage->completion_tokens), 0);
  }
  *out = std::move(whole);
  co_return std::nullopt;
}

awaitable<void> LearningWorker::Judge(std::shared_ptr<JudgeJob> job) {
  const Backend& ref = pool_.at(reference_);
  auto fail = [&](const std::string& why) {
    std::lock_guard lock(mu_);
    ++st_.failed;
    st_.last_failure = why;
  };
  // 1. The reference's answer (chat or completions, as the client asked).
  std::string ref_body;
  double cost = 0;
  if (auto err = co_await Call(reference_, job->endpoint, ReferenceBody(job->request, ref.default_model()),
                               std::chrono::milliseconds(120000), &ref_body, &cost)) {
    AddSpend(cost);
    fail("reference: " + *err);
    co_return;
  }
  auto ref_answer = ExtractAnswerText(ref_body);
  if (!ref_answer.ok()) {
    AddSpend(cost);
    fail(ref_answer.status().message());
    co_return;
  }
  // 2. The verdict: exact match where checkable, else the judge in both orders.
  JudgedVerdict verdict{1, 0.5};
  std::string source;
  if (auto m = ExactMatchVerdict(job->prompt, job->answer, ref_answer->text)) {
    verdict = VerdictFromExactMatch(*m);
    source = "exact";
  } else {
    const std::string& judge_model = pool_.at(judge_).default_model();
    JudgeOutcome outcomes[2];
    for (int order = 0; order < 2; ++order) {
      const std::string& a1 = order == 0 ? job->answer : ref_answer->text;
      const std::string& a2 = order == 0 ? ref_answer->text : job->answer;
      std::string body;
      double judge_cost = 0;
      auto err = co_await Call(judge_, Endpoint::kChatCompletions, JudgeRequestBody(judge_model, job->prompt, a1, a2),
                               std::chrono::milliseconds(60000), &body, &judge_cost);
      cost += judge_cost;
      if (err) {
        AddSpend(cost);
        fail(*err);
        co_return;
      }
      auto reply = ParseJudgeReply(body);
      if (!reply.ok()) {
        AddSpend(cost);
        std::lock_guard lock(mu_);
        ++st_.malformed;
        co_return;
      }
      outcomes[order] = reply->outcome;
    }
    verdict = CombineOrders(outcomes[0], outcomes[1]);
    source = "judge";
  }
  AddSpend(cost);
  // 3. Into the store (the trainer thread writes it).
  const Backend& served = pool_.at(job->backend);
  StoredSample s;
  s.id = job->id;
  s.ts = static_cast<double>(clock_.UnixMillis()) / 1000.0;
  s.tier_class = served.tier() == Tier::kDevice ? QualityClass::kDevice : QualityClass::kEdge;
  s.tier = std::string(TierName(served.tier()));
  s.backend = served.name();
  s.model = served.default_model();
  s.source = source;
  s.as_good = verdict.as_good;
  s.gain = verdict.gain;
  s.predicted = job->predicted;
  s.model_version = job->model_version;
  s.prompt = job->prompt;
  Store(std::move(s));
}

void LearningWorker::Store(StoredSample s) {
  {
    std::lock_guard lock(mu_);
    if (s.source == "exact") ++st_.verdicts_exact;
    else if (s.source == "judge") ++st_.verdicts_judge;
    else if (s.source == "feedback") ++st_.verdicts_feedback;
    if (s.predicted >= 0) {
      recent_.emplace_back(s.predicted, s.as_good);
      if (recent_.size() > kRecent) recent_.pop_front();
      double p = 0, j = 0;
      for (const auto& [a, b] : recent_) {
        p += a;
        j += b;
      }
      const double n = static_cast<double>(recent_.size());
      history_.push_back({static_cast<double>(++verdicts_seen_), p / n, j / n});
      if (history_.size() > kMaxHistory) {
        size_t out = 0;
        for (size_t i = 0; i < history_.size(); i += 2) history_[out++] = history_[i];
        history_.resize(out);
      }
    }
    inbox_.push_back(std::move(s));
  }
  cv_.notify_all();
}

void LearningWorker::TrainerLoop() {
  // One low-priority thread: refits never compete with the request path for a core.
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping_ || !inbox_.empty(); });
    if (stopping_) break;
    while (!inbox_.empty()) {
      StoredSample s = std::move(inbox_.front());
      inbox_.pop_front();
      ++adopting_;  // counted in stats() until adopted: samples never dips below the verdicts
      // Features are kept with the row, so it still trains once its prompt is dropped.
      lock.unlock();
      if (!s.prompt.empty()) {
        auto base_learned = base_;
        s.features = FormatAdaptFeatures(AdaptedComplexityModel::Features(*base_learned, s.prompt, lo_.word_bits));
      }
      if (Status st = log_->Append(s); !st.ok()) std::fprintf(stderr, "mecrouter: learning: cannot store a verdict: %s\n", st.message().c_str());
      if (sync_) {
        to_push_.push_back(FormatSharedSample(s, space_));
        if (to_push_.size() > kMaxToPush) to_push_.pop_front();
      }
      lock.lock();
      --adopting_;
      AdoptLocked(std::move(s));
    }
    bool trainer = true;
    if (sync_) {
      lock.unlock();
      trainer = Share();
      lock.lock();
      if (stopping_) break;
    }
    const bool due = new_since_fit_ >= lo_.retrain_every ||
                     (new_since_fit_ > 0 && clock_.Now() - last_fit_ >= FromMillis(static_cast<double>(lo_.retrain_interval_ms)));
    if (due && trainer) RetrainLocked(lock);
  }
  lock.unlock();
  if (sync_) {
    size_t sent = 0;
    std::vector<std::string> rows(to_push_.begin(), to_push_.end());
    sync_->Push(rows, &sent);  // what is left is in the local log; another replica will not see it
    sync_->ReleaseLease();
  }
}

void LearningWorker::AdoptLocked(StoredSample s) {
  ids_.insert(s.id);
  samples_.push_back(std::move(s));
  // Memory stays bounded: a fit reads only the latest kMaxFitSamples, so older verdicts leave
  // memory (they stay in the log, up to its retention) once a quarter more has piled up.
  if (samples_.size() > kMaxFitSamples + kMaxFitSamples / 4) {
    const auto drop = static_cast<std::ptrdiff_t>(samples_.size() - kMaxFitSamples);
    for (auto it = samples_.begin(); it != samples_.begin() + drop; ++it) ids_.erase(it->id);
    samples_.erase(samples_.begin(), samples_.begin() + drop);
  }
  ++st_.samples;
  ++new_since_fit_;
}

bool LearningWorker::Share() {
  // 1. Own verdicts (features only) to the stream.
  if (!to_push_.empty()) {
    std::vector<std::string> rows(to_push_.begin(), to_push_.end());
    size_t sent = 0;
    sync_->Push(rows, &sent);
    to_push_.erase(to_push_.begin(), to_push_.begin() + static_cast<std::ptrdiff_t>(sent));
  }
  // 2. The others' verdicts: stored here too (source "replica"), so that this replica can take
  //    over training and an export of any replica holds the labels of the published models.
  int64_t foreign = 0;
  if (auto rows = sync_->Pull()) {
    std::vector<StoredSample> fresh;
    for (const std::string& row : *rows) {
      StoredSample s;
      std::string space;
      if (!ParseSharedSample(row, &s, &space) || space != space_) {
        ++foreign;
        continue;
      }
      if (ids_.count(s.id)) continue;
      s.source = "replica";
      if (Status st = log_->Append(s); !st.ok()) std::fprintf(stderr, "mecrouter: learning: cannot store a verdict: %s\n", st.message().c_str());
      ids_.insert(s.id);
      fresh.push_back(std::move(s));
    }
    std::lock_guard lock(mu_);
    for (auto& s : fresh) AdoptLocked(std::move(s));
  }
  // 3. Spending: the fleet's total today is what the cap applies to.
  double delta, day;
  {
    std::lock_guard lock(mu_);
    delta = spend_unshared_;
    spend_unshared_ = 0;
    day = DayIndex();
  }
  if (auto total = sync_->AddSpend(static_cast<int64_t>(day), delta)) {
    std::lock_guard lock(mu_);
    fleet_spend_ = *total;
    fleet_day_ = day;
  } else {
    std::lock_guard lock(mu_);
    spend_unshared_ += delta;
  }
  // 4. A newer model another replica published.
  if (auto m = sync_->FetchNewer(live_version_)) {
    auto parsed = AdaptedComplexityModel::Parse(m->text, base_);
    if (parsed.ok() && m->by != sync_->id()) {
      live_.Swap(std::shared_ptr<const ComplexityModel>(std::move(*parsed)));
      std::fprintf(stderr, "mecrouter: learning: loaded %s, published by %s\n", m->name.c_str(), m->by.c_str());
      std::lock_guard lock(mu_);
      ++st_.models_loaded;
      st_.model = std::string(live_.Name());
    } else if (!parsed.ok()) {
      std::fprintf(stderr, "mecrouter: learning: cannot load the published %s: %s\n", m->name.c_str(), parsed.status().message().c_str());
    }
    live_version_ = m->version;  // tried once either way
  }
  const bool trainer = sync_->HoldLease();
  const LearningSync::Status ss = sync_->status();
  std::lock_guard lock(mu_);
  st_.labels_foreign += foreign;
  st_.labels_waiting = static_cast<int64_t>(to_push_.size());
  st_.trainer = trainer;
  st_.redis_up = ss.connected;
  st_.labels_pushed = static_cast<int64_t>(ss.pushed);
  st_.labels_pulled = static_cast<int64_t>(ss.pulled);
  st_.models_published = static_cast<int64_t>(ss.published);
  st_.shared_errors = static_cast<int64_t>(ss.errors);
  return trainer;
}

void LearningWorker::RetrainLocked(std::unique_lock<std::mutex>& lock) {
  new_since_fit_ = 0;
  last_fit_ = clock_.Now();
  const size_t from = samples_.size() > kMaxFitSamples ? samples_.size() - kMaxFitSamples : 0;
  std::vector<JudgedSample> train, holdout;
  for (size_t i = from; i < samples_.size(); ++i) {
    (IsHeldBack(samples_[i].id, lo_.holdout_share) ? holdout : train).push_back(ToJudgedSample(samples_[i]));
  }
  // Versions rise on every candidate and stay above the live (perhaps published) model's.
  const int version = static_cast<int>(std::max<int64_t>(live_version_, st_.promotions + st_.rejections) + 1);
  lock.unlock();
  OnlineLearnOptions o;
  o.min_samples = lo_.min_samples;
  o.word_bits = lo_.word_bits;
  RetrainResult r = RetrainAndGate(base_, *live_.Current(), train, holdout, version, device_, o);
  bool promote = r.promoted != nullptr;
  std::string reason = r.reason;
  std::shared_ptr<const ComplexityModel> next = std::move(r.promoted);
  if (next && sync_) {
    // The fleet's model changes only through Redis: one that cannot be published stays aside.
    const auto* adapted = dynamic_cast<const AdaptedComplexityModel*>(next.get());
    if (!adapted || !sync_->Publish(version, next->Name(), adapted->Serialize())) {
      next = nullptr;
      promote = false;
      reason += "; not published (the trainer's lease was lost or Redis failed)";
    }
  }
  if (next) live_version_ = version;
  std::fprintf(stderr, "mecrouter: learning: candidate v%d on %zu verdicts (%zu held back): %s: %s\n", version, train.size(),
               holdout.size(), promote ? "promoted" : "kept aside", reason.c_str());
  if (next) live_.Swap(next);
  lock.lock();
  ++st_.retrains;
  if (promote) ++st_.promotions;
  else ++st_.rejections;
  st_.last_gate = (promote ? "promoted: " : "kept aside: ") + reason;
  st_.model = std::string(live_.Name());
}

LearningStats LearningWorker::stats() const {
  std::lock_guard lock(mu_);
  LearningStats s = st_;
  s.samples += static_cast<int64_t>(inbox_.size()) + adopting_;  // received, not yet written by the trainer
  if (spend_day_ != DayIndex()) s.spend_today_usd = 0;
  s.shared = sync_ != nullptr;
  if (!s.shared) s.trainer = true;
  s.fleet_spend_today_usd = s.shared ? (fleet_day_ == DayIndex() ? fleet_spend_ : 0.0) : s.spend_today_usd;
  if (!recent_.empty()) {
    double p = 0, j = 0;
    for (const auto& [a, b] : recent_) {
      p += a;
      j += b;
    }
    s.recent_predicted = p / static_cast<double>(recent_.size());
    s.recent_judged = j / static_cast<double>(recent_.size());
  }
  return s;
}

std::string LearningWorker::MetricsText() const {
  const LearningStats s = stats();
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  family("mecrouter_judge_spend_usd_total", "counter", "Reference and judge spending for learning (the operator's cost)");
  fmt::format_to(std::back_inserter(out), "mecrouter_judge_spend_usd_total {}\n", s.spend_usd);
  family("mecrouter_judge_spend_today_usd", "gauge", "Reference and judge spending this UTC day (capped by learning.daily_cap_usd)");
  fmt::format_to(std::back_inserter(out), "mecrouter_judge_spend_today_usd {}\n", s.spend_today_usd);
  family("mecrouter_learning_samples_total", "counter", "Requests picked for a verdict, by what became of them");
  for (auto [k, v] : {std::pair{"sampled", s.sampled}, {"submitted", s.submitted}, {"dropped", s.dropped}, {"capped", s.capped},
                      {"failed", s.failed}, {"malformed", s.malformed}})
    fmt::format_to(std::back_inserter(out), "mecrouter_learning_samples_total{{result=\"{}\"}} {}\n", k, v);
  family("mecrouter_learning_verdicts_total", "counter", "Verdicts stored, by source");
  for (auto [k, v] : {std::pair{"exact", s.verdicts_exact}, {"judge", s.verdicts_judge}, {"feedback", s.verdicts_feedback}})
    fmt::format_to(std::back_inserter(out), "mecrouter_learning_verdicts_total{{source=\"{}\"}} {}\n", k, v);
  family("mecrouter_learning_retrains_total", "counter", "Candidate models fitted, by the gate's decision");
  fmt::format_to(std::back_inserter(out), "mecrouter_learning_retrains_total{{result=\"promoted\"}} {}\n", s.promotions);
  fmt::format_to(std::back_inserter(out), "mecrouter_learning_retrains_total{{result=\"kept_aside\"}} {}\n", s.rejections);
  family("mecrouter_learning_model_info", "gauge", "The live complexity model (1 for its name)");
  fmt::format_to(std::back_inserter(out), "mecrouter_learning_model_info{{model=\"{}\"}} 1\n", s.model);
  if (s.shared) {
    family("mecrouter_learning_trainer", "gauge", "1 when this replica holds the trainer's lease (verdicts shared through Redis)");
    fmt::format_to(std::back_inserter(out), "mecrouter_learning_trainer {}\n", s.trainer ? 1 : 0);
    family("mecrouter_learning_shared_labels_total", "counter", "Verdicts sent to and received from the other replicas");
    fmt::format_to(std::back_inserter(out), "mecrouter_learning_shared_labels_total{{direction=\"pushed\"}} {}\n", s.labels_pushed);
    fmt::format_to(std::back_inserter(out), "mecrouter_learning_shared_labels_total{{direction=\"pulled\"}} {}\n", s.labels_pulled);
    family("mecrouter_learning_shared_models_total", "counter", "Models published by this replica, or loaded from another");
    fmt::format_to(std::back_inserter(out), "mecrouter_learning_shared_models_total{{direction=\"published\"}} {}\n", s.models_published);
    fmt::format_to(std::back_inserter(out), "mecrouter_learning_shared_models_total{{direction=\"loaded\"}} {}\n", s.models_loaded);
    family("mecrouter_judge_fleet_spend_today_usd", "gauge", "Reference and judge spending of all replicas this UTC day (what the cap applies to)");
    fmt::format_to(std::back_inserter(out), "mecrouter_judge_fleet_spend_today_usd {}\n", s.fleet_spend_today_usd);
  }
  return out;
}

std::string LearningWorker::Json() const {
  const LearningStats s = stats();
  std::string out;
  JsonWriter w(out);
  w.BeginObject()
      .Field("enabled", true)
      .Field("sample_rate", lo_.sample_rate)
      .Field("daily_cap_usd", lo_.daily_cap_usd)
      .Field("reference", reference_ >= 0 ? pool_.at(reference_).name() : std::string())
      .Field("judge", judge_ >= 0 ? pool_.at(judge_).name() : std::string())
      .Field("model", s.model)
      .Field("samples", s.samples)
      .Field("sampled", s.sampled)
      .Field("submitted", s.submitted)
      .Field("dropped", s.dropped)
      .Field("capped", s.capped)
      .Field("failed", s.failed)
      .Field("malformed", s.malformed)
      .Field("verdicts_exact", s.verdicts_exact)
      .Field("verdicts_judge", s.verdicts_judge)
      .Field("verdicts_feedback", s.verdicts_feedback)
      .Field("spend_usd", s.spend_usd)
      .Field("spend_today_usd", s.spend_today_usd)
      .Field("retrains", s.retrains)
      .Field("promotions", s.promotions)
      .Field("rejections", s.rejections)
      .Field("last_gate", s.last_gate)
      .Field("last_failure", s.last_failure);
  w.Key("recent_predicted");
  if (s.recent_predicted >= 0) w.Number(s.recent_predicted);
  else w.Null();
  w.Key("recent_judged");
  if (s.recent_judged >= 0) w.Number(s.recent_judged);
  else w.Null();
  w.Field("window", static_cast<int64_t>(kRecent));
  w.Key("replicas");
  if (s.shared) {
    w.BeginObject()
        .Field("redis", s.redis_up ? "up" : "down")
        .Field("id", sync_->id())
        .Field("trainer", s.trainer)
        .Field("labels_pushed", s.labels_pushed)
        .Field("labels_pulled", s.labels_pulled)
        .Field("labels_foreign", s.labels_foreign)
        .Field("labels_waiting", s.labels_waiting)
        .Field("models_published", s.models_published)
        .Field("models_loaded", s.models_loaded)
        .Field("errors", s.shared_errors)
        .Field("fleet_spend_today_usd", s.fleet_spend_today_usd)
        .EndObject();
  } else {
    w.Null();
  }
  {
    std::lock_guard lock(mu_);
    w.Key("history").BeginObject();
    for (int k = 0; k < 3; ++k) {
      w.Key(k == 0 ? "n" : k == 1 ? "predicted" : "judged").BeginArray();
      for (const auto& h : history_) w.Number(h[k]);
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndObject();
  return out;
}

}  // namespace mec::net
