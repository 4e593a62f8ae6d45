#pragma once
// The decision log (DESIGN.md §3 Monitor): every decision and its outcome as one row of a SQLite
// file in WAL mode (schema in decision_schema.h), written by one background thread.
//
// The request path only moves a RequestRecord into a bounded queue (one short mutex hold, no
// disk, no allocation once the queue's buffer has grown, and no wake-up of the writer except when
// a batch is full): Append never waits on disk. When `queue` records are waiting the record is
// DROPPED and counted (stats().dropped, and mecrouter_decision_log_rows_dropped_total): losing
// log rows under overload is preferred to slowing requests down.
//
// The writer wakes every `flush_ms`, or at once when `batch` records are waiting, takes every
// waiting record (a buffer swap) and writes them in transactions of at most `batch` rows. A row
// is one INSERT into a table without indexes, the candidates as a compact blob (no number
// formatting on the writer). After each transaction it enforces retention: at most
// `retention_rows` rows (the oldest, by rowid, first), and none older than `retention_days`
// before the newest row's time, deleted from the oldest end of the log (rows are logged when
// their request ends, so a row may outlive its age by the length of the requests logged before
// it). The writer never reads a clock: time comes with the records, from the injected Clock on
// the request path.
//
// Feedback (a later quality score for a decision id) goes through the same queue into a
// `feedback` table keyed by id (a second score for an id replaces the first); the `decisions`
// view joins it to its row, so feedback may come before its row. Feedback older than the oldest
// row (by more than an hour) is deleted with the rows.
//
// Flush() returns once everything appended before it is written; Close() flushes, stops the
// writer and closes the file (also on destruction): nothing appended before Close is lost.
//
// Thread-safety: every method may be called from any thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "config/options.h"
#include "core/status.h"
#include "telemetry/decision_schema.h"
#include "telemetry/request_record.h"
#include "telemetry/sqlite_db.h"

namespace mec {

struct DecisionLogStats {
  uint64_t appended = 0;          // records accepted into the queue
  uint64_t written = 0;           // rows committed
  uint64_t dropped = 0;           // records refused because the queue was full (or the log closed)
  uint64_t failed = 0;            // records lost to a failed write (see last_error)
  uint64_t feedback = 0;          // feedback scores written
  uint64_t deleted = 0;           // rows removed by retention
  uint64_t transactions = 0;
  uint64_t largest_transaction = 0;  // rows (and feedback scores) in the largest one
  size_t queued = 0;              // waiting now
  std::string last_error;
};

class DecisionLog {
 public:
  // Opens or creates the file, sets WAL mode, creates the schema, starts the writer.
  // `backend_names` / `backend_tiers` name the backend indices of the records. A file of an
  // older schema version is refused (Unavailable, naming the file and what to do).
  static Result<std::unique_ptr<DecisionLog>> Open(const DecisionLogOptions& options,
                                                   std::vector<std::string> backend_names,
                                                   std::vector<std::string> backend_tiers);
  ~DecisionLog();
  DecisionLog(const DecisionLog&) = delete;
  DecisionLog& operator=(const DecisionLog&) = delete;

  // Queues one record; false (and counted as dropped) when the queue is full or the log closed.
  bool Append(RequestRecord record);
  // Queues a feedback score in [0,1] for a decision id; `unix_s` is when it came.
  bool Feedback(std::string decision_id, double score, double unix_s);

  // Blocks until every record and feedback queued before the call is written (or failed).
  void Flush();
  // Flush, stop the writer, close the file. Idempotent; Append after Close drops.
  void Close();

  DecisionLogStats stats() const;
  const DecisionLogOptions& options() const { return options_; }

 private:
  struct FeedbackItem {
    std::string id;
    double score = 0;
    double unix_s = 0;
  };
  using Item = std::variant<RequestRecord, FeedbackItem>;

  DecisionLog(const DecisionLogOptions& options, std::unique_ptr<SqliteDb> db, std::vector<std::string> names,
              std::vector<std::string> tiers);
  bool Push(Item item);
  void Run();                                 // the writer thread
  // Writes items [begin, end) in one transaction. Writer thread only.
  void WriteBatch(std::vector<Item>& items, size_t begin, size_t end);
  Status Prepare();                           // writer-thread statements
  // Binds the row of `r` to the parameters after `first` of a row insert. Writer thread only.
  void BindRow(SqliteStickyBinder& b, int first, const RequestRecord& r);
  // Retention after the rows of a transaction; adds the rows deleted to `deleted`.
  Status Trim(uint64_t& deleted);

  const DecisionLogOptions options_;
  const std::vector<std::string> names_;
  const std::vector<std::string> tiers_;

  const CandidateEncoder encoder_;

  // Writer-thread state (after construction).
  std::unique_ptr<SqliteDb> db_;
  SqliteStatement begin_, commit_, feedback_, trim_rows_, trim_age_, trim_feedback_;
  SqliteStatement insert_one_, insert_group_;  // one row; kRowsPerInsert rows (decision_log.cc)
  SqliteStickyBinder one_, group_; // their parameters: most repeat from row to row
  std::vector<const RequestRecord*> rows_;  // the rows of the batch being written (reused)
  std::string candidates_;         // the blob of the row being written (reused)
  std::string chain_;              // its chain, "a,b,c" (reused)
  double newest_unix_s_ = 0;
  int64_t last_rowid_ = 0;         // the newest row's rowid
  int64_t trimmed_through_ = 0;    // rows up to this rowid are gone

  mutable std::mutex mu_;
  std::condition_variable wake_;   // the writer waits on it
  std::condition_variable done_;   // Flush waits on it
  std::vector<Item> queue_;        // guarded by mu_: waiting for the writer, oldest first
  uint64_t pushed_seq_ = 0;        // guarded by mu_: items accepted so far
  uint64_t done_seq_ = 0;          // guarded by mu_: items the writer finished
  int flush_waiters_ = 0;          // guarded by mu_
  bool stop_ = false;              // guarded by mu_
  bool closed_ = false;            // guarded by mu_
  DecisionLogStats stats_;         // guarded by mu_ (except queued, computed)
  std::thread writer_;
};

}  // namespace mec
