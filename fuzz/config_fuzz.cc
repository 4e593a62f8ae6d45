// The configuration loader (config/loader.h): YAML text to Options, then the summary `mecrouter
// config check` prints. Properties: it answers with a Status (no exception escapes, no crash), and
// every number it accepts is finite (the loader's ranges are meant to exclude .nan and .inf).

#include <cmath>
#include <initializer_list>
#include <string_view>

#include "config/loader.h"
#include "fuzz/fuzz_target.h"

namespace {

bool Finite(std::initializer_list<double> values) {
  for (double v : values)
    if (!std::isfinite(v)) return false;
  return true;
}

void CheckFinite(const mec::Options& o) {
  const auto& r = o.routing;
  MEC_FUZZ_CHECK(Finite({r.default_min_quality, r.default_deadline_ms, r.deadline_target, r.hedge_threshold, r.quality_margin}));
  for (const auto& p : r.profiles)
    for (const auto& s : p.scorers) MEC_FUZZ_CHECK(Finite({s.weight}));
  MEC_FUZZ_CHECK(Finite({o.telemetry.decision_log.retention_days}));
  const auto& l = o.learning;
  MEC_FUZZ_CHECK(Finite({l.sample_rate, l.daily_cap_usd, l.retention_days, l.holdout_share}));
  for (const auto& b : o.backends) {
    const auto& p = b.price;
    const auto& e = b.expect;
    MEC_FUZZ_CHECK(Finite({p.input_per_1m, p.output_per_1m, p.gpu_per_hour, p.gpu_tokens_per_second, p.watts, p.usd_per_kwh}));
    MEC_FUZZ_CHECK(Finite({e.ttft_ms, e.tokens_per_s, e.rtt_ms, e.half_life_ms, b.health_check.jitter}));
    if (b.quality_ratio) MEC_FUZZ_CHECK(Finite({*b.quality_ratio}));
  }
}

}  // namespace

MEC_FUZZ_TARGET(config) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  auto options = mec::LoadOptionsFromString(yaml, "fuzz.yaml");
  if (!options.ok()) {
    MEC_FUZZ_CHECK(!options.status().message().empty());
    return 0;
  }
  CheckFinite(*options);
  (void)mec::DescribeOptions(*options);
  return 0;
}
