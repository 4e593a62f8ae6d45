#include "telemetry/decision_log.h"

#include <chrono>
#include <cmath>
#include <span>

#include "telemetry/decision_schema.h"

namespace mec {

namespace {
constexpr size_t kMaxPendingFeedback = 10000;
}  // namespace

Result<std::unique_ptr<DecisionLog>> DecisionLog::Open(const DecisionLogOptions& options,
                                                       std::vector<std::string> backend_names,
                                                       std::vector<std::string> backend_tiers) {
  if (options.path.empty()) return Status::InvalidArgument("decision log: no path");
  auto db = SqliteDb::Open(options.path, false);
  if (!db.ok()) return Status::Unavailable("decision log: " + db.status().message());
  // WAL: readers (mecrouter decisions) never block the writer; synchronous=NORMAL in WAL mode
  // survives a crash of the process (not of the machine) without an fsync per transaction.
  auto mode = (*db)->QueryText("PRAGMA journal_mode=WAL");
  if (!mode.ok()) return Status::Unavailable("decision log " + options.path + ": " + mode.status().message());
  if (*mode != "wal") return Status::Unavailable("decision log " + options.path + ": cannot use WAL mode (got " + *mode + ")");
  if (Status s = (*db)->Exec("PRAGMA synchronous=NORMAL"); !s.ok()) return s;
  if (Status s = (*db)->Exec(kDecisionLogSchema); !s.ok())
    return Status::Unavailable("decision log " + options.path + ": " + s.message());
  std::unique_ptr<DecisionLog> log(
      new DecisionLog(options, std::move(*db), std::move(backend_names), std::move(backend_tiers)));
  if (Status s = log->Prepare(); !s.ok()) return Status::Unavailable("decision log " + options.path + ": " + s.message());
  log->writer_ = std::thread([p = log.get()] { p->Run(); });
  return log;
}

DecisionLog::DecisionLog(const DecisionLogOptions& options, std::unique_ptr<SqliteDb> db, std::vector<std::string> names,
                         std::vector<std::string> tiers)
    : options_(options), names_(std::move(names)), tiers_(std::move(tiers)), db_(std::move(db)) {}

DecisionLog::~DecisionLog() { Close(); }

Status DecisionLog::Prepare() {
  auto insert = db_->Prepare(kDecisionLogInsert);
  if (!insert.ok()) return insert.status();
  insert_ = std::move(*insert);
  auto feedback = db_->Prepare("UPDATE decisions SET feedback = ?, feedback_ts = ? WHERE id = ?");
  if (!feedback.ok()) return feedback.status();
  feedback_ = std::move(*feedback);
  // Rowids grow with each insert, so the newest N rows are those above max(rowid) - N.
  auto rows = db_->Prepare("DELETE FROM decisions WHERE rowid <= (SELECT MAX(rowid) FROM decisions) - ?");
  if (!rows.ok()) return rows.status();
  trim_rows_ = std::move(*rows);
  auto age = db_->Prepare("DELETE FROM decisions WHERE ts < ?");
  if (!age.ok()) return age.status();
  trim_age_ = std::move(*age);
  return Status::Ok();
}

bool DecisionLog::Push(Item item) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || stop_ || queue_.size() >= static_cast<size_t>(options_.queue)) {
      ++stats_.dropped;
      return false;
    }
    queue_.push_back(std::move(item));
    ++pushed_seq_;
    if (std::holds_alternative<RequestRecord>(queue_.back())) ++stats_.appended;
    if (queue_.size() != static_cast<size_t>(options_.batch)) return true;
  }
  wake_.notify_one();  // a full batch goes at once; anything less waits for the writer's timer
  return true;
}

bool DecisionLog::Append(RequestRecord record) { return Push(Item(std::move(record))); }

bool DecisionLog::Feedback(std::string decision_id, double score, double unix_s) {
  return Push(Item(FeedbackItem{std::move(decision_id), score, unix_s}));
}

void DecisionLog::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return;
  const uint64_t target = pushed_seq_;
  ++flush_waiters_;
  wake_.notify_one();
  done_.wait(lock, [&] { return done_seq_ >= target || closed_; });
  --flush_waiters_;
}

void DecisionLog::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    stop_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();  // the writer drains the queue before it returns
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  done_.notify_all();
  insert_ = {};
  feedback_ = {};
  trim_rows_ = {};
  trim_age_ = {};
  db_.reset();
}

DecisionLogStats DecisionLog::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  DecisionLogStats s = stats_;
  s.queued = queue_.size();
  return s;
}

void DecisionLog::Run() {
  const auto flush_every = std::chrono::milliseconds(options_.flush_ms);
  const size_t batch = static_cast<size_t>(options_.batch);
  std::vector<Item> taken;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    // Sleep until a batch is full, someone flushes or stops, or flush_ms passed.
    wake_.wait_for(lock, flush_every, [&] {
      return stop_ || (!queue_.empty() && (flush_waiters_ > 0 || queue_.size() >= batch));
    });
    if (queue_.empty()) {
      if (stop_) return;
      continue;
    }
    taken.swap(queue_);  // O(1) under the lock; producers refill the emptied buffer of last time
    lock.unlock();
    for (size_t i = 0; i < taken.size(); i += batch) WriteBatch(taken, i, std::min(taken.size(), i + batch));
    const size_t n = taken.size();
    taken.clear();  // keeps its capacity for the next swap
    lock.lock();
    done_seq_ += n;
    done_.notify_all();
  }
}

void DecisionLog::WriteBatch(std::vector<Item>& all, size_t begin, size_t end) {
  uint64_t written = 0, failed = 0, feedback = 0, unmatched = 0, deleted = 0;
  std::string error;
  const auto items = std::span<Item>(all).subspan(begin, end - begin);
  auto note = [&error](const Status& s) {
    if (!s.ok()) error = s.message();
    return s.ok();
  };
  if (!note(db_->Exec("BEGIN"))) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.failed += items.size();
    stats_.last_error = error;
    return;
  }
  for (auto& item : items) {
    if (auto* f = std::get_if<FeedbackItem>(&item)) {
      feedback_.Reset();
      feedback_.Bind(1, f->score);
      feedback_.Bind(2, f->unix_s);
      feedback_.BindStatic(3, std::string_view(f->id));
      if (!note(feedback_.Step().status())) continue;
      if (db_->Changes() > 0) {
        ++feedback;
      } else if (pending_feedback_.size() < kMaxPendingFeedback) {
        pending_feedback_[f->id] = *f;  // its row may still be on its way
      } else {
        ++unmatched;
      }
      continue;
    }
    const RequestRecord& r = std::get<RequestRecord>(item);
    auto name = [this](int b) { return b >= 0 && static_cast<size_t>(b) < names_.size() ? std::string_view(names_[b]) : std::string_view(); };
    auto tier = [this](int b) { return b >= 0 && static_cast<size_t>(b) < tiers_.size() ? std::string_view(tiers_[b]) : std::string_view(); };
    std::string chain;
    for (int b : r.chain) {
      if (!chain.empty()) chain += ',';
      chain += name(b);
    }
    const Candidate* pred = r.CandidateFor(r.backend);
    auto& s = insert_;
    s.Reset();
    int i = 0;
    s.BindStatic(++i, std::string_view(r.id));
    s.Bind(++i, r.unix_s);
    s.BindStatic(++i, std::string_view(r.endpoint));
    s.BindStatic(++i, std::string_view(r.model));
    s.BindStatic(++i, std::string_view(r.task_class));
    s.BindStatic(++i, std::string_view(r.use_case));
    s.Bind(++i, r.input_tokens_est);
    s.Bind(++i, r.output_tokens_est);
    s.Bind(++i, r.deadline_ms);
    s.Bind(++i, r.ttft_deadline_ms);
    s.Bind(++i, r.min_quality);
    s.BindStatic(++i, std::string_view(r.privacy));
    s.BindStatic(++i, std::string_view(r.network));
    s.Bind(++i, static_cast<int64_t>(r.stream));
    s.BindStatic(++i, std::string_view(r.policy));
    s.BindStatic(++i, std::string_view(r.reason));
    s.BindStatic(++i, std::string_view(chain));
    s.BindStatic(++i, r.chain.empty() ? std::string_view() : name(r.chain.front()));
    s.Bind(++i, static_cast<int64_t>(r.hedge_planned));
    s.Bind(++i, r.decision_s * 1e6);
    const std::string candidates = CandidatesJson(r.candidates, names_, tiers_);
    s.BindStatic(++i, std::string_view(candidates));
    if (r.backend >= 0) {
      s.BindStatic(++i, name(r.backend));
      s.BindStatic(++i, tier(r.backend));
    } else {
      s.BindNull(++i);
      s.BindNull(++i);
    }
    if (pred) {
      s.Bind(++i, pred->ttft_s);
      s.Bind(++i, pred->latency_s);
      s.Bind(++i, pred->p_meet);
      s.Bind(++i, pred->quality);
      s.Bind(++i, pred->cost_usd);
    } else {
      for (int k = 0; k < 5; ++k) s.BindNull(++i);
    }
    s.BindStatic(++i, RequestStatusName(r.status));
    s.Bind(++i, static_cast<int64_t>(r.http_status));
    s.Bind(++i, static_cast<int64_t>(r.attempts));
    s.Bind(++i, static_cast<int64_t>(r.hedges));
    s.Bind(++i, r.ttft_s);
    s.Bind(++i, r.latency_s);
    s.Bind(++i, r.input_tokens);
    s.Bind(++i, r.output_tokens);
    s.Bind(++i, r.cost_usd);
    s.BindStatic(++i, std::string_view(r.error));
    if (auto it = pending_feedback_.find(r.id); it != pending_feedback_.end()) {
      s.Bind(++i, it->second.score);
      s.Bind(++i, it->second.unix_s);
      pending_feedback_.erase(it);
      ++feedback;
    } else {
      s.BindNull(++i);
      s.BindNull(++i);
    }
    if (note(s.Step().status())) ++written;
    else ++failed;
    newest_unix_s_ = std::max(newest_unix_s_, r.unix_s);
  }
  if (options_.retention_rows > 0) {
    trim_rows_.Reset();
    trim_rows_.Bind(1, options_.retention_rows);
    if (note(trim_rows_.Step().status())) deleted += static_cast<uint64_t>(db_->Changes());
  }
  if (options_.retention_days > 0 && newest_unix_s_ > 0) {
    trim_age_.Reset();
    trim_age_.Bind(1, newest_unix_s_ - options_.retention_days * 86400.0);
    if (note(trim_age_.Step().status())) deleted += static_cast<uint64_t>(db_->Changes());
  }
  if (!note(db_->Exec("COMMIT"))) {
    (void)db_->Exec("ROLLBACK");
    failed += written;
    written = 0;
    feedback = 0;
    deleted = 0;
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.written += written;
  stats_.failed += failed;
  stats_.feedback += feedback;
  stats_.feedback_unmatched += unmatched;
  stats_.deleted += deleted;
  ++stats_.transactions;
  stats_.largest_transaction = std::max<uint64_t>(stats_.largest_transaction, items.size());
  if (!error.empty()) stats_.last_error = error;
}

}  // namespace mec
