#include "api/continuation.h"

#include <simdjson.h>

#include <fmt/format.h>

#include "api/sse.h"
#include "core/json_writer.h"

namespace mec {
namespace dom = simdjson::dom;

namespace {

dom::parser& Parser() {
  thread_local dom::parser p;
  return p;
}

// "messages" with one more, final assistant message holding `partial`.
std::string WithPartialAnswer(std::string_view messages, std::string_view partial, ContinueStyle style) {
  std::string out(messages);
  while (!out.empty() && out.back() != ']') out.pop_back();
  if (out.empty()) return out;
  out.pop_back();
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n' || out.back() == '\t' || out.back() == '\r')) out.pop_back();
  if (!out.empty() && out.back() != '[') out.push_back(',');
  out += "{\"role\":\"assistant\",\"content\":";
  AppendJsonString(out, partial);
  if (style == ContinueStyle::kPrefix) out += ",\"prefix\":true";
  out += "}]";
  return out;
}

}  // namespace

void StreamTranscript::Note(std::string_view data) {
  dom::element doc;
  if (Parser().parse(data.data(), data.size()).get(doc)) return;
  dom::object obj;
  if (doc.get_object().get(obj)) return;
  if (!has_meta) {
    std::string_view s;
    int64_t created = 0;
    if (!obj["id"].get_string().get(s)) meta.id = std::string(s);
    if (!obj["created"].get_int64().get(created)) meta.created = created;
    if (!obj["model"].get_string().get(s)) meta.model = std::string(s);
    meta.endpoint = endpoint;
    has_meta = !meta.id.empty();
  }
  dom::array choices;
  if (obj["choices"].get_array().get(choices)) return;
  for (dom::element c : choices) {
    int64_t index = 0;
    if (!c["index"].get_int64().get(index) && index != 0) {
      other_choice = true;
      continue;
    }
    std::string_view piece;
    bool has_text = false;
    if (endpoint == Endpoint::kCompletions) {
      has_text = !c["text"].get_string().get(piece);
    } else {
      dom::object delta;
      if (!c["delta"].get_object().get(delta)) {
        has_text = !delta["content"].get_string().get(piece);
        dom::element ignored;
        if (!delta["tool_calls"].get(ignored) && !ignored.is_null()) tool_calls = true;
        if (!delta["function_call"].get(ignored) && !ignored.is_null()) tool_calls = true;
      }
    }
    if (has_text && !piece.empty()) {
      text.append(piece);
      ++content_events;
    }
    std::string_view finish;
    if (!c["finish_reason"].get_string().get(finish)) finished = true;
  }
}

std::optional<std::string> BuildContinuationBody(const ParsedRequest& req, std::string_view upstream_model,
                                                 bool force_usage, const StreamTranscript& t, ContinueStyle style) {
  if (req.n != 1 || req.endpoint == Endpoint::kEmbeddings) return std::nullopt;
  ParsedRequest next = req;
  bool replaced = false;
  for (auto& [key, raw] : next.fields) {
    if (req.endpoint == Endpoint::kChatCompletions && key == "messages") {
      raw = WithPartialAnswer(raw, t.text, style);
      replaced = !raw.empty();
    } else if (req.endpoint == Endpoint::kCompletions && key == "prompt") {
      dom::element el;
      std::string_view prompt;
      if (Parser().parse(raw.data(), raw.size()).get(el) || el.get_string().get(prompt)) return std::nullopt;
      std::string joined(prompt);
      joined += t.text;
      raw.clear();
      AppendJsonString(raw, joined);
      replaced = true;
    } else if ((key == "max_tokens" || key == "max_completion_tokens") && req.max_tokens) {
      raw = std::to_string(std::max<int64_t>(1, *req.max_tokens - t.content_events));
    }
  }
  if (!replaced) return std::nullopt;
  // vLLM's flags (docs/continuation.md); a client's own add_generation_prompt would contradict them.
  if (req.endpoint == Endpoint::kChatCompletions && style == ContinueStyle::kContinueFinalMessage) {
    std::erase_if(next.fields, [](const auto& f) { return f.first == "continue_final_message" || f.first == "add_generation_prompt"; });
    next.fields.emplace_back("continue_final_message", "true");
    next.fields.emplace_back("add_generation_prompt", "false");
  }
  return BuildUpstreamBody(next, upstream_model, force_usage);
}

std::string FinishedTail(const StreamTranscript& t, std::string_view finish_reason, std::optional<Usage> usage) {
  std::string out;
  if (!finish_reason.empty()) AppendSseEvent(out, CompletionChunk(t.meta, "", false, finish_reason));
  if (usage) AppendSseEvent(out, UsageChunk(t.meta, *usage));
  out += kSseDone;
  return out;
}

std::string Splice::Relabel(std::string_view data) const {
  dom::element doc;
  dom::object obj;
  if (Parser().parse(data.data(), data.size()).get(doc) || doc.get_object().get(obj)) return std::string(data);
  std::string out;
  out.reserve(data.size() + 32);
  JsonWriter w(out);
  w.BeginObject();
  for (auto [key, value] : obj) {
    if (key == "id") w.Field("id", meta_.id);
    else if (key == "created" && meta_.created) w.Field("created", meta_.created);
    else if (key == "model" && !meta_.model.empty()) w.Field("model", meta_.model);
    else if (key == "usage" && value.is_object()) {
      int64_t prompt = 0, completion = 0;
      if (value["prompt_tokens"].get_int64().get(prompt)) prompt = 0;
      if (value["completion_tokens"].get_int64().get(completion)) completion = 0;
      completion += sent_before_;
      w.Key("usage").BeginObject().Field("prompt_tokens", prompt).Field("completion_tokens", completion);
      w.Field("total_tokens", prompt + completion).EndObject();
    } else {
      w.Key(key);
      w.Raw(simdjson::minify(value));
    }
  }
  w.EndObject();
  return out;
}

std::string Splice::SeamComment(std::string_view failed, std::string_view next, int64_t sent_events) {
  return fmt::format(": mecrouter continued this answer on {} after {} events from {}, which failed mid-stream\n\n", next,
                     sent_events, failed);
}

}  // namespace mec
