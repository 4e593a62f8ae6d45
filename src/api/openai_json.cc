#include "api/openai_json.h"

#include <simdjson.h>

#include "core/json_writer.h"

namespace mec {
namespace {

bool IsChat(const ResponseMeta& m) { return m.endpoint == Endpoint::kChatCompletions; }

void Head(JsonWriter& w, const ResponseMeta& m, bool chunk) {
  w.Field("id", m.id);
  w.Field("object", IsChat(m) ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion");
  w.Field("created", m.created);
  w.Field("model", m.model);
}

void WriteUsage(JsonWriter& w, Usage u) {
  w.Key("usage").BeginObject();
  w.Field("prompt_tokens", u.prompt_tokens).Field("completion_tokens", u.completion_tokens);
  w.Field("total_tokens", u.prompt_tokens + u.completion_tokens);
  w.EndObject();
}

}  // namespace

std::string CompletionBody(const ResponseMeta& m, std::string_view text, std::string_view finish_reason, Usage u) {
  std::string out;
  out.reserve(text.size() + 256);
  JsonWriter w(out);
  w.BeginObject();
  Head(w, m, false);
  w.Key("choices").BeginArray().BeginObject().Field("index", 0);
  if (IsChat(m)) {
    w.Key("message").BeginObject().Field("role", "assistant").Field("content", text).EndObject();
  } else {
    w.Field("text", text);
  }
  w.Key("logprobs").Null();
  w.Field("finish_reason", finish_reason).EndObject().EndArray();
  WriteUsage(w, u);
  w.EndObject();
  return out;
}

std::string CompletionChunk(const ResponseMeta& m, std::string_view delta, bool first, std::string_view finish_reason) {
  std::string out;
  out.reserve(delta.size() + 200);
  JsonWriter w(out);
  w.BeginObject();
  Head(w, m, true);
  w.Key("choices").BeginArray().BeginObject().Field("index", 0);
  if (IsChat(m)) {
    w.Key("delta").BeginObject();
    if (first) w.Field("role", "assistant");
    if (finish_reason.empty()) w.Field("content", delta);
    w.EndObject();
  } else {
    w.Field("text", finish_reason.empty() ? delta : std::string_view());
  }
  w.Key("logprobs").Null();
  w.Key("finish_reason");
  finish_reason.empty() ? w.Null() : w.String(finish_reason);
  w.EndObject().EndArray();
  w.EndObject();
  return out;
}

std::string UsageChunk(const ResponseMeta& m, Usage u) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  Head(w, m, true);
  w.Key("choices").BeginArray().EndArray();
  WriteUsage(w, u);
  w.EndObject();
  return out;
}

std::string EmbeddingsBody(std::string_view model, const std::vector<std::vector<float>>& vectors, Usage u) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("object", "list").Key("data").BeginArray();
  for (size_t i = 0; i < vectors.size(); ++i) {
    w.BeginObject().Field("object", "embedding").Field("index", static_cast<int64_t>(i)).Key("embedding").BeginArray();
    for (float f : vectors[i]) w.Number(static_cast<double>(f));
    w.EndArray().EndObject();
  }
  w.EndArray().Field("model", model);
  w.Key("usage").BeginObject().Field("prompt_tokens", u.prompt_tokens).Field("total_tokens", u.prompt_tokens).EndObject();
  w.EndObject();
  return out;
}

namespace {

// Where the fixed `Needle` starts in `hay`, or npos: Horspool's skip table, built at compile time,
// so a miss costs about one step per needle length of text. (string_view::find calls memchr once
// per occurrence of the needle's first character, and in JSON that is every quote: a third of a
// streamed answer's CPU time went there, docs/benchmarks.md.)
template <size_t N>
struct Needle {
  constexpr explicit Needle(const char (&s)[N]) {
    for (size_t i = 0; i < kLen; ++i) text[i] = s[i];
    for (auto& k : skip) k = kLen;
    for (size_t i = 0; i + 1 < kLen; ++i) skip[static_cast<unsigned char>(s[i])] = kLen - 1 - i;
  }
  static constexpr size_t kLen = N - 1;  // without the terminating NUL
  char text[N - 1] = {};
  size_t skip[256] = {};

  size_t In(std::string_view hay) const {
    if (hay.size() < kLen) return std::string_view::npos;
    for (size_t at = 0; at + kLen <= hay.size();) {
      const char last = hay[at + kLen - 1];
      if (last == text[kLen - 1] && hay[at] == text[0]) {
        size_t i = 1;
        while (i + 1 < kLen && hay[at + i] == text[i]) ++i;
        if (i + 1 >= kLen) return at;
      }
      at += skip[static_cast<unsigned char>(last)];
    }
    return std::string_view::npos;
  }
};
constexpr Needle kUsageKey("\"usage\"");
constexpr Needle kChoicesKey("\"choices\"");

}  // namespace

std::optional<Usage> ExtractUsage(std::string_view json) {
  // Cheap pre-check: most stream chunks carry no usage.
  if (kUsageKey.In(json) == std::string_view::npos) return std::nullopt;
  // simdjson's On-Demand API: one pass that finds the structure (stage 1), then a walk that skips
  // the top-level members before "usage" without building them (the DOM parser built a tape of
  // the whole answer for two numbers: ~2,000 instructions more per answer). It validates what it
  // walks through, not what it skips: an answer broken after its usage still gives its counts.
  // The input is copied into a padded buffer, as the DOM parser did.
  thread_local simdjson::ondemand::parser parser;
  thread_local std::string padded;
  padded.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  padded.assign(json);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded.data(), padded.size(), padded.capacity()).get(doc)) return std::nullopt;
  simdjson::ondemand::object usage;
  if (doc.find_field("usage").get_object().get(usage)) return std::nullopt;
  // Counts come from an upstream: a negative one, or one past any context window, is unreadable
  // (it would also overflow total_tokens when the usage is written again).
  constexpr int64_t kMaxTokens = int64_t{1} << 40;
  Usage u;
  bool prompt = false, completion = false;
  for (auto field : usage) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return std::nullopt;
    const bool is_prompt = key == "prompt_tokens";
    if (!(is_prompt && !prompt) && !(key == "completion_tokens" && !completion)) continue;  // the first of each counts
    int64_t v;
    const auto err = field.value().get_int64().get(v);
    if (err == simdjson::INCORRECT_TYPE || err == simdjson::NUMBER_ERROR) {  // not an integer: as if absent
      (is_prompt ? prompt : completion) = true;
      continue;
    }
    if (err) return std::nullopt;
    if (v < 0 || v > kMaxTokens) return std::nullopt;
    (is_prompt ? u.prompt_tokens : u.completion_tokens) = v;
    (is_prompt ? prompt : completion) = true;
  }
  return u;
}

bool HasEmptyChoices(std::string_view json) {
  size_t p = kChoicesKey.In(json);
  if (p == std::string_view::npos) return false;
  p = json.find('[', p);
  if (p == std::string_view::npos) return false;
  for (++p; p < json.size(); ++p) {
    char c = json[p];
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') continue;
    return c == ']';
  }
  return false;
}

}  // namespace mec
