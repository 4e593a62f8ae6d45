#include "telemetry/access_log.h"

#include <cmath>
#include <cstring>
#include <cerrno>

#include "core/json_writer.h"
#include "telemetry/decision_query.h"

namespace mec {

std::string FormatAccessLogLine(const RequestRecord& r, std::string_view backend, std::string_view tier) {
  std::string out;
  out.reserve(512);
  JsonWriter w(out);
  w.BeginObject().Field("ts", FormatUnixTime(r.unix_s)).Field("id", r.id);
  if (!r.request_id.empty()) w.Field("request_id", r.request_id);
  if (!r.trace_id.empty()) w.Field("trace_id", r.trace_id);
  if (!r.key_name.empty()) w.Field("key", r.key_name);  // the key's name, never the key
  w.Field("endpoint", r.endpoint);
  w.Field("model", r.model).Field("policy", r.policy).Field("tier", tier.empty() ? std::string_view("none") : tier);
  w.Field("backend", backend.empty() ? std::string_view("none") : backend).Field("status", RequestStatusName(r.status));
  w.Field("http_status", r.http_status).Field("attempts", r.attempts).Field("hedges", r.hedges);
  if (r.continuations) w.Field("continuations", r.continuations);
  if (r.ttft_s) w.Field("ttft_ms", *r.ttft_s * 1000);
  w.Field("latency_ms", r.latency_s * 1000).Field("input_tokens", r.input_tokens).Field("output_tokens", r.output_tokens);
  w.Field("cost_usd", r.cost_usd).Field("cloud_only_usd", r.cloud_only_usd).Field("task_class", r.task_class);
  if (!r.use_case.empty()) w.Field("use_case", r.use_case);
  w.Field("decision_us", r.decision_s * 1e6);
  if (r.overhead_s) w.Field("overhead_us", *r.overhead_s * 1e6);
  if (!r.reason.empty()) w.Field("reason", r.reason);
  if (!r.error.empty()) w.Field("error", r.error);
  w.EndObject();
  out += '\n';
  return out;
}

std::string FormatEmfLine(const RequestRecord& r, std::string_view backend, std::string_view tier, std::string_view ns) {
  const std::string_view t = tier.empty() ? std::string_view("none") : tier;
  const std::string_view b = backend.empty() ? std::string_view("none") : backend;
  const bool failed = r.status != RequestStatus::kOk && r.status != RequestStatus::kClientError;
  std::string out;
  out.reserve(640);
  JsonWriter w(out);
  w.BeginObject().Key("_aws").BeginObject();
  w.Field("Timestamp", static_cast<int64_t>(std::llround(r.unix_s * 1000)));
  w.Key("CloudWatchMetrics").BeginArray().BeginObject().Field("Namespace", ns);
  w.Key("Dimensions").BeginArray();
  w.BeginArray().String("tier").EndArray();
  w.BeginArray().String("tier").String("backend").String("policy").EndArray();
  w.EndArray();
  w.Key("Metrics").BeginArray();
  auto metric = [&w](std::string_view name, std::string_view unit) {
    w.BeginObject().Field("Name", name).Field("Unit", unit).EndObject();
  };
  metric("Requests", "Count");
  metric("Failed", "Count");
  if (r.ttft_s) metric("TTFT", "Milliseconds");
  metric("Latency", "Milliseconds");
  metric("InputTokens", "Count");
  metric("OutputTokens", "Count");
  metric("CostUSD", "None");
  metric("CloudOnlyCostUSD", "None");
  metric("Attempts", "Count");
  w.EndArray().EndObject().EndArray().EndObject();
  // Dimension values, then the metric values, then searchable properties.
  w.Field("tier", t).Field("backend", b).Field("policy", r.policy.empty() ? std::string_view("none") : std::string_view(r.policy));
  w.Field("Requests", 1).Field("Failed", failed ? 1 : 0);
  if (r.ttft_s) w.Field("TTFT", *r.ttft_s * 1000);
  w.Field("Latency", r.latency_s * 1000).Field("InputTokens", r.input_tokens).Field("OutputTokens", r.output_tokens);
  w.Field("CostUSD", r.cost_usd).Field("CloudOnlyCostUSD", r.cloud_only_usd).Field("Attempts", r.attempts);
  w.Field("status", RequestStatusName(r.status)).Field("decision_id", r.id);
  w.EndObject();
  out += '\n';
  return out;
}

std::string FormatJudgeSpendEmfLine(double usd, int64_t unix_ms, std::string_view ns) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("_aws").BeginObject();
  w.Field("Timestamp", unix_ms);
  w.Key("CloudWatchMetrics").BeginArray().BeginObject().Field("Namespace", ns);
  w.Key("Dimensions").BeginArray().BeginArray().String("component").EndArray().EndArray();
  w.Key("Metrics").BeginArray().BeginObject().Field("Name", "JudgeSpendUSD").Field("Unit", "None").EndObject().EndArray();
  w.EndObject().EndArray().EndObject();
  w.Field("component", "learning").Field("JudgeSpendUSD", usd);
  w.EndObject();
  out += '\n';
  return out;
}

Result<std::unique_ptr<AccessLog>> AccessLog::Open(const AccessLogOptions& options) {
  if (options.path.empty()) return Status::InvalidArgument("access log: no path");
  if (options.path == "-") return std::unique_ptr<AccessLog>(new AccessLog(options, stderr, false));
  std::FILE* f = std::fopen(options.path.c_str(), "ae");
  if (!f) return Status::Unavailable("access log: cannot open " + options.path + ": " + std::strerror(errno));
  return std::unique_ptr<AccessLog>(new AccessLog(options, f, true));
}

AccessLog::~AccessLog() {
  if (owned_) std::fclose(f_);
  else std::fflush(f_);
}

void AccessLog::Write(const RequestRecord& r, std::string_view backend, std::string_view tier) {
  std::string line = FormatAccessLogLine(r, backend, tier);
  if (options_.emf) line += FormatEmfLine(r, backend, tier, options_.emf_namespace);
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line.data(), 1, line.size(), f_);
  if (owned_) std::fflush(f_);
}

void AccessLog::WriteJudgeSpend(double usd, int64_t unix_ms) {
  if (!options_.emf) return;
  const std::string line = FormatJudgeSpendEmfLine(usd, unix_ms, options_.emf_namespace);
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line.data(), 1, line.size(), f_);
  if (owned_) std::fflush(f_);
}

}  // namespace mec
