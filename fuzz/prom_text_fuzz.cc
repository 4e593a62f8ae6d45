// The Prometheus text readers fed by engines' /metrics (backend/prometheus_text.h,
// vllm_metrics.h, llamacpp_status.h): every reader on every input, and llama.cpp's merge of
// /metrics with /props. Properties: line ends do not matter (the text with LF and with CRLF line
// ends gives the same samples and the same verdict); busy slots stay within 0..total.

#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "backend/llamacpp_status.h"
#include "backend/prometheus_text.h"
#include "backend/vllm_metrics.h"
#include "fuzz/fuzz_target.h"

namespace {

// A sample as text, to compare two readings (NaN equal to NaN).
std::string Flat(const mec::PromSample& s) {
  std::string out(s.name);
  for (const auto& l : s.labels) out += "|" + std::string(l.name) + "=" + l.value;
  char v[64];
  std::snprintf(v, sizeof v, " %a %lld", std::isnan(s.value) ? 0.125 : s.value,
                s.timestamp_ms ? static_cast<long long>(*s.timestamp_ms) : -1LL);
  return out + v + (std::isnan(s.value) ? "nan" : "");
}

std::pair<std::vector<std::string>, mec::Status> Read(std::string_view text) {
  std::vector<std::string> samples;
  mec::Status st = mec::ForEachPromSample(text, [&](const mec::PromSample& s) { samples.push_back(Flat(s)); });
  return {std::move(samples), st};
}

}  // namespace

MEC_FUZZ_TARGET(prom_text) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto [lf, lf_status] = Read(text);
  if (text.find('\r') == std::string_view::npos) {
    std::string crlf;
    for (char c : text) {
      if (c == '\n') crlf += '\r';
      crlf += c;
    }
    const auto [cr, cr_status] = Read(crlf);
    MEC_FUZZ_CHECK(lf == cr);
    MEC_FUZZ_CHECK(lf_status.ok() == cr_status.ok() && lf_status.message() == cr_status.message());
  }
  static constexpr std::string_view kNames[] = {"vllm:num_requests_waiting", "llamacpp:requests_processing"};
  std::vector<mec::PromTotal> totals;
  (void)mec::SumPromSamples(text, kNames, totals);
  (void)mec::ParseVllmMetrics(text);
  auto llama = mec::ParseLlamaMetrics(text);
  if (llama.ok()) {
    (void)mec::MergeLlamaCpp(mec::LlamaHealth::kReady, std::nullopt, std::nullopt, *llama);
    // With /props but no /slots, the busy slots come from the requests_processing gauge.
    const mec::EngineLoad load = mec::MergeLlamaCpp(mec::LlamaHealth::kReady, std::nullopt, 4, *llama);
    if (load.busy_slots) MEC_FUZZ_CHECK(*load.busy_slots >= 0 && *load.busy_slots <= 4);
  }
  return 0;
}
