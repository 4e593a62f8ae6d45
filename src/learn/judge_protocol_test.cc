#include "learn/judge_protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace mec {
namespace {

constexpr std::string_view kMmluPrompt =
    "Which planet is known as the Red Planet?\n"
    "A. Venus\n"
    "B. Mars\n"
    "C. Jupiter\n"
    "D. Saturn\n"
    "Answer with the letter of the correct option.";

// ---- Multiple choice ----

TEST(ExactMatchChoice, DetectsOptionLines) {
  EXPECT_TRUE(IsMultipleChoicePrompt(kMmluPrompt));
  EXPECT_TRUE(IsMultipleChoicePrompt("Pick one:\n  (A) yes\n  (B) no\n"));
  EXPECT_TRUE(IsMultipleChoicePrompt("Q?\nA) 1\nB) 2"));
  EXPECT_FALSE(IsMultipleChoicePrompt("Explain how A.I. works.\nB. is not an option alone"));
  EXPECT_FALSE(IsMultipleChoicePrompt("What is 12 * 7?"));
  EXPECT_FALSE(IsMultipleChoicePrompt("Options:\nB. one\nC. two"));  // no A
}

TEST(ExactMatchChoice, LetterAtTheStart) {
  for (std::string_view answer : {"B", "B.", "(B)", " B\n", "B) Mars", "B. Mars", "**B**", "B: Mars", "B - Mars",
                                  "Answer: B", "answer: (B)", "The answer is B", "The answer is B because Mars is red.",
                                  "The correct answer is: **B. Mars**", "Final answer: option B"}) {
    auto c = ExtractChoiceLetter(kMmluPrompt, answer);
    ASSERT_TRUE(c.has_value()) << answer;
    EXPECT_EQ(*c, 'B') << answer;
  }
}

TEST(ExactMatchChoice, LetterAfterReasoning) {
  auto c = ExtractChoiceLetter(kMmluPrompt,
                               "Venus is hot and yellowish. Mars has iron oxide on its surface, which makes it red.\n"
                               "Therefore, the answer is (B).");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(*c, 'B');
  // The last conclusion wins over an earlier one.
  c = ExtractChoiceLetter(kMmluPrompt, "At first the answer is A, I thought. On reflection, Answer: C");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(*c, 'C');
}

TEST(ExactMatchChoice, NoStandaloneLetter) {
  EXPECT_FALSE(ExtractChoiceLetter(kMmluPrompt, "A good question! Mars is red.").has_value());
  EXPECT_FALSE(ExtractChoiceLetter(kMmluPrompt, "I think it is Mars.").has_value());
  EXPECT_FALSE(ExtractChoiceLetter(kMmluPrompt, "Mars").has_value());
  EXPECT_FALSE(ExtractChoiceLetter(kMmluPrompt, "").has_value());
  // A letter the prompt does not list.
  EXPECT_FALSE(ExtractChoiceLetter(kMmluPrompt, "F").has_value());
  EXPECT_FALSE(ExtractChoiceLetter(kMmluPrompt, "The answer is E.").has_value());
  // Not a multiple-choice prompt.
  EXPECT_FALSE(ExtractChoiceLetter("What is the capital of France?", "B").has_value());
}

// ---- Final number ----

TEST(ExactMatchNumber, LastNumberNormalised) {
  EXPECT_EQ(ExtractFinalNumber("She has 3 apples and buys 5 more, so 8 apples."), "8");
  EXPECT_EQ(ExtractFinalNumber("The total cost is $1,234,567."), "1234567");
  EXPECT_EQ(ExtractFinalNumber("The temperature dropped to -12 degrees"), "-12");
  EXPECT_EQ(ExtractFinalNumber("It costs 42.50 dollars"), "42.5");
  EXPECT_EQ(ExtractFinalNumber("Answer: 42.0"), "42");
  EXPECT_EQ(ExtractFinalNumber("x = 007"), "7");
  EXPECT_EQ(ExtractFinalNumber("change of -0.0"), "0");
  EXPECT_EQ(ExtractFinalNumber("pages 1,2,3"), "3");  // not thousands groups
  EXPECT_EQ(ExtractFinalNumber("from 3-4 hours"), "4");  // a range, not minus four
  EXPECT_EQ(ExtractFinalNumber("1,2345"), "2345");
  EXPECT_FALSE(ExtractFinalNumber("no digits here").has_value());
  EXPECT_FALSE(ExtractFinalNumber("").has_value());
}

TEST(ExactMatchNumber, Gsm8kMarkerWins) {
  const std::string_view reference =
      "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
      "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n"
      "#### 72";
  EXPECT_EQ(ExtractFinalNumber(reference), "72");
  EXPECT_EQ(ExtractFinalNumber("#### 1,200 and then 5 more words 9"), "1200");
  EXPECT_FALSE(ExtractFinalNumber("the end ####").has_value());
}

// ---- Verdict ----

TEST(ExactMatchVerdict, MultipleChoice) {
  EXPECT_EQ(ExactMatchVerdict(kMmluPrompt, "B", "The answer is B."), 1.0);
  EXPECT_EQ(ExactMatchVerdict(kMmluPrompt, "(C)", "B. Mars"), 0.0);
  EXPECT_FALSE(ExactMatchVerdict(kMmluPrompt, "Mars, obviously", "B").has_value());
  // The number rule does not apply to multiple choice, even with numbers in both answers.
  EXPECT_FALSE(ExactMatchVerdict(kMmluPrompt, "Mars is planet 4", "Planet 4").has_value());
}

TEST(ExactMatchVerdict, Numbers) {
  const std::string_view q = "Natalia sold clips to 48 of her friends in April, and half as many in May. How many?";
  EXPECT_EQ(ExactMatchVerdict(q, "She sold 24 in May, so 48 + 24 = 72 in total.", "#### 72"), 1.0);
  EXPECT_EQ(ExactMatchVerdict(q, "She sold 48 + 48 = 96.", "72"), 0.0);
  EXPECT_EQ(ExactMatchVerdict(q, "The answer is 1,000.", "1000.00"), 1.0);
  EXPECT_FALSE(ExactMatchVerdict(q, "I cannot tell.", "72").has_value());
  EXPECT_FALSE(ExactMatchVerdict(q, "72", "I cannot tell.").has_value());
}

TEST(ExactMatchVerdict, LongProseReferenceIsNotChecked) {
  std::string reference(250, 'x');
  reference += " in 1945.";
  EXPECT_FALSE(ExactMatchVerdict("Tell me about the end of World War II.", "It ended in 1945.", reference).has_value());
  reference += "\n#### 1945";  // an explicit marker makes it checkable again
  EXPECT_EQ(ExactMatchVerdict("Tell me about the end of World War II.", "It ended in 1945.", reference), 1.0);
}

TEST(ExactMatchVerdict, ToJudgedVerdict) {
  JudgedVerdict v = VerdictFromExactMatch(1.0);
  EXPECT_DOUBLE_EQ(v.as_good, 1.0);
  EXPECT_DOUBLE_EQ(v.gain, 0.5);
  v = VerdictFromExactMatch(0.0);
  EXPECT_DOUBLE_EQ(v.as_good, 0.0);
  EXPECT_DOUBLE_EQ(v.gain, 0.0);
}

// ---- Judge request ----

TEST(JudgeRequestBody, HasTheFixedShape) {
  const std::string body = JudgeRequestBody("gpt-4o", "What is 2+2?", "4", "5");
  EXPECT_EQ(body.front(), '{');
  EXPECT_EQ(body.back(), '}');
  EXPECT_NE(body.find("\"model\":\"gpt-4o\""), std::string::npos);
  EXPECT_NE(body.find("\"stream\":false"), std::string::npos);
  EXPECT_NE(body.find("\"temperature\":0"), std::string::npos);
  EXPECT_NE(body.find("\"max_tokens\":20"), std::string::npos);
  EXPECT_NE(body.find("\"response_format\":{\"type\":\"json_object\"}"), std::string::npos);
  EXPECT_NE(body.find("\"role\":\"system\""), std::string::npos);
  EXPECT_NE(body.find("<question>\\nWhat is 2+2?\\n</question>"), std::string::npos);
  EXPECT_NE(body.find("<answer_1>\\n4\\n</answer_1>"), std::string::npos);
  EXPECT_NE(body.find("<answer_2>\\n5\\n</answer_2>"), std::string::npos);
  EXPECT_NE(body.find("{\\\"better\\\": \\\"tie\\\"}"), std::string::npos);
  EXPECT_EQ(kJudgePromptVersion, "judge-v1");
}

TEST(JudgeRequestBody, EscapesTexts) {
  const std::string body =
      JudgeRequestBody("m\"x", "Say \"hi\"\nthen\tstop\\", "caf\xC3\xA9 \xE2\x82\xAC", std::string_view("a\x01z", 3));
  EXPECT_NE(body.find("\"model\":\"m\\\"x\""), std::string::npos);
  EXPECT_NE(body.find("Say \\\"hi\\\"\\nthen\\tstop\\\\"), std::string::npos);
  EXPECT_NE(body.find("caf\xC3\xA9 \xE2\x82\xAC"), std::string::npos);  // UTF-8 passes through
  EXPECT_NE(body.find("a\\u0001z"), std::string::npos);
  EXPECT_EQ(body.find('\n'), std::string::npos);  // no raw newline anywhere
  EXPECT_EQ(body.find('\x01'), std::string::npos);
}

TEST(JudgeRequestBody, TruncatesOnUtf8Boundary) {
  // 7999 ASCII bytes then a 3-byte euro sign that straddles the 8000-byte limit.
  const std::string long_answer = std::string(7999, 'a') + "\xE2\x82\xAC" + "tail";
  EXPECT_EQ(TruncateUtf8(long_answer, 8000).size(), 7999u);
  EXPECT_EQ(TruncateUtf8(long_answer, 8002).size(), 8002u);
  EXPECT_EQ(TruncateUtf8("short", 8000), "short");
  EXPECT_EQ(TruncateUtf8("\xE2\x82\xAC", 2), "");

  const std::string body = JudgeRequestBody("m", "q", long_answer, "b");
  EXPECT_NE(body.find(std::string(7999, 'a') + "\\n[truncated]\\n</answer_1>"), std::string::npos);
  EXPECT_EQ(body.find("\xE2"), std::string::npos);
  EXPECT_EQ(body.find("tail"), std::string::npos);
}

// ---- Judge reply ----

std::string Completion(std::string_view content_json, std::string_view extra = "") {
  return std::string(R"({"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":)") +
         std::string(content_json) + R"(},"finish_reason":"stop"}])" + std::string(extra) + "}";
}

TEST(JudgeReply, ParsesEachOutcomeAndUsage) {
  auto r = ParseJudgeReply(Completion(R"("{\"better\": \"1\"}")", R"(,"usage":{"prompt_tokens":321,"completion_tokens":7,"total_tokens":328})"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->outcome, JudgeOutcome::kFirst);
  EXPECT_EQ(r->prompt_tokens, 321);
  EXPECT_EQ(r->completion_tokens, 7);

  r = ParseJudgeReply(Completion(R"("  {\"better\":\"2\"}\n")"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->outcome, JudgeOutcome::kSecond);
  EXPECT_FALSE(r->prompt_tokens.has_value());
  EXPECT_FALSE(r->completion_tokens.has_value());

  r = ParseJudgeReply(Completion(R"("{\n  \"better\": \"tie\"\n}")"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->outcome, JudgeOutcome::kTie);
}

TEST(JudgeReply, AcceptsFencedBlock) {
  auto r = ParseJudgeReply(Completion(R"("```json\n{\"better\": \"2\"}\n```")"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->outcome, JudgeOutcome::kSecond);
  r = ParseJudgeReply(Completion(R"("```\n{\"better\": \"tie\"}\n```\n")"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->outcome, JudgeOutcome::kTie);
}

TEST(JudgeReply, RejectsAnythingElse) {
  const std::string_view bad_contents[] = {
      R"("Answer 1 is better.")",                                 // prose
      R"("Answer 1 is better: {\"better\": \"1\"}")",             // prose around the object
      R"("{\"better\": \"1\"} because it is correct")",           // trailing prose
      R"("{\"better\": \"1\", \"reason\": \"correct\"}")",        // extra key
      R"("{\"better\": \"1\", \"better\": \"1\"}")",              // duplicate key
      R"("{\"better\": \"3\"}")",                                 // wrong value
      R"("{\"better\": \"Tie\"}")",                               // wrong case
      R"("{\"better\": 1}")",                                     // not a string
      R"("{\"winner\": \"1\"}")",                                 // wrong key
      R"("{}")",                                                  // no key
      R"("[\"1\"]")",                                             // not an object
      R"("{\"better\": \"1\"")",                                  // malformed
      R"("")",                                                    // empty
      R"("   ")",                                                 // blank
      R"("```python\n{\"better\": \"1\"}\n```")",                 // other fence language
      R"("```json\n{\"better\": \"1\"}")",                        // unterminated fence
      R"(null)",                                                  // content null
      R"(42)",                                                    // content not a string
  };
  for (std::string_view content : bad_contents) {
    auto r = ParseJudgeReply(Completion(content));
    EXPECT_FALSE(r.ok()) << content;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << content;
    }
  }
}

TEST(JudgeReply, RejectsBadResponses) {
  for (std::string_view body : {
           std::string_view(""),
           std::string_view("not json"),
           std::string_view(R"({"choices":[]})"),
           std::string_view(R"({"choices":[{"message":{"role":"assistant"}}]})"),
           std::string_view(R"({"choices":[{"message":{"content":"{\"better\":\"1\"}"}}])"),  // truncated
           std::string_view(R"({"error":{"message":"rate limited","type":"rate_limit"}})"),
       }) {
    EXPECT_FALSE(ParseJudgeReply(body).ok()) << body;
  }
  // The same minimal response, complete, parses.
  EXPECT_TRUE(ParseJudgeReply(R"({"choices":[{"message":{"content":"{\"better\":\"1\"}"}}]})").ok());
}

// ---- Combining the two orders ----

TEST(JudgeCombine, AllNineCombinations) {
  using O = JudgeOutcome;
  struct Case {
    O candidate_first;  // candidate is answer 1
    O reference_first;  // candidate is answer 2
    double as_good;
    double gain;
  };
  const Case cases[] = {
      {O::kFirst, O::kSecond, 1.0, 1.0},    // candidate better in both orders
      {O::kFirst, O::kTie, 1.0, 0.75},
      {O::kFirst, O::kFirst, 0.5, 0.5},     // position bias: answer 1 always wins
      {O::kTie, O::kSecond, 1.0, 0.75},
      {O::kTie, O::kTie, 1.0, 0.5},
      {O::kTie, O::kFirst, 0.5, 0.25},
      {O::kSecond, O::kSecond, 0.5, 0.5},   // position bias: answer 2 always wins
      {O::kSecond, O::kTie, 0.5, 0.25},
      {O::kSecond, O::kFirst, 0.0, 0.0},    // reference better in both orders
  };
  for (const Case& c : cases) {
    const JudgedVerdict v = CombineOrders(c.candidate_first, c.reference_first);
    EXPECT_DOUBLE_EQ(v.as_good, c.as_good) << static_cast<int>(c.candidate_first) << static_cast<int>(c.reference_first);
    EXPECT_DOUBLE_EQ(v.gain, c.gain) << static_cast<int>(c.candidate_first) << static_cast<int>(c.reference_first);
  }
}

}  // namespace
}  // namespace mec
