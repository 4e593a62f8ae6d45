#include "telemetry/engine_metrics.h"

#include <fmt/format.h>

#include <memory>
#include <optional>

namespace mec {
namespace {

// A label value as the text format wants it: \ " and newline escaped.
std::string Escaped(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

struct EngineGauge {
  const char* name;
  const char* help;
  std::optional<double> (*value)(const EngineLoad* load, bool stale);
};

constexpr EngineGauge kGauges[] = {
    {"mecrouter_backend_queue_waiting", "Requests waiting in the backend's engine, as it last reported",
     [](const EngineLoad* l, bool) { return l ? l->waiting : std::nullopt; }},
    {"mecrouter_backend_queue_running", "Requests running in the backend's engine, as it last reported",
     [](const EngineLoad* l, bool) { return l ? l->running : std::nullopt; }},
    {"mecrouter_backend_kv_cache_usage_ratio", "KV-cache use of the backend's engine (0..1), as it last reported",
     [](const EngineLoad* l, bool) { return l ? l->kv_usage : std::nullopt; }},
    {"mecrouter_backend_engine_stale",
     "1 when the backend's engine has not reported within engine_stale_ms (treated as saturated)",
     [](const EngineLoad*, bool stale) { return std::optional<double>(stale ? 1 : 0); }},
};

}  // namespace

std::string EngineMetricsText(const std::vector<BackendOptions>& backends, const EngineLoadBoard& board, TimePoint now) {
  std::vector<size_t> polled;
  for (size_t b = 0; b < backends.size(); ++b)
    if (backends[b].engine.kind != EngineKind::kOpenAI) polled.push_back(b);
  std::string out;
  if (polled.empty()) return out;
  std::vector<std::shared_ptr<const EngineLoad>> loads;
  std::vector<bool> stale;
  for (size_t b : polled) {
    loads.push_back(board.Latest(b));
    stale.push_back(Stale(loads.back().get(), now, std::chrono::milliseconds(backends[b].engine.stale_ms)));
  }
  for (const EngineGauge& g : kGauges) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} gauge\n", g.name, g.help, g.name);
    for (size_t i = 0; i < polled.size(); ++i) {
      if (auto v = g.value(loads[i].get(), stale[i]))
        fmt::format_to(std::back_inserter(out), "{}{{backend=\"{}\"}} {}\n", g.name, Escaped(backends[polled[i]].name), *v);
    }
  }
  return out;
}

}  // namespace mec
