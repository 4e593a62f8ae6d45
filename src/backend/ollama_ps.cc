#include "backend/ollama_ps.h"

#include "backend/engine_json.h"

namespace mec {

Result<std::vector<OllamaLoadedModel>> ParseOllamaPs(std::string_view body) {
  constexpr std::string_view kWhat = "Ollama /api/ps";
  auto doc = engine_json::Parse(body, kWhat);
  if (!doc.ok()) return doc.status();
  simdjson::dom::array models;
  if ((*doc)["models"].get_array().get(models)) return engine_json::Bad(kWhat, "expected {\"models\": [...]}");
  std::vector<OllamaLoadedModel> out;
  for (simdjson::dom::element m : models) {
    OllamaLoadedModel lm;
    std::string_view name;
    if (m["name"].get_string().get(name) && m["model"].get_string().get(name))
      return engine_json::Bad(kWhat, "model " + std::to_string(out.size()) + " has no \"name\"");
    lm.name = name;
    int64_t vram = 0;
    if (!m["size_vram"].get_int64().get(vram)) lm.size_vram = vram;
    std::string_view expires;
    if (!m["expires_at"].get_string().get(expires)) lm.expires_at = expires;
    out.push_back(std::move(lm));
  }
  return out;
}

EngineLoad OllamaLoad(const std::vector<OllamaLoadedModel>& models) {
  EngineLoad load;
  for (const auto& m : models) load.loaded_models.push_back(m.name);
  return load;
}

}  // namespace mec
