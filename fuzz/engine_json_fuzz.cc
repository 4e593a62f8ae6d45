// The JSON readers fed by engines (backend/llamacpp_status.h: /health, /slots, /props;
// backend/ollama_ps.h: /api/ps): every reader on every input; the first byte picks the HTTP
// status the health answer came with. Property: the slot counts read are not negative and the
// busy slots are at most the total.

#include <string_view>

#include "backend/llamacpp_status.h"
#include "backend/ollama_ps.h"
#include "fuzz/fuzz_target.h"

MEC_FUZZ_TARGET(engine_json) {
  if (size < 1) return 0;
  constexpr int kStatus[] = {200, 503, 500, 404};
  const int status = kStatus[data[0] % 4];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto health = mec::ParseLlamaHealth(status, body);
  auto slots = mec::ParseLlamaSlots(body);
  if (slots.ok()) MEC_FUZZ_CHECK(slots->busy >= 0 && slots->busy <= slots->total);
  auto props = mec::ParseLlamaPropsTotalSlots(body);
  std::optional<mec::LlamaSlots> s;
  if (slots.ok()) s = *slots;
  std::optional<int> p;
  if (props.ok()) p = *props;
  (void)mec::MergeLlamaCpp(health.ok() ? *health : mec::LlamaHealth::kReady, s, p, std::nullopt);
  auto models = mec::ParseOllamaPs(body);
  if (models.ok()) {
    const mec::EngineLoad load = mec::OllamaLoad(*models);
    MEC_FUZZ_CHECK(load.loaded_models.size() == models->size());
  }
  return 0;
}
