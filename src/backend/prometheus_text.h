#pragma once
// A reader of the Prometheus text exposition format (version 0.0.4, which vLLM's prometheus_client
// and llama-server's /metrics write): `# HELP` / `# TYPE` / other comment lines, blank lines, and
// samples `name{label="value",...} value [timestamp_ms]` with escaped label values (\\ \" \n),
// a trailing comma in the label set, NaN / +Inf / -Inf values and CRLF line ends. Pure: no I/O.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace mec {

struct PromLabel {
  std::string_view name;
  std::string value;  // unescaped
};

// One sample. `name` and label names point into the text being read; valid during the callback.
struct PromSample {
  std::string_view name;
  std::vector<PromLabel> labels;
  double value = 0;
  std::optional<int64_t> timestamp_ms;
};

// Calls `fn` for every sample, in order. A malformed line stops the reading: the error names the
// line ("line 12: ...") and `fn` has seen the samples before it. Never throws.
Status ForEachPromSample(std::string_view text, const std::function<void(const PromSample&)>& fn);

// The finite values of one metric name, over all its label sets.
struct PromTotal {
  double sum = 0;
  int count = 0;  // finite samples seen; 0 = the metric is absent (or only NaN / Inf)
  std::optional<double> Sum() const { return count > 0 ? std::optional<double>(sum) : std::nullopt; }
  std::optional<double> Mean() const { return count > 0 ? std::optional<double>(sum / count) : std::nullopt; }
};

// Totals of `names` (out[i] for names[i]) in `text`; other metrics are skipped. Error as above.
Status SumPromSamples(std::string_view text, std::span<const std::string_view> names, std::vector<PromTotal>& out);

}  // namespace mec
