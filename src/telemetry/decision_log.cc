#include "telemetry/decision_log.h"

#include <chrono>
#include <cmath>
#include <span>

namespace mec {

namespace {

// Rows per INSERT statement when a batch has that many (one statement run costs a few thousand
// instructions beyond its rows' own; a batch's remainder goes one row at a time).
constexpr int kRowsPerInsert = 8;

// Feedback this much older than the oldest row is deleted with the rows (rows are logged in the
// order requests end, so a row's time may precede the oldest row's by up to a request's length).
constexpr double kFeedbackMarginS = 3600;

// The schema version of an existing file ("" for a new, empty one).
Result<std::string> FileSchemaVersion(SqliteDb& db) {
  auto has_meta = db.QueryText("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
  if (!has_meta.ok()) return has_meta.status();
  if (*has_meta == "0") {
    auto has_decisions = db.QueryText("SELECT COUNT(*) FROM sqlite_master WHERE name = 'decisions'");
    if (!has_decisions.ok()) return has_decisions.status();
    return *has_decisions == "0" ? std::string() : std::string("unknown");
  }
  return db.QueryText("SELECT value FROM meta WHERE key = 'schema_version'");
}

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
  // secure_delete (on in Debian's build) zeroes every freed and new page: costly per row, and
  // the log holds no prompts. journal_size_limit: the WAL shrinks back to 64 MiB after a
  // checkpoint instead of keeping its largest size.
  for (const char* pragma : {"PRAGMA synchronous=NORMAL", "PRAGMA secure_delete=OFF", "PRAGMA journal_size_limit=67108864"}) {
    if (Status s = (*db)->Exec(pragma); !s.ok()) return Status::Unavailable("decision log " + options.path + ": " + s.message());
  }
  auto version = FileSchemaVersion(**db);
  if (!version.ok()) return Status::Unavailable("decision log " + options.path + ": " + version.status().message());
  if (*version == "2") {  // version 3 only added two columns: migrate in place
    if (Status s = (*db)->Exec(std::string("BEGIN;") + kDecisionLogMigrateV2 + "COMMIT;"); !s.ok())
      return Status::Unavailable("decision log " + options.path + ": migrating schema version 2 to 3: " + s.message());
    *version = "3";
  }
  if (*version == "3") {  // version 4 only added one column
    if (Status s = (*db)->Exec(std::string("BEGIN;") + kDecisionLogMigrateV3 + "COMMIT;"); !s.ok())
      return Status::Unavailable("decision log " + options.path + ": migrating schema version 3 to 4: " + s.message());
    *version = "4";
  }
  if (*version == "4") {  // version 5 only added the API key's columns
    if (Status s = (*db)->Exec(std::string("BEGIN;") + kDecisionLogMigrateV4 + "COMMIT;"); !s.ok())
      return Status::Unavailable("decision log " + options.path + ": migrating schema version 4 to 5: " + s.message());
    *version = "5";
  }
  if (!version->empty() && *version != std::to_string(kDecisionLogSchemaVersion)) {
    return Status::Unavailable("decision log " + options.path + " has schema version " + *version + "; this mecrouter writes version " +
                               std::to_string(kDecisionLogSchemaVersion) +
                               ". `mecrouter decisions` still reads it: move it aside (or set telemetry.decision_log.path to a new file) and start again");
  }
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
    : options_(options), names_(std::move(names)), tiers_(std::move(tiers)), encoder_(names_, tiers_), db_(std::move(db)) {}

DecisionLog::~DecisionLog() { Close(); }

Status DecisionLog::Prepare() {
  struct {
    SqliteStatement* st;
    std::string sql;
  } const statements[] = {
      {&begin_, "BEGIN"},
      {&commit_, "COMMIT"},
      {&insert_one_, DecisionLogInsert(1)},
      {&insert_group_, DecisionLogInsert(kRowsPerInsert)},
      {&feedback_, "INSERT OR REPLACE INTO feedback VALUES (?, ?, ?)"},
      // Rowids grow with each insert (and are never reused while the newest row stays), so the
      // oldest rows are a rowid prefix.
      {&trim_rows_, "DELETE FROM decision_rows WHERE rowid <= ?"},
      // The prefix of the log before the first row young enough to keep (no index on ts: the
      // scan stops at that row, usually the first).
      {&trim_age_, "DELETE FROM decision_rows WHERE rowid < (SELECT rowid FROM decision_rows WHERE ts >= ? ORDER BY rowid LIMIT 1)"},
      {&trim_feedback_, "DELETE FROM feedback WHERE ts < (SELECT ts FROM decision_rows ORDER BY rowid LIMIT 1) - ?"},
  };
  for (const auto& [st, sql] : statements) {
    auto prepared = db_->Prepare(sql);
    if (!prepared.ok()) return prepared.status();
    *st = std::move(*prepared);
  }
  const int columns = static_cast<int>(kDecisionRowColumns.size());
  one_.Attach(&insert_one_, columns);
  group_.Attach(&insert_group_, columns * kRowsPerInsert);
  auto bounds = db_->Prepare("SELECT COALESCE(MIN(rowid), 1) - 1, COALESCE(MAX(rowid), 0), COALESCE(MAX(ts), 0) FROM decision_rows");
  if (!bounds.ok()) return bounds.status();
  auto row = bounds->Step();
  if (!row.ok()) return row.status();
  trimmed_through_ = bounds->Int(0);
  last_rowid_ = bounds->Int(1);
  newest_unix_s_ = bounds->Real(2);
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
  begin_ = {};
  commit_ = {};
  insert_one_ = {};
  insert_group_ = {};
  feedback_ = {};
  trim_rows_ = {};
  trim_age_ = {};
  trim_feedback_ = {};
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

Status DecisionLog::Trim(uint64_t& deleted) {
  uint64_t n = 0;
  if (options_.retention_rows > 0 && last_rowid_ - options_.retention_rows > trimmed_through_) {
    trim_rows_.Reset();
    trim_rows_.Bind(1, last_rowid_ - options_.retention_rows);
    if (auto r = trim_rows_.Step(); !r.ok()) return r.status();
    trimmed_through_ = last_rowid_ - options_.retention_rows;
    n += static_cast<uint64_t>(db_->Changes());
  }
  if (options_.retention_days > 0 && newest_unix_s_ > 0) {
    trim_age_.Reset();
    trim_age_.Bind(1, newest_unix_s_ - options_.retention_days * 86400.0);
    if (auto r = trim_age_.Step(); !r.ok()) return r.status();
    n += static_cast<uint64_t>(db_->Changes());
  }
  if (n > 0) {
    trim_feedback_.Reset();
    trim_feedback_.Bind(1, kFeedbackMarginS);
    if (auto r = trim_feedback_.Step(); !r.ok()) return r.status();
  }
  deleted += n;
  return Status::Ok();
}

void DecisionLog::BindRow(SqliteStickyBinder& b, int first, const RequestRecord& r) {
  auto name = [this](int i) { return i >= 0 && static_cast<size_t>(i) < names_.size() ? std::string_view(names_[i]) : std::string_view(); };
  auto tier = [this](int i) { return i >= 0 && static_cast<size_t>(i) < tiers_.size() ? std::string_view(tiers_[i]) : std::string_view(); };
  chain_.clear();
  for (int i : r.chain) {
    if (!chain_.empty()) chain_ += ',';
    chain_ += name(i);
  }
  encoder_.Encode(r.candidates, candidates_);  // the binder copies both
  const Candidate* pred = r.CandidateFor(r.backend);
  int i = first;
  b.Text(++i, r.id);
  b.Real(++i, r.unix_s);
  b.Text(++i, r.endpoint);
  b.Text(++i, r.model);
  b.Text(++i, r.task_class);
  b.Text(++i, r.use_case);
  b.Int(++i, r.input_tokens_est);
  b.Real(++i, r.output_tokens_est);
  b.Real(++i, r.deadline_ms);
  b.Real(++i, r.ttft_deadline_ms);
  b.Real(++i, r.min_quality);
  b.Text(++i, r.privacy);
  b.Text(++i, r.network);
  b.Int(++i, r.stream);
  b.Text(++i, r.policy);
  b.Text(++i, r.reason);
  b.Text(++i, chain_);
  b.Text(++i, r.chain.empty() ? std::string_view() : name(r.chain.front()));
  b.Int(++i, r.hedge_planned);
  b.Real(++i, r.decision_s * 1e6);
  b.Blob(++i, candidates_);
  if (r.backend >= 0) {
    b.Text(++i, name(r.backend));
    b.Text(++i, tier(r.backend));
  } else {
    b.Null(++i);
    b.Null(++i);
  }
  if (pred) {
    b.Real(++i, pred->ttft_s);
    b.Real(++i, pred->latency_s);
    b.Real(++i, pred->p_meet);
    b.Real(++i, pred->quality);
    b.Real(++i, pred->cost_usd);
  } else {
    for (int k = 0; k < 5; ++k) b.Null(++i);
  }
  b.Text(++i, RequestStatusName(r.status));
  b.Int(++i, r.http_status);
  b.Int(++i, r.attempts);
  b.Int(++i, r.hedges);
  b.Real(++i, r.ttft_s);
  b.Real(++i, r.latency_s);
  b.Int(++i, r.input_tokens);
  b.Int(++i, r.output_tokens);
  b.Real(++i, r.cost_usd);
  b.Text(++i, r.error);
  b.Text(++i, r.request_id);
  b.Text(++i, r.trace_id);
  b.Int(++i, r.continuations);
  b.Text(++i, r.key_name);
  b.Real(++i, r.key_spend_usd);
}

void DecisionLog::WriteBatch(std::vector<Item>& all, size_t begin, size_t end) {
  uint64_t written = 0, failed = 0, feedback = 0, deleted = 0;
  std::string error;
  const auto items = std::span<Item>(all).subspan(begin, end - begin);
  auto note = [&error](const Status& s) {
    if (!s.ok()) error = s.message();
    return s.ok();
  };
  auto run = [](SqliteStatement& st) {
    st.Reset();
    return st.Step().status();
  };
  if (!note(run(begin_))) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.failed += items.size();
    stats_.last_error = error;
    return;
  }
  const int64_t last_rowid = last_rowid_, trimmed_through = trimmed_through_;  // restored on a rollback
  rows_.clear();
  for (auto& item : items) {
    if (auto* f = std::get_if<FeedbackItem>(&item)) {
      feedback_.Reset();
      feedback_.BindStatic(1, std::string_view(f->id));
      feedback_.Bind(2, f->score);
      feedback_.Bind(3, f->unix_s);
      if (note(feedback_.Step().status())) ++feedback;
    } else {
      rows_.push_back(&std::get<RequestRecord>(item));
    }
  }
  const int columns = static_cast<int>(kDecisionRowColumns.size());
  for (size_t k = 0; k < rows_.size();) {
    const bool group = rows_.size() - k >= static_cast<size_t>(kRowsPerInsert);
    SqliteStatement& st = group ? insert_group_ : insert_one_;
    SqliteStickyBinder& b = group ? group_ : one_;
    const size_t n = group ? kRowsPerInsert : 1;
    st.Reset();  // binding needs a reset statement
    for (size_t j = 0; j < n; ++j) {
      BindRow(b, static_cast<int>(j) * columns, *rows_[k + j]);
      newest_unix_s_ = std::max(newest_unix_s_, rows_[k + j]->unix_s);
    }
    if (note(st.Step().status())) {
      written += n;
      last_rowid_ = db_->LastInsertRowid();
    } else {
      failed += n;
    }
    k += n;
  }
  note(Trim(deleted));
  if (!note(run(commit_))) {
    (void)db_->Exec("ROLLBACK");
    last_rowid_ = last_rowid;
    trimmed_through_ = trimmed_through;
    failed += written;
    written = 0;
    feedback = 0;
    deleted = 0;
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.written += written;
  stats_.failed += failed;
  stats_.feedback += feedback;
  stats_.deleted += deleted;
  ++stats_.transactions;
  stats_.largest_transaction = std::max<uint64_t>(stats_.largest_transaction, items.size());
  if (!error.empty()) stats_.last_error = error;
}

}  // namespace mec
