#pragma once
// The decision log's periodic export to S3 (docs/telemetry.md "Export to S3"): every
// `interval_s`, and once more at Stop, the rows logged since the last successful export go to
// S3 as one JSON-lines object (the format of `mecrouter decisions export --format jsonl`):
//   PREFIX/<replica>/<UTC time, YYYYMMDDTHHMMSSZ>-<first seq>-<last seq>.jsonl
// (at most kRowsPerObject rows an object; several objects when more are waiting).
//
// The watermark (the seq of the last row exported) lives in a file beside the log,
// `<decision log>.export`, written (atomically, by rename) after each successful PUT, so a row is
// exported once and none is skipped, across restarts too. Rows deleted by retention before they
// could be exported are counted (stats().skipped) and logged; a log whose newest row is older than
// the watermark (a new file) starts again from its first row.
//
// Off the request path: its own thread reads the log through a read-only connection (WAL: never
// blocks the writer), fetches credentials (aws_credentials.h) and PUTs (s3_put.h), each request
// bounded by `timeout_ms`. A failure is logged once per streak (and its recovery once), and the
// same rows are tried again the next interval.
//
// Thread-safety: Start/Stop from one thread; stats() from any. ExportOnce is for tests and the
// exporter's thread: REQUIRES it is not running concurrently with itself.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "aws/aws_credentials.h"
#include "aws/s3_put.h"
#include "config/options.h"
#include "core/clock.h"
#include "core/status.h"

namespace mec::aws {

// Fills `exports` from MECROUTER_EXPORT_BUCKET / _PREFIX / _INTERVAL_S when it has no `s3` (the
// file wins), and the region from AWS_REGION, else AWS_DEFAULT_REGION, when it has none.
// InvalidArgument naming the variable when a value is malformed.
Status ApplyExportEnvironment(DecisionExportOptions& exports, const EnvLookup& env);

struct DecisionExportStats {
  int64_t objects = 0;       // PUT successfully
  int64_t rows = 0;          // exported
  int64_t skipped = 0;       // deleted by retention before they were exported
  int64_t failures = 0;      // failed attempts (each retried the next interval)
  int64_t watermark = 0;     // the seq of the last row exported
  std::string last_error;    // of the current failure streak; "" after a success
  std::string last_key;      // of the last object written
};

class DecisionExporter {
 public:
  static constexpr int64_t kRowsPerObject = 20000;
  static constexpr int kObjectsPerRun = 10;  // the rest waits for the next interval
  // The last export, at Stop, gives each request at most this long (or timeout_ms when shorter):
  // deploy/aws stops a task 5 s after its drain.
  static constexpr int kFinalTimeoutMs = 3000;

  // REQUIRES: options.exports.s3 and options.path are set, exports.region is set (or the endpoint
  // is). `replica` names this process in the keys (e.g. the host name). `log` receives one line
  // per event worth a log line (stderr in production).
  static Result<std::unique_ptr<DecisionExporter>> Create(const DecisionLogOptions& options, std::string replica, const Clock& clock,
                                                          EnvLookup env, std::function<void(const std::string&)> log);
  ~DecisionExporter();
  DecisionExporter(const DecisionExporter&) = delete;
  DecisionExporter& operator=(const DecisionExporter&) = delete;

  // Exports what is waiting now (up to kObjectsPerRun objects). OK when everything it tried was
  // written (also when nothing was waiting).
  Status ExportOnce();
  // Starts the thread: ExportOnce every interval_s.
  void Start();
  // Stops the thread after one last ExportOnce (each request bounded by kFinalTimeoutMs). Idempotent.
  void Stop();

  DecisionExportStats stats() const;
  std::string Describe() const;  // "s3://bucket/prefix every 300 s (credentials: ...)"

 private:
  DecisionExporter(const DecisionLogOptions& options, S3Location location, std::string replica, const Clock& clock, EnvLookup env,
                   std::function<void(const std::string&)> log);
  void Run();
  Status ExportBatch(bool& more);  // one object
  Status LoadWatermark();
  Status SaveWatermark(int64_t seq);
  void Failed(const Status& s);

  // Constant after construction.
  const DecisionLogOptions options_;
  const S3Location location_;
  const std::string replica_;
  const std::string watermark_path_;
  const Clock& clock_;
  const std::function<void(const std::string&)> log_;

  // The exporting thread's (ExportOnce's) own.
  S3Target target_;                // its timeout shrinks for the last export
  CredentialChain credentials_;
  int64_t watermark_ = 0;
  bool watermark_loaded_ = false;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;              // guarded by mu_
  DecisionExportStats stats_;      // guarded by mu_
  std::thread thread_;
};

}  // namespace mec::aws
