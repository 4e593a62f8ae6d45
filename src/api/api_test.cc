#include <gtest/gtest.h>

#include "api/hints.h"
#include "api/openai_json.h"
#include "api/request.h"
#include "api/sse.h"

namespace mec {
namespace {

ParsedRequest MustParse(Endpoint e, std::string_view body) {
  auto r = ParseRequest(e, body);
  if (auto* err = std::get_if<ApiError>(&r)) ADD_FAILURE() << err->message;
  return std::move(std::get<ParsedRequest>(r));
}

ApiError MustFail(Endpoint e, std::string_view body) {
  auto r = ParseRequest(e, body);
  EXPECT_TRUE(std::holds_alternative<ApiError>(r)) << body;
  if (auto* err = std::get_if<ApiError>(&r)) return *err;
  return {};
}

TEST(ParseRequest, ChatFieldsAndText) {
  auto r = MustParse(Endpoint::kChatCompletions, R"({"model":"auto","messages":[
      {"role":"system","content":"Be brief."},
      {"role":"user","content":[{"type":"text","text":"What is 2+2?"},{"type":"image_url","image_url":{"url":"x"}}]}],
      "stream":true,"stream_options":{"include_usage":true},"max_tokens":50,"temperature":0,
      "tools":[{"type":"function"}],"response_format":{"type":"json_schema"},"logprobs":true})");
  EXPECT_EQ(r.model, "auto");
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(*r.max_tokens, 50);
  EXPECT_EQ(*r.temperature, 0.0);
  EXPECT_TRUE(r.needs_tools);
  EXPECT_TRUE(r.needs_json_schema);
  EXPECT_TRUE(r.needs_image_input);
  EXPECT_EQ(r.text, "Be brief.\nWhat is 2+2?");
  EXPECT_EQ(r.last_user_text, "What is 2+2?");
  EXPECT_EQ(r.message_count, 2);
}

TEST(ParseRequest, UnknownFieldsAreForwardedUnchangedAndModelReplaced) {
  auto r = MustParse(Endpoint::kChatCompletions,
                     R"({"model":"auto", "messages":[{"role":"user","content":"hi"}], "logit_bias":{"50256":-100}, "user":"u\u00e9", "mec":{"deadline_ms":500}})");
  std::string up = BuildUpstreamBody(r, "llama-3.2-1b", false);
  // As written (the escape stays), without the whitespace between tokens.
  EXPECT_EQ(up, R"({"model":"llama-3.2-1b","messages":[{"role":"user","content":"hi"}],"logit_bias":{"50256":-100},"user":"u\u00e9"})");
  EXPECT_EQ(*r.body_hints.deadline_ms, 500);
}

TEST(ParseRequest, ForcedUsageReplacesStreamOptions) {
  auto r = MustParse(Endpoint::kChatCompletions, R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true})");
  EXPECT_EQ(BuildUpstreamBody(r, "m", true),
            R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}})");
  auto nostream = MustParse(Endpoint::kChatCompletions, R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(BuildUpstreamBody(nostream, "m", true).find("stream_options"), std::string::npos);
}

TEST(ParseRequest, CompletionsAndEmbeddings) {
  auto c = MustParse(Endpoint::kCompletions, R"({"model":"edge","prompt":["a","b"]})");
  EXPECT_EQ(c.text, "a\nb");
  auto e = MustParse(Endpoint::kEmbeddings, R"({"model":"embed","input":"hello"})");
  EXPECT_EQ(e.text, "hello");
}

TEST(ParseRequest, BadInputGetsClearErrors) {
  EXPECT_EQ(MustFail(Endpoint::kChatCompletions, "{not json").code, "invalid_json");
  EXPECT_EQ(MustFail(Endpoint::kChatCompletions, "").code, "invalid_json");
  EXPECT_EQ(MustFail(Endpoint::kChatCompletions, R"({"model":"a","messages":[]} trailing)").code, "invalid_json");
  EXPECT_EQ(MustFail(Endpoint::kChatCompletions, "[1,2]").code, "invalid_type");
  auto missing = MustFail(Endpoint::kChatCompletions, R"({"model":"auto"})");
  EXPECT_EQ(missing.param, "messages");
  EXPECT_EQ(missing.http_status, 400);
  EXPECT_EQ(MustFail(Endpoint::kChatCompletions, R"({"messages":[{"role":"user","content":"x"}]})").param, "model");
  auto wrong = MustFail(Endpoint::kChatCompletions, R"({"model":"auto","messages":"hi"})");
  EXPECT_EQ(wrong.code, "invalid_type");
  EXPECT_NE(wrong.message.find("expected an array"), std::string::npos);
  EXPECT_EQ(MustFail(Endpoint::kChatCompletions, R"({"model":"a","messages":[{"role":"user","content":"x"}],"stream":"yes"})").param, "stream");
  EXPECT_EQ(MustFail(Endpoint::kChatCompletions, R"({"model":"a","messages":[{"role":"user","content":"x"}],"max_tokens":0})").param, "max_tokens");
  EXPECT_EQ(MustFail(Endpoint::kChatCompletions, R"({"model":"a","messages":[{"role":"wizard","content":"x"}]})").code, "invalid_value");
  EXPECT_EQ(MustFail(Endpoint::kChatCompletions, R"({"model":"a","messages":[{"content":"x"}]})").code, "missing_required_parameter");
  EXPECT_EQ(MustFail(Endpoint::kChatCompletions, R"({"model":"a","messages":[{"role":"user","content":"x"}],"mec":{"privacy":"moon"}})").param, "mec.privacy");
  EXPECT_EQ(MustFail(Endpoint::kChatCompletions, R"({"model":"a","messages":[{"role":"user","content":"x"}],"temperature":9})").param, "temperature");
  EXPECT_EQ(MustFail(Endpoint::kCompletions, R"({"model":"a"})").param, "prompt");
  EXPECT_EQ(MustFail(Endpoint::kEmbeddings, R"({"model":"a","input":5})").code, "invalid_type");
}

TEST(Hints, ParsesHeaders) {
  Hints h;
  EXPECT_FALSE(ApplyHint("x-mec-deadline-ms", "120", h));
  EXPECT_FALSE(ApplyHint("X-MEC-Network", "link=5g; rtt-edge=12; rtt-cloud=85; down-mbps=40", h));
  EXPECT_FALSE(ApplyHint("X-MEC-Device", "battery=0.35; charging=0; thermal=ok", h));
  EXPECT_FALSE(ApplyHint("X-MEC-Privacy", "device", h));
  EXPECT_EQ(*h.deadline_ms, 120);
  EXPECT_EQ(h.network->link, LinkType::k5g);
  EXPECT_EQ(*h.network->rtt_cloud_ms, 85);
  EXPECT_EQ(*h.device->battery, 0.35);
  EXPECT_FALSE(*h.device->charging);
  EXPECT_EQ(*h.privacy, Privacy::kDevice);
}

TEST(Hints, MalformedHintNamesTheHeader) {
  Hints h;
  auto e = ApplyHint("X-MEC-Deadline-Ms", "soon", h);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->http_status, 400);
  EXPECT_NE(e->message.find("X-MEC-Deadline-Ms"), std::string::npos);
  EXPECT_TRUE(ApplyHint("X-MEC-Min-Quality", "1.5", h));
  EXPECT_TRUE(ApplyHint("X-MEC-Network", "link=carrier-pigeon", h));
  EXPECT_TRUE(ApplyHint("X-MEC-Network", "rtt-edge", h));
  EXPECT_TRUE(ApplyHint("X-MEC-Device", "battery=2", h));
  EXPECT_TRUE(IsHintHeader("x-mec-use-case"));
  EXPECT_FALSE(IsHintHeader("X-MEC-Tier"));
}

TEST(Hints, MinQualityMayNameHowItIsHeld) {
  Hints h;
  EXPECT_FALSE(ApplyHint("X-MEC-Min-Quality", "0.9; per=request", h));
  EXPECT_EQ(*h.min_quality, 0.9);
  EXPECT_TRUE(*h.min_quality_per_request);
  Hints g;
  EXPECT_FALSE(ApplyHint("X-MEC-Min-Quality", "per=class", g));
  EXPECT_FALSE(g.min_quality);
  EXPECT_FALSE(*g.min_quality_per_request);
  Hints k;
  EXPECT_FALSE(ApplyHint("X-MEC-Min-Quality", "0.7", k));
  EXPECT_FALSE(k.min_quality_per_request);
  for (const char* bad : {"0.9; per=each", "; per=class", "0.9; 0.8", "per=class; per=request", "1.5; per=class"})
    EXPECT_TRUE(ApplyHint("X-MEC-Min-Quality", bad, h)) << bad;
}

TEST(SseParser, ReassemblesEventsAcrossArbitrarySplits) {
  const std::string stream = "data: {\"a\":1}\n\n: comment\r\ndata: {\"b\":\r\ndata: 2}\r\n\r\nevent: x\ndata: [DONE]\n\n";
  for (size_t split = 1; split < stream.size(); ++split) {
    SseParser p;
    std::vector<std::string> got;
    auto on = [&](std::string_view d) { got.emplace_back(d); };
    ASSERT_TRUE(p.Feed(std::string_view(stream).substr(0, split), on));
    ASSERT_TRUE(p.Feed(std::string_view(stream).substr(split), on));
    ASSERT_EQ(got.size(), 3u) << split;
    EXPECT_EQ(got[0], "{\"a\":1}");
    EXPECT_EQ(got[1], "{\"b\":\n2}");
    EXPECT_EQ(got[2], "[DONE]");
  }
}

TEST(SseParser, RejectsOversizedEvent) {
  SseParser p;
  p.max_event_bytes = 10;
  EXPECT_FALSE(p.Feed("data: 0123456789abcdef", [](std::string_view) {}));
}

TEST(OpenAiJson, ChunksAndUsage) {
  ResponseMeta m{Endpoint::kChatCompletions, "chatcmpl-1", 1700000000, "edge-model"};
  std::string c = CompletionChunk(m, "Hi", true, "");
  EXPECT_NE(c.find(R"("delta":{"role":"assistant","content":"Hi"})"), std::string::npos);
  std::string u = UsageChunk(m, {12, 3});
  EXPECT_TRUE(HasEmptyChoices(u));
  EXPECT_FALSE(HasEmptyChoices(c));
  auto usage = ExtractUsage(u);
  ASSERT_TRUE(usage);
  EXPECT_EQ(usage->prompt_tokens, 12);
  EXPECT_EQ(usage->completion_tokens, 3);
  EXPECT_FALSE(ExtractUsage(c));
  // Counts an upstream cannot mean: unreadable, not an overflow of total_tokens (docs/fuzzing.md).
  EXPECT_FALSE(ExtractUsage(R"({"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":1}})"));
  EXPECT_FALSE(ExtractUsage(R"({"usage":{"prompt_tokens":1,"completion_tokens":-1}})"));
  // The key search (a skip table): at the very start and end, after near misses, in short text.
  EXPECT_EQ(ExtractUsage(R"({"usage":{"completion_tokens":7}})")->completion_tokens, 7);
  EXPECT_EQ(ExtractUsage(R"({"usag":1,"usages":2,"x":"\"usage","usage":{"completion_tokens":5}})")->completion_tokens, 5);
  EXPECT_FALSE(ExtractUsage(R"({"usage)"));
  EXPECT_FALSE(ExtractUsage(""));
  EXPECT_FALSE(ExtractUsage(R"({"Usage":{"completion_tokens":5}})"));
  EXPECT_TRUE(HasEmptyChoices(R"({"choices":[]})"));
  EXPECT_TRUE(HasEmptyChoices(R"({"choice":[1],"choices" : [ ]})"));
  EXPECT_FALSE(HasEmptyChoices(R"({"choices":[{"index":0}]})"));
  EXPECT_FALSE(HasEmptyChoices(R"({"choices")"));
  EXPECT_EQ(ErrorJson(ApiError::BadRequest("bad", "messages")),
            R"({"error":{"message":"bad","type":"invalid_request_error","param":"messages","code":null}})");
}

}  // namespace
}  // namespace mec
