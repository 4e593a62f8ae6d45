#pragma once
// The store of judged samples (docs/learning.md): one row per verdict on a tier's answer, from the
// background judge, exact match, `POST /v1/feedback`, or another replica. It lives in its own
// table of the decision log's SQLite file (or a file of its own, or memory only), so that
// `mecrouter decisions export --labels` can hand an operator the labels any live model was
// trained on, and a restarted gateway resumes learning where it stopped.
//
// Table judged_samples (id TEXT PRIMARY KEY, ts REAL, tier_class TEXT, tier TEXT, backend TEXT,
//   model TEXT, source TEXT, as_good REAL, gain REAL, predicted REAL, model_version TEXT,
//   prompt TEXT, features TEXT): `prompt` is emptied once the row is older than the retention;
//   `features` (FormatAdaptFeatures) stays, so old rows still train.
//
// Thread-safety: none; one thread (the learning worker) uses a log at a time.

#include <memory>
#include <string>
#include <vector>

#include "context/adapted_complexity_model.h"
#include "core/status.h"
#include "learn/online_learner.h"
#include "telemetry/sqlite_db.h"

namespace mec {

struct StoredSample {
  std::string id;             // the decision id (a replica's or feedback's rows keep theirs)
  double ts = 0;              // Unix seconds
  QualityClass tier_class = QualityClass::kEdge;
  std::string tier;           // device, edge
  std::string backend;
  std::string model;
  std::string source;         // exact, judge, feedback, replica
  double as_good = 1;
  double gain = 0.5;
  double predicted = -1;      // the live model's quality for this tier when the request was routed; -1 unknown
  std::string model_version;  // the live model's name then
  std::string prompt;         // "" once past the retention
  std::string features;       // FormatAdaptFeatures of the prompt, under the base model of the time
};

// AdaptFeatures as one line and back ("base_logit familiarity key|b:v b:v ...|t t ...|d d ...").
std::string FormatAdaptFeatures(const AdaptFeatures& f);
bool ParseAdaptFeatures(std::string_view s, AdaptFeatures* out);

// A sample as shared with other replicas (state/learning_sync.h): one tab-separated line of every
// field but the prompt (which never leaves the replica), led by `space`, the feature space its
// features were computed in ("<base model name>/<word bits>"): a replica reading a row of another
// space cannot train on it. Parse: false on a malformed line, or features that do not parse.
std::string FormatSharedSample(const StoredSample& s, std::string_view space);
bool ParseSharedSample(std::string_view line, StoredSample* out, std::string* space);

// The sample as the learner takes it: the prompt when kept, else the stored features.
JudgedSample ToJudgedSample(const StoredSample& s);

class JudgedSampleLog {
 public:
  // "" or ":memory:" keeps the rows in memory only.
  static Result<std::unique_ptr<JudgedSampleLog>> Open(const std::string& path);
  // A row with an id already stored replaces it (a feedback score after a verdict, say).
  Status Append(const StoredSample& s);
  // Every row, oldest first.
  Result<std::vector<StoredSample>> LoadAll();
  // Empties the prompt of rows older than `days` before `now_unix`; returns how many.
  Result<int64_t> ApplyRetention(double now_unix, double days);
  const std::string& path() const { return path_; }

 private:
  JudgedSampleLog() = default;
  std::unique_ptr<SqliteDb> db_;
  SqliteStatement insert_;
  std::string path_;
};

// Reads the rows of a decision log (or labels) file for export; NotFound-free: a file without the
// table gives no rows.
Result<std::vector<StoredSample>> ReadJudgedSamples(const std::string& path);

}  // namespace mec
