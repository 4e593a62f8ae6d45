#pragma once
// Structured access logs: one JSON object per request and line, and optionally a CloudWatch
// Embedded Metric Format (EMF) line per request, so the same figures reach CloudWatch from the
// log stream without an agent.
//
// The formatters are pure functions; AccessLog writes their lines to stderr or a file, one
// fwrite per line under a mutex (a short hold; the OS buffers the write).

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "config/options.h"
#include "core/status.h"
#include "telemetry/request_record.h"

namespace mec {

// {"ts","id","endpoint","model","policy","tier","backend","status","http_status","attempts",
//  "hedges","ttft_ms","latency_ms","input_tokens","output_tokens","cost_usd","cloud_only_usd","task_class",
//  "use_case","decision_us","reason","error"} and a trailing newline. `backend`/`tier` name the
// record's backend ("" when none). Fields with nothing to say are left out (ttft_ms, use_case,
// reason, error).
std::string FormatAccessLogLine(const RequestRecord& r, std::string_view backend, std::string_view tier);

// One EMF document: namespace `ns`, dimensions [tier] and [tier, backend, policy]; metrics
// Requests, Failed (Count), TTFT (only when measured), Latency (Milliseconds), InputTokens,
// OutputTokens (Count), CostUSD, CloudOnlyCostUSD (the cloud-only counterfactual; None), Attempts
// (Count). With a trailing newline.
std::string FormatEmfLine(const RequestRecord& r, std::string_view backend, std::string_view tier, std::string_view ns);

// One EMF document for learning's reference and judge spending (the operator's cost, not a
// request's; docs/learning.md): namespace `ns`, dimension [component] = "learning", metric
// JudgeSpendUSD (None), at `unix_ms`. Summed over a period, it is that period's spend.
std::string FormatJudgeSpendEmfLine(double usd, int64_t unix_ms, std::string_view ns);

class AccessLog {
 public:
  // path "-": stderr; anything else: a file, appended to.
  static Result<std::unique_ptr<AccessLog>> Open(const AccessLogOptions& options);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Thread-safe.
  void Write(const RequestRecord& r, std::string_view backend, std::string_view tier);
  // With EMF on, one FormatJudgeSpendEmfLine (nothing otherwise). Thread-safe.
  void WriteJudgeSpend(double usd, int64_t unix_ms);

 private:
  AccessLog(const AccessLogOptions& options, std::FILE* f, bool owned) : options_(options), f_(f), owned_(owned) {}
  const AccessLogOptions options_;
  std::mutex mu_;
  std::FILE* f_;
  bool owned_;
};

}  // namespace mec
