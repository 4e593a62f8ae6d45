#include "emulate/llamacpp_dialect.h"

#include <cstdio>
#include <iterator>

#include <fmt/format.h>

#include "core/json_writer.h"

namespace mec {

std::string LlamaSlotsJson(const EngineSnapshot& s, int64_t n_ctx) {
  std::string out;
  JsonWriter w(out);
  w.BeginArray();
  for (const SlotView& v : s.slots) {
    w.BeginObject().Field("id", v.id).Field("n_ctx", n_ctx).Field("speculative", false).Field("is_processing", v.processing);
    if (v.task != 0) {
      w.Field("id_task", v.task).Key("next_token").BeginArray().BeginObject();
      w.Field("has_next_token", v.processing).Field("has_new_line", false);
      w.Field("n_remain", v.processing ? v.n_remain : int64_t{-1}).Field("n_decoded", v.n_decoded);
      w.EndObject().EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  return out;
}

std::string LlamaPropsJson(int total_slots, std::string_view model, int64_t n_ctx) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("default_generation_settings").BeginObject().Field("n_ctx", n_ctx).EndObject();
  w.Field("total_slots", total_slots).Field("model_alias", model).Field("model_path", "");
  w.Key("modalities").BeginObject().Field("vision", false).Field("audio", false).EndObject();
  w.Field("endpoint_slots", true).Field("endpoint_props", false).Field("endpoint_metrics", true);
  w.Field("build_info", "mecrouter-emulator").EndObject();
  return out;
}

namespace {

// A double as `std::stringstream << double` writes it (%g, 6 significant digits).
std::string StreamDouble(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

void Item(std::string& out, std::string_view type, std::string_view name, std::string_view help, double value) {
  fmt::format_to(std::back_inserter(out), "# HELP llamacpp:{0} {1}\n# TYPE llamacpp:{0} {2}\nllamacpp:{0} {3}\n", name, help,
                 type, StreamDouble(value));
}

}  // namespace

std::string LlamaMetricsText(const EngineSnapshot& s) {
  std::string out;
  Item(out, "counter", "prompt_tokens_total", "Number of prompt tokens processed.", static_cast<double>(s.prompt_tokens));
  Item(out, "counter", "tokens_predicted_total", "Number of generation tokens processed.", static_cast<double>(s.tokens_predicted));
  Item(out, "counter", "n_tokens_max", "Largest observed n_tokens.", static_cast<double>(s.max_prompt_tokens));
  Item(out, "gauge", "requests_processing", "Number of requests processing.", s.running);
  Item(out, "gauge", "requests_deferred", "Number of requests deferred.", s.waiting);
  return out;
}

}  // namespace mec
