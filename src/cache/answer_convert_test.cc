#include "cache/answer_convert.h"

#include <gtest/gtest.h>

#include "api/openai_json.h"

namespace mec {
namespace {

ResponseMeta Meta(Endpoint e = Endpoint::kChatCompletions) {
  ResponseMeta m;
  m.endpoint = e;
  m.id = "chatcmpl-1";
  m.created = 1700000000;
  m.model = "gpt-4o";
  return m;
}

CachedAnswer Whole(std::string body) {
  CachedAnswer a;
  a.backend = 2;
  a.model = "gpt-4o";
  a.content_type = "application/json";
  a.body = std::move(body);
  a.output_tokens = 5;
  return a;
}

CachedAnswer Stream(std::vector<std::string> events) {
  CachedAnswer a;
  a.backend = 1;
  a.model = "gpt-4o";
  a.stream = true;
  a.events = std::move(events);
  a.output_tokens = 5;
  return a;
}

// Whole -> stream -> whole gives back the same bytes (for both endpoints), and the stream has the
// role, the text, the finish reason and the usage chunk.
TEST(AnswerConvert, RoundTrips) {
  for (Endpoint e : {Endpoint::kChatCompletions, Endpoint::kCompletions}) {
    const std::string body = CompletionBody(Meta(e), "Paris, \"the\" capital\n", "stop", Usage{12, 5});
    auto s = AsStream(Whole(body), e);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->stream);
    EXPECT_EQ(s->backend, 2);
    ASSERT_EQ(s->events.size(), 3u);
    EXPECT_TRUE(HasEmptyChoices(s->events[2]));
    EXPECT_EQ(ExtractUsage(s->events[2])->prompt_tokens, 12);
    EXPECT_NE(s->events[1].find("\"finish_reason\":\"stop\""), std::string::npos);
    auto w = AsWhole(*s, e);
    ASSERT_TRUE(w);
    EXPECT_FALSE(w->stream);
    EXPECT_EQ(w->body, body);
    EXPECT_EQ(w->content_type, "application/json");
    EXPECT_EQ(w->output_tokens, 5);
  }
}

// A stream of several deltas becomes one message with the text concatenated.
TEST(AnswerConvert, StreamDeltasConcatenate) {
  const ResponseMeta m = Meta();
  auto w = AsWhole(Stream({CompletionChunk(m, "Hel", true, ""), CompletionChunk(m, "lo", false, ""),
                           CompletionChunk(m, "", false, "length"), UsageChunk(m, Usage{3, 2})}),
                   Endpoint::kChatCompletions);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->body, CompletionBody(m, "Hello", "length", Usage{3, 2}));
}

// OpenAI's own shape (refusal: null, annotations: [], system_fingerprint, usage details) converts.
TEST(AnswerConvert, AcceptsOpenAIShape) {
  const std::string body =
      R"({"id":"chatcmpl-9","object":"chat.completion","created":1700000001,"model":"gpt-4o-2024-08-06",)"
      R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hi","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],)"
      R"("usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10,"completion_tokens_details":{"reasoning_tokens":0}},)"
      R"("service_tier":"default","system_fingerprint":"fp_1"})";
  auto s = AsStream(Whole(body), Endpoint::kChatCompletions);
  ASSERT_TRUE(s);
  EXPECT_NE(s->events[0].find("\"content\":\"Hi\""), std::string::npos);
  EXPECT_NE(s->events[0].find("gpt-4o-2024-08-06"), std::string::npos);
}

// What is not plain text, or lacks what the other delivery needs, does not convert.
TEST(AnswerConvert, RefusesWhatItCannotCarry) {
  const ResponseMeta m = Meta();
  auto chat = [](std::string_view message, std::string_view extra = "") {
    return Whole(std::string(R"({"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":)") +
                 std::string(message) + R"(,"finish_reason":"stop")" + std::string(extra) +
                 R"(}],"usage":{"prompt_tokens":1,"completion_tokens":1}})");
  };
  EXPECT_TRUE(AsStream(chat(R"({"role":"assistant","content":"ok"})"), Endpoint::kChatCompletions));  // the control
  EXPECT_FALSE(AsStream(chat(R"({"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]})"), Endpoint::kChatCompletions));
  EXPECT_FALSE(AsStream(chat(R"({"role":"assistant","content":"ok"})", R"(,"logprobs":{"content":[]})"), Endpoint::kChatCompletions));
  EXPECT_FALSE(AsStream(chat(R"({"role":"assistant","content":"no","refusal":"I can't"})"), Endpoint::kChatCompletions));
  EXPECT_FALSE(AsStream(Whole(R"({"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]})"),
                        Endpoint::kChatCompletions));  // no usage
  const std::string two = CompletionBody(m, "a", "stop", Usage{1, 1});
  std::string two_choices = two;
  const auto at = two_choices.find("}]");
  two_choices.insert(at + 1, R"(,{"index":1,"message":{"role":"assistant","content":"b"},"finish_reason":"stop"})");
  EXPECT_FALSE(AsStream(Whole(two_choices), Endpoint::kChatCompletions));
  EXPECT_FALSE(AsStream(Whole("{not json"), Endpoint::kChatCompletions));
  EXPECT_FALSE(AsStream(Whole(two), Endpoint::kEmbeddings));
  EXPECT_FALSE(AsWhole(Whole(two), Endpoint::kChatCompletions));  // not a stream
  // A stream without its usage chunk, or without a finish reason, or with a tool-call delta.
  EXPECT_FALSE(AsWhole(Stream({CompletionChunk(m, "a", true, ""), CompletionChunk(m, "", false, "stop")}), Endpoint::kChatCompletions));
  EXPECT_FALSE(AsWhole(Stream({CompletionChunk(m, "a", true, ""), UsageChunk(m, Usage{1, 1})}), Endpoint::kChatCompletions));
  EXPECT_FALSE(AsWhole(Stream({R"({"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0}]},"finish_reason":null}]})",
                               CompletionChunk(m, "", false, "tool_calls"), UsageChunk(m, Usage{1, 1})}),
                       Endpoint::kChatCompletions));
}

}  // namespace
}  // namespace mec
