#include "api/continuation.h"

#include <gtest/gtest.h>
#include <simdjson.h>

namespace mec {
namespace {

ParsedRequest Parse(Endpoint e, std::string_view body) {
  auto r = ParseRequest(e, body);
  EXPECT_TRUE(std::holds_alternative<ParsedRequest>(r)) << body;
  return std::get<ParsedRequest>(r);
}

simdjson::dom::element Json(simdjson::dom::parser& p, const std::string& s) {
  simdjson::dom::element el;
  EXPECT_FALSE(p.parse(s).get(el)) << s;
  return el;
}

TEST(StreamTranscript, CollectsTheTextAndTheFirstEventsIds) {
  StreamTranscript t;
  t.Note(R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":17,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})");
  t.Note(R"({"id":"chatcmpl-1","created":17,"model":"m","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]})");
  t.Note(R"({"id":"chatcmpl-1","created":17,"model":"m","choices":[{"index":0,"delta":{"content":" w\u00f6rld"},"finish_reason":null}]})");
  t.Note("not json");
  EXPECT_EQ(t.meta.id, "chatcmpl-1");
  EXPECT_EQ(t.meta.created, 17);
  EXPECT_EQ(t.meta.model, "m");
  EXPECT_EQ(t.text, "Hello w\xc3\xb6rld");
  EXPECT_EQ(t.content_events, 2);
  EXPECT_TRUE(t.continuable());
  EXPECT_FALSE(t.finished);
  t.Note(R"({"id":"chatcmpl-1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})");
  EXPECT_TRUE(t.finished);
}

TEST(StreamTranscript, ToolCallsAndSecondChoicesAreNotContinued) {
  StreamTranscript tools;
  tools.Note(R"({"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a"}}]}}]})");
  EXPECT_TRUE(tools.tool_calls);
  EXPECT_FALSE(tools.continuable());
  StreamTranscript two;
  two.Note(R"({"id":"c","choices":[{"index":1,"delta":{"content":"x"}}]})");
  EXPECT_TRUE(two.other_choice);
  EXPECT_FALSE(two.continuable());
  StreamTranscript completions;
  completions.endpoint = Endpoint::kCompletions;
  completions.Note(R"({"id":"cmpl-1","object":"text_completion","choices":[{"index":0,"text":"abc"}]})");
  EXPECT_EQ(completions.text, "abc");
  EXPECT_TRUE(completions.continuable());
}

TEST(ContinuationBody, VllmStyleAppendsThePartialAnswerAndAsksToContinueIt) {
  ParsedRequest req = Parse(Endpoint::kChatCompletions,
                            R"({"model":"x","messages":[{"role":"system","content":"s"},{"role":"user","content":"hi"}],"max_tokens":50,"stream":true,"add_generation_prompt":true})");
  StreamTranscript t;
  t.text = "Hello \"there\"";
  t.content_events = 3;
  auto body = BuildContinuationBody(req, "up-model", false, t, ContinueStyle::kContinueFinalMessage);
  ASSERT_TRUE(body);
  simdjson::dom::parser p;
  auto doc = Json(p, *body);
  EXPECT_EQ(std::string_view(doc["model"].get_string()), "up-model");
  simdjson::dom::array msgs = doc["messages"].get_array();
  ASSERT_EQ(msgs.size(), 3u);
  auto last = msgs.at(2);
  EXPECT_EQ(std::string_view(last["role"].get_string()), "assistant");
  EXPECT_EQ(std::string_view(last["content"].get_string()), "Hello \"there\"");
  EXPECT_TRUE(bool(doc["continue_final_message"].get_bool()));
  EXPECT_FALSE(bool(doc["add_generation_prompt"].get_bool()));  // the client's true is replaced
  EXPECT_EQ(int64_t(doc["max_tokens"].get_int64()), 47);         // 50 less the 3 events sent
  EXPECT_TRUE(bool(doc["stream"].get_bool()));
}

TEST(ContinuationBody, PrefillAndPrefixStyles) {
  ParsedRequest req = Parse(Endpoint::kChatCompletions, R"({"model":"x","messages":[{"role":"user","content":"hi"}],"stream":true})");
  StreamTranscript t;
  t.text = "Hel";
  simdjson::dom::parser p;
  auto prefill = BuildContinuationBody(req, "m", false, t, ContinueStyle::kPrefill);
  ASSERT_TRUE(prefill);
  auto d1 = Json(p, *prefill);
  EXPECT_TRUE(d1["continue_final_message"].error());  // llama.cpp continues a final assistant message as it is
  EXPECT_TRUE(d1["messages"].at(1)["prefix"].error());
  auto prefix = BuildContinuationBody(req, "m", false, t, ContinueStyle::kPrefix);
  ASSERT_TRUE(prefix);
  auto d2 = Json(p, *prefix);
  EXPECT_TRUE(bool(d2["messages"].at(1)["prefix"].get_bool()));
  EXPECT_EQ(std::string_view(d2["messages"].at(1)["content"].get_string()), "Hel");
}

TEST(ContinuationBody, CompletionsAppendToThePromptAndSomeRequestsCannotContinue) {
  StreamTranscript t;
  t.text = " world";
  t.content_events = 1;
  ParsedRequest req = Parse(Endpoint::kCompletions, R"({"model":"x","prompt":"hello","stream":true,"max_tokens":1})");
  auto body = BuildContinuationBody(req, "m", false, t, ContinueStyle::kContinueFinalMessage);
  ASSERT_TRUE(body);
  simdjson::dom::parser p;
  auto d = Json(p, *body);
  EXPECT_EQ(std::string_view(d["prompt"].get_string()), "hello world");
  EXPECT_EQ(int64_t(d["max_tokens"].get_int64()), 1);  // never below one
  EXPECT_TRUE(d["continue_final_message"].error());
  ParsedRequest many = Parse(Endpoint::kCompletions, R"({"model":"x","prompt":["a","b"],"stream":true})");
  EXPECT_FALSE(BuildContinuationBody(many, "m", false, t, ContinueStyle::kContinueFinalMessage));
  ParsedRequest n2 = Parse(Endpoint::kChatCompletions, R"({"model":"x","messages":[{"role":"user","content":"hi"}],"n":2,"stream":true})");
  EXPECT_FALSE(BuildContinuationBody(n2, "m", false, t, ContinueStyle::kContinueFinalMessage));
}

TEST(Splice, RelabelsIdsAndSumsUsage) {
  StreamTranscript before;
  before.Note(R"({"id":"first","created":5,"model":"edge-m","choices":[{"index":0,"delta":{"content":"a"}}]})");
  before.Note(R"({"id":"first","created":5,"model":"edge-m","choices":[{"index":0,"delta":{"content":" b"}}]})");
  Splice splice(before);
  simdjson::dom::parser p;
  auto ev = Json(p, splice.Relabel(R"({"id":"second","object":"chat.completion.chunk","created":9,"model":"cloud-m","choices":[{"index":0,"delta":{"content":" c"},"finish_reason":null}]})"));
  EXPECT_EQ(std::string_view(ev["id"].get_string()), "first");
  EXPECT_EQ(int64_t(ev["created"].get_int64()), 5);
  EXPECT_EQ(std::string_view(ev["model"].get_string()), "edge-m");
  EXPECT_EQ(std::string_view(ev["choices"].at(0)["delta"]["content"].get_string()), " c");
  auto usage = Json(p, splice.Relabel(R"({"id":"second","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":4,"total_tokens":16}})"));
  EXPECT_EQ(int64_t(usage["usage"]["completion_tokens"].get_int64()), 6);
  EXPECT_EQ(int64_t(usage["usage"]["total_tokens"].get_int64()), 18);
  EXPECT_EQ(Splice::SeamComment("edge-1", "cloud-1", 2).substr(0, 1), ":");
  EXPECT_EQ(splice.Relabel("garbage"), "garbage");
}

}  // namespace
}  // namespace mec

namespace mec {
namespace {

TEST(Hints, ContinueOnOrOff) {
  Hints h;
  EXPECT_TRUE(IsHintHeader("x-mec-continue"));
  EXPECT_FALSE(ApplyHint("X-MEC-Continue", "off", h));
  EXPECT_TRUE(h.continue_off);
  EXPECT_FALSE(ApplyHint("X-MEC-Continue", "ON", h));
  EXPECT_FALSE(h.continue_off);
  auto e = ApplyHint("X-MEC-Continue", "maybe", h);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "X-MEC-Continue");
  EXPECT_EQ(HintHeaderForBodyKey("continue"), "X-MEC-Continue");
}

}  // namespace
}  // namespace mec
