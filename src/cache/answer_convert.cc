#include "cache/answer_convert.h"

#include <simdjson.h>

#include <initializer_list>

#include "api/openai_json.h"

namespace mec {
namespace {

simdjson::dom::parser& Parser() {
  thread_local simdjson::dom::parser p;
  return p;
}

bool IsNullOrEmpty(simdjson::dom::element v) {
  if (v.is_null()) return true;
  simdjson::dom::array a;
  return !v.get_array().get(a) && a.size() == 0;
}

// Every field of `o` is one of `known`, or null / an empty array (nothing said).
bool OnlyKnown(simdjson::dom::object o, std::initializer_list<std::string_view> known) {
  for (auto field : o) {
    bool ok = false;
    for (auto k : known) ok = ok || field.key == k;
    if (!ok && !IsNullOrEmpty(field.value)) return false;
  }
  return true;
}

bool ReadMeta(simdjson::dom::element doc, Endpoint endpoint, ResponseMeta& m) {
  std::string_view id, model;
  int64_t created = 0;
  if (doc["id"].get_string().get(id) || doc["model"].get_string().get(model) || doc["created"].get_int64().get(created)) return false;
  m.endpoint = endpoint;
  m.id = id;
  m.model = model;
  m.created = created;
  return true;
}

// The text of one choice's message / delta / completion text, if it is plain text (null counts
// as empty). `delta`: a stream chunk's choice.
bool ChoiceText(simdjson::dom::object choice, Endpoint endpoint, bool delta, std::string& text, std::string& finish) {
  if (!OnlyKnown(choice, {"index", "message", "delta", "text", "finish_reason"})) return false;
  std::string_view s;
  if (endpoint == Endpoint::kChatCompletions) {
    simdjson::dom::object msg;
    if (choice[delta ? "delta" : "message"].get_object().get(msg)) return false;
    if (!OnlyKnown(msg, {"role", "content"})) return false;
    simdjson::dom::element content;
    if (!msg["content"].get(content) && !content.is_null()) {
      if (content.get_string().get(s)) return false;
      text.append(s);
    }
  } else {
    if (choice["text"].get_string().get(s)) return false;
    text.append(s);
  }
  simdjson::dom::element fr;
  if (!choice["finish_reason"].get(fr) && !fr.is_null()) {
    if (fr.get_string().get(s)) return false;
    finish = s;
  }
  return true;
}

}  // namespace

std::optional<CachedAnswer> AsStream(const CachedAnswer& whole, Endpoint endpoint) {
  if (whole.stream || (endpoint != Endpoint::kChatCompletions && endpoint != Endpoint::kCompletions)) return std::nullopt;
  simdjson::dom::element doc;
  if (Parser().parse(whole.body.data(), whole.body.size()).get(doc)) return std::nullopt;
  ResponseMeta m;
  simdjson::dom::array choices;
  simdjson::dom::object choice;
  if (!ReadMeta(doc, endpoint, m) || doc["choices"].get_array().get(choices) || choices.size() != 1 || choices.at(0).get_object().get(choice))
    return std::nullopt;
  std::string text, finish;
  if (!ChoiceText(choice, endpoint, false, text, finish) || finish.empty()) return std::nullopt;
  const std::optional<Usage> usage = ExtractUsage(whole.body);
  if (!usage) return std::nullopt;
  CachedAnswer s;
  s.backend = whole.backend;
  s.model = whole.model;
  s.stream = true;
  s.output_tokens = whole.output_tokens;
  s.events.push_back(CompletionChunk(m, text, true, ""));
  s.events.push_back(CompletionChunk(m, "", false, finish));
  s.events.push_back(UsageChunk(m, *usage));
  return s;
}

std::optional<CachedAnswer> AsWhole(const CachedAnswer& stream, Endpoint endpoint) {
  if (!stream.stream || (endpoint != Endpoint::kChatCompletions && endpoint != Endpoint::kCompletions)) return std::nullopt;
  ResponseMeta m;
  bool have_meta = false;
  std::optional<Usage> usage;
  std::string text, finish;
  for (const auto& ev : stream.events) {
    simdjson::dom::element doc;
    if (Parser().parse(ev.data(), ev.size()).get(doc)) return std::nullopt;
    if (!have_meta) {
      if (!ReadMeta(doc, endpoint, m)) return std::nullopt;
      have_meta = true;
    }
    if (auto u = ExtractUsage(ev)) usage = u;
    simdjson::dom::array choices;
    if (doc["choices"].get_array().get(choices)) return std::nullopt;
    if (choices.size() == 0) continue;  // the usage chunk
    simdjson::dom::object choice;
    if (choices.size() != 1 || choices.at(0).get_object().get(choice)) return std::nullopt;
    if (!ChoiceText(choice, endpoint, true, text, finish)) return std::nullopt;
  }
  if (!have_meta || !usage || finish.empty()) return std::nullopt;
  CachedAnswer w;
  w.backend = stream.backend;
  w.model = stream.model;
  w.content_type = "application/json";
  w.body = CompletionBody(m, text, finish, *usage);
  w.output_tokens = stream.output_tokens;
  return w;
}

}  // namespace mec
