#include "backend/llamacpp_status.h"

#include <algorithm>
#include <array>

#include "backend/engine_json.h"
#include "backend/prometheus_text.h"

namespace mec {

using engine_json::Bad;

Result<LlamaHealth> ParseLlamaHealth(int http_status, std::string_view body) {
  constexpr std::string_view kWhat = "llama.cpp /health";
  auto doc = engine_json::Parse(body, kWhat);
  if (!doc.ok()) return doc.status();
  if (http_status == 200) {
    std::string_view status;
    if ((*doc)["status"].get_string().get(status) || status != "ok") return Bad(kWhat, "HTTP 200 without \"status\": \"ok\"");
    return LlamaHealth::kReady;
  }
  std::string_view message;
  if ((*doc)["error"]["message"].get_string().get(message)) message = "";
  if (http_status == 503 && message == "Loading model") return LlamaHealth::kLoading;
  return Bad(kWhat, "HTTP " + std::to_string(http_status) + (message.empty() ? "" : ": " + std::string(message)));
}

Result<LlamaSlots> ParseLlamaSlots(std::string_view body) {
  constexpr std::string_view kWhat = "llama.cpp /slots";
  auto doc = engine_json::Parse(body, kWhat);
  if (!doc.ok()) return doc.status();
  simdjson::dom::array slots;
  if (doc->get_array().get(slots)) return Bad(kWhat, "expected an array of slots");
  LlamaSlots out;
  for (simdjson::dom::element slot : slots) {
    bool processing = false;
    if (slot["is_processing"].get_bool().get(processing))
      return Bad(kWhat, "slot " + std::to_string(out.total) + " has no boolean \"is_processing\"");
    ++out.total;
    out.busy += processing ? 1 : 0;
  }
  return out;
}

Result<int> ParseLlamaPropsTotalSlots(std::string_view body) {
  constexpr std::string_view kWhat = "llama.cpp /props";
  auto doc = engine_json::Parse(body, kWhat);
  if (!doc.ok()) return doc.status();
  int64_t total = 0;
  if ((*doc)["total_slots"].get_int64().get(total) || total < 0 || total > 1 << 20)
    return Bad(kWhat, "no \"total_slots\" count");
  return static_cast<int>(total);
}

Result<LlamaMetrics> ParseLlamaMetrics(std::string_view text) {
  static constexpr std::array<std::string_view, 3> kNames = {
      "llamacpp:requests_processing", "llamacpp:requests_deferred", "llamacpp:kv_cache_usage_ratio"};
  std::vector<PromTotal> t;
  if (Status s = SumPromSamples(text, kNames, t); !s.ok()) return Bad("llama.cpp /metrics", s.message());
  if (t[0].count == 0 && t[1].count == 0)
    return Bad("llama.cpp /metrics", "no llamacpp:requests_processing or llamacpp:requests_deferred sample");
  LlamaMetrics m;
  m.processing = t[0].Sum();
  m.deferred = t[1].Sum();
  if (auto kv = t[2].Mean()) m.kv_usage = std::clamp(*kv, 0.0, 1.0);
  return m;
}

EngineLoad MergeLlamaCpp(LlamaHealth health, const std::optional<LlamaSlots>& slots,
                         std::optional<int> props_total_slots, const std::optional<LlamaMetrics>& metrics) {
  EngineLoad load;
  load.loading = health == LlamaHealth::kLoading;
  if (slots) {
    load.total_slots = slots->total;
    load.busy_slots = slots->busy;
  } else if (props_total_slots) {
    load.total_slots = *props_total_slots;
    // The engine's gauge, within 0..total (a huge or overflowed sum cast to int was undefined).
    if (metrics && metrics->processing)
      load.busy_slots = static_cast<int>(std::clamp(*metrics->processing, 0.0, static_cast<double>(*props_total_slots)));
  }
  if (metrics) {
    load.waiting = metrics->deferred;
    load.running = metrics->processing;
    load.kv_usage = metrics->kv_usage;
  }
  if (!load.running && slots) load.running = slots->busy;
  return load;
}

}  // namespace mec
