#include "emulate/hidden_quality.h"

#include <gtest/gtest.h>

#include <string>

#include "emulate/text_generator.h"

namespace mec {
namespace {

TEST(HiddenQuality, GreetingsAreEasyAndProofsHard) {
  for (const char* easy : {"Hi", "Hello!", "Thanks a lot", "Translate good morning into French"})
    EXPECT_LT(HiddenDifficulty(easy), 0.6) << easy;  // the emulated device (0.6) gets them right
  for (const char* hard : {"Prove that there are infinitely many primes and discuss the Riemann hypothesis.",
                           "Derive the integral of x^2 sin x and explain why each step holds."})
    EXPECT_GT(HiddenDifficulty(hard), 0.6) << hard;
  EXPECT_EQ(HiddenDifficulty("Hi"), HiddenDifficulty("Hi"));  // deterministic
}

TEST(HiddenQuality, MarkedAnswersRoundTrip) {
  for (uint64_t seed = 0; seed < 8; ++seed) {
    EXPECT_EQ(MarkedCorrectness(std::string(MarkWord(true, seed)) + " the edge model"), true);
    EXPECT_EQ(MarkedCorrectness(std::string(MarkWord(false, seed)) + " the edge model"), false);
  }
  EXPECT_FALSE(MarkedCorrectness("the edge model").has_value());
  EXPECT_FALSE(MarkedCorrectness("").has_value());
  // The mark replaces the first generated word, so token counts stay one word per token.
  TextGenerator g(42);
  g.SetFirstWord(MarkWord(true, 1));
  std::string text;
  for (int i = 0; i < 5; ++i) g.AppendNext(text);
  EXPECT_EQ(MarkedCorrectness(text), true);
  int spaces = 0;
  for (char c : text) spaces += c == ' ';
  EXPECT_EQ(spaces, 4);
}

TEST(HiddenQuality, EmulatedJudgePrefersTheRightAnswer) {
  auto ask = [](const std::string& a1, const std::string& a2) {
    return "You are an impartial judge.\n<question>\nHi\n</question>\n\n<answer_1>\n" + a1 + "\n</answer_1>\n\n<answer_2>\n" +
           a2 + "\n</answer_2>\n";
  };
  auto j = ParseJudgeAsk(ask("Certainly yes", "Perhaps no"));
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->question, "Hi");
  EXPECT_EQ(EmulatedVerdict(*j), R"({"better": "1"})");
  EXPECT_EQ(EmulatedVerdict(*ParseJudgeAsk(ask("Maybe", "Indeed"))), R"({"better": "2"})");
  EXPECT_EQ(EmulatedVerdict(*ParseJudgeAsk(ask("Indeed", "Clearly"))), R"({"better": "tie"})");
  EXPECT_EQ(EmulatedVerdict(*ParseJudgeAsk(ask("Maybe", "Perhaps"))), R"({"better": "tie"})");
  EXPECT_FALSE(ParseJudgeAsk("Tell me a story").has_value());
  EXPECT_FALSE(ParseJudgeAsk("You are an impartial judge. <answer_1> only one").has_value());
}

}  // namespace
}  // namespace mec
