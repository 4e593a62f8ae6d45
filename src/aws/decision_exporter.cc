#include "aws/decision_exporter.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "aws/sigv4.h"
#include "telemetry/decision_query.h"
#include "telemetry/sqlite_db.h"

namespace mec::aws {

Status ApplyExportEnvironment(DecisionExportOptions& e, const EnvLookup& env) {
  auto var = [&](const char* name) {
    const char* v = env(name);
    return v ? std::string(v) : std::string();
  };
  if (e.s3.empty()) {
    if (const std::string bucket = var("MECROUTER_EXPORT_BUCKET"); !bucket.empty()) {
      std::string prefix = var("MECROUTER_EXPORT_PREFIX");
      while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
      e.s3 = "s3://" + bucket + (prefix.empty() ? "" : "/" + prefix);
      if (auto loc = ParseS3Url(e.s3); !loc.ok()) return Status::InvalidArgument("MECROUTER_EXPORT_BUCKET: " + loc.status().message());
      if (const std::string interval = var("MECROUTER_EXPORT_INTERVAL_S"); !interval.empty()) {
        char* end = nullptr;
        const long long s = std::strtoll(interval.c_str(), &end, 10);
        if (*end || s < 1 || s > 86400 * 7)
          return Status::InvalidArgument("MECROUTER_EXPORT_INTERVAL_S: '" + interval + "' is not a number of seconds in [1, 604800]");
        e.interval_s = s;
      }
    }
  }
  if (e.region.empty()) e.region = var("AWS_REGION");
  if (e.region.empty()) e.region = var("AWS_DEFAULT_REGION");
  return Status::Ok();
}

Result<std::unique_ptr<DecisionExporter>> DecisionExporter::Create(const DecisionLogOptions& options, std::string replica,
                                                                   const Clock& clock, EnvLookup env,
                                                                   std::function<void(const std::string&)> log) {
  if (options.path.empty()) return Status::InvalidArgument("telemetry.decision_log.export: needs telemetry.decision_log.path");
  auto loc = ParseS3Url(options.exports.s3);
  if (!loc.ok()) return Status::InvalidArgument("telemetry.decision_log.export.s3: " + loc.status().message());
  if (options.exports.region.empty())
    return Status::InvalidArgument("telemetry.decision_log.export.region: not set, and neither is AWS_REGION nor AWS_DEFAULT_REGION");
  if (!options.exports.endpoint.empty())
    if (auto u = ParseHttpUrl(options.exports.endpoint); !u.ok())
      return Status::InvalidArgument("telemetry.decision_log.export.endpoint: " + u.status().message());
  for (char& c : replica)
    if (c == '/' || c == ' ') c = '-';
  if (replica.empty()) replica = "replica";
  return std::unique_ptr<DecisionExporter>(
      new DecisionExporter(options, std::move(*loc), std::move(replica), clock, std::move(env), std::move(log)));
}

DecisionExporter::DecisionExporter(const DecisionLogOptions& options, S3Location location, std::string replica, const Clock& clock,
                                   EnvLookup env, std::function<void(const std::string&)> log)
    : options_(options),
      location_(std::move(location)),
      replica_(std::move(replica)),
      watermark_path_(options.path + ".export"),
      clock_(clock),
      log_(std::move(log)),
      credentials_(std::move(env), static_cast<int>(options.exports.timeout_ms)) {
  target_.region = options.exports.region;
  target_.endpoint = options.exports.endpoint;
  target_.timeout_ms = static_cast<int>(options.exports.timeout_ms);
}

DecisionExporter::~DecisionExporter() { Stop(); }

std::string DecisionExporter::Describe() const {
  return fmt::format("s3://{}/{}{}/ every {} s{} (credentials: {})", location_.bucket, location_.prefix, replica_, options_.exports.interval_s,
                     target_.endpoint.empty() ? "" : " via " + target_.endpoint, credentials_.Describe());
}

DecisionExportStats DecisionExporter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Status DecisionExporter::LoadWatermark() {
  // One line per target: "s3://bucket/prefix <seq>"; another target's line is kept as it is.
  std::ifstream in(watermark_path_);
  const std::string mine = "s3://" + location_.bucket + "/" + location_.prefix;
  std::string url;
  int64_t seq = 0;
  watermark_ = 0;
  while (in >> url >> seq)
    if (url == mine) watermark_ = seq;
  watermark_loaded_ = true;
  return Status::Ok();
}

Status DecisionExporter::SaveWatermark(int64_t seq) {
  const std::string mine = "s3://" + location_.bucket + "/" + location_.prefix;
  std::string others;
  {
    std::ifstream in(watermark_path_);
    std::string url;
    int64_t s = 0;
    while (in >> url >> s)
      if (url != mine) others += url + " " + std::to_string(s) + "\n";
  }
  const std::string tmp = watermark_path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << others << mine << ' ' << seq << '\n';
    out.flush();
    if (!out) return Status::Unavailable("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), watermark_path_.c_str()) != 0) return Status::Unavailable("cannot rename " + tmp + " to " + watermark_path_);
  return Status::Ok();
}

Status DecisionExporter::ExportBatch(bool& more) {
  more = false;
  auto db = SqliteDb::Open(options_.path, /*read_only=*/true);
  if (!db.ok()) return db.status();
  std::ostringstream body;
  auto range = ExportDecisionsAfter(**db, watermark_, kRowsPerObject, body);
  if (!range.ok()) return range.status();
  if (range->newest_seq < watermark_) {
    log_(fmt::format("decision export: the log's newest row ({}) is older than the watermark ({}): a new log file; exporting it from its first row",
                     range->newest_seq, watermark_));
    watermark_ = 0;
    if (Status s = SaveWatermark(0); !s.ok()) return s;
    more = true;
    return Status::Ok();
  }
  if (range->rows == 0) return Status::Ok();
  const int64_t skipped = range->first_seq - watermark_ - 1;
  const int64_t unix_s = clock_.UnixSeconds();
  const std::string key = fmt::format("{}{}/{}-{}-{}.jsonl", location_.prefix, replica_, AmzDate(unix_s), range->first_seq, range->last_seq);
  auto creds = credentials_.Get(unix_s);
  if (!creds.ok()) return creds.status();
  if (Status s = PutS3Object(target_, location_.bucket, key, std::move(body).str(), "application/x-ndjson", *creds, unix_s); !s.ok())
    return s;
  watermark_ = range->last_seq;
  Status saved = SaveWatermark(watermark_);
  if (skipped > 0)
    log_(fmt::format("decision export: {} rows (seq {}..{}) were deleted by retention before they could be exported", skipped,
                     range->first_seq - skipped, range->first_seq - 1));
  {
    std::lock_guard lock(mu_);
    ++stats_.objects;
    stats_.rows += range->rows;
    if (skipped > 0) stats_.skipped += skipped;
    stats_.watermark = watermark_;
    stats_.last_key = key;
  }
  more = range->rows == kRowsPerObject;
  // The object is written: a watermark that could not be saved only means a row exported again
  // after a restart.
  if (!saved.ok()) log_("decision export: " + saved.message());
  return Status::Ok();
}

void DecisionExporter::Failed(const Status& s) {
  bool first = false;
  {
    std::lock_guard lock(mu_);
    ++stats_.failures;
    first = stats_.last_error.empty();
    stats_.last_error = s.message();
  }
  if (first) log_(fmt::format("decision export failed (retrying every {} s; logged once until it works again): {}", options_.exports.interval_s, s.message()));
}

Status DecisionExporter::ExportOnce() {
  if (!watermark_loaded_) LoadWatermark();
  for (int i = 0; i < kObjectsPerRun; ++i) {
    bool more = false;
    if (Status s = ExportBatch(more); !s.ok()) {
      Failed(s);
      return s;
    }
    if (!more) break;
  }
  std::string recovered;
  {
    std::lock_guard lock(mu_);
    if (!stats_.last_error.empty()) recovered = stats_.last_key;
    stats_.last_error.clear();
    stats_.watermark = watermark_;
  }
  if (!recovered.empty()) log_("decision export works again: wrote s3://" + location_.bucket + "/" + recovered);
  return Status::Ok();
}

void DecisionExporter::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void DecisionExporter::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait_for(lock, std::chrono::seconds(options_.exports.interval_s), [this] { return stop_; });
    const bool last = stop_;
    lock.unlock();
    if (last) target_.timeout_ms = std::min(target_.timeout_ms, kFinalTimeoutMs);
    ExportOnce();  // errors are logged and counted in it
    lock.lock();
    if (last) return;
  }
}

void DecisionExporter::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace mec::aws
