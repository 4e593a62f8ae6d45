#include "emulate/ollama_dialect.h"

#include <ctime>

#include <fmt/format.h>

#include "core/json_writer.h"
#include "core/rng.h"

namespace mec {

std::string OllamaModelName(std::string_view model) {
  std::string name(model);
  if (name.find(':') == std::string::npos) name += ":latest";
  return name;
}

std::string Rfc3339UtcMillis(int64_t unix_ms) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000);
  const int ms = static_cast<int>(unix_ms - static_cast<int64_t>(secs) * 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                tm.tm_min, tm.tm_sec);
  if (ms != 0) {
    std::string frac = fmt::format("{:03}", ms);
    while (frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  return out + "Z";
}

std::string OllamaPsJson(const EngineSnapshot& s, const OllamaPsModel& m, int64_t expires_unix_ms) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("models").BeginArray();
  if (s.loaded) {
    const std::string name = OllamaModelName(m.model);
    // A stand-in for the manifest's sha256: 64 hex digits, fixed per model name.
    std::string digest;
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < 4; ++i) {
      h = Fnv1a64(name, h);
      digest += fmt::format("{:016x}", h);
    }
    w.BeginObject().Field("name", name).Field("model", name).Field("size", m.size_bytes).Field("digest", digest);
    w.Key("details").BeginObject().Field("parent_model", "").Field("format", "gguf").Field("family", "");
    w.Key("families").Null().Field("parameter_size", "").Field("quantization_level", "").EndObject();
    w.Field("expires_at", Rfc3339UtcMillis(expires_unix_ms)).Field("size_vram", m.size_bytes);
    w.Field("context_length", m.context_length).EndObject();
  }
  w.EndArray().EndObject();
  return out;
}

}  // namespace mec
