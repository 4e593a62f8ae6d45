#include "context/token_estimator.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace mec {
namespace {

double Feature(std::string_view text, TokenFeature f) { return CountTokenFeatures(text)[f]; }

// Counts by o200k_base (gpt-tokenizer 4.0.0's countTokens), written down by hand.
TEST(TokenEstimator, MatchesHandCountedStrings) {
  EXPECT_EQ(EstimateTokens("Hello, world!"), 4);
  EXPECT_EQ(EstimateTokens("The quick brown fox jumps over the lazy dog."), 10);
  EXPECT_EQ(EstimateTokens("12345678"), 3);
  EXPECT_EQ(EstimateTokens("    int x = 0;"), 7);
  EXPECT_EQ(EstimateTokens("Janet's ducks lay 16 eggs per day."), 11);
  EXPECT_NEAR(EstimateTokens("if (x == nullptr) { return Status::NotFound(\"missing\"); }"), 16, 2);
}

TEST(TokenEstimator, EmptyIsZeroAndAnyTextAtLeastOne) {
  EXPECT_EQ(EstimateTokens(""), 0);
  EXPECT_EQ(EstimateTokens(" "), 1);
  EXPECT_EQ(EstimateTokens("a"), 1);
}

TEST(TokenEstimator, GrowsLinearlyWithRepeatedText) {
  const std::string one = "The farmer sells 12 eggs at the market every morning.\n";
  std::string many;
  for (int i = 0; i < 100; ++i) many += one;
  const double ratio = static_cast<double>(EstimateTokens(many)) / static_cast<double>(EstimateTokens(one));
  EXPECT_NEAR(ratio, 100.0, 5.0);
}

TEST(TokenEstimator, CutsWordsAsO200kDoes) {
  EXPECT_EQ(Feature("camelCase HTTPServer snake_case", kWords), 5);  // camel Case HTTPServer snake case
  EXPECT_EQ(Feature("camelCase", kGluedWords), 1);
  EXPECT_EQ(Feature("Hello World", kCapitalizedWords), 2);
  EXPECT_EQ(Feature("NASA", kUpperAfterFirst), 3);
  EXPECT_EQ(Feature("x (y) ((z", kPunctPrefixes), 1);  // "(y": a prefix; ")" and "((" are runs
  EXPECT_EQ(Feature("x (y) ((z", kPunctRuns), 2);
  EXPECT_EQ(Feature("a.\n\nb\n\n\nc", kNewlineRuns), 1);  // ".\n\n" is one piece with the dot
  EXPECT_EQ(Feature("1 22 333 4444", kDigitRuns), 4);
  EXPECT_EQ(Feature("1 22 333 4444", kDigits), 10);
  EXPECT_EQ(Feature("1 22 333 4444", kBareSpaces), 3);
  EXPECT_EQ(Feature("\xc3\xa9t\xc3\xa9 \xe2\x82\xac", kNonAsciiChars), 3);
}

// Every feature must come out the same wherever the text sits relative to the 64-byte blocks.
TEST(TokenEstimator, CountsDoNotDependOnBlockBoundaries) {
  const std::string word(20, 'a');
  for (int k = 1; k < 140; ++k) {
    const std::string text = std::string(k, '\n') + " Abcdefghij" + word + "XYZ  1234\t+= (x)" + std::string(k % 7, ' ');
    const TokenFeatureCounts f = CountTokenFeatures(text);
    SCOPED_TRACE(k);
    EXPECT_EQ(f[kWords], 3);  // Abcdefghijaa..a, XYZ, x
    EXPECT_EQ(f[kLettersBeyond12], 30 - 12);
    EXPECT_EQ(f[kLettersBeyond8], 30 - 8);
    EXPECT_EQ(f[kLettersBeyond4], 30 - 4);
    EXPECT_EQ(f[kCapitalizedWords], 1);
    EXPECT_EQ(f[kUpperAfterFirst], 2);
    EXPECT_EQ(f[kGluedWords], 1);
    EXPECT_EQ(f[kNewlineRuns], 1);
    EXPECT_EQ(f[kSpaceRuns], (k % 7 >= 2) ? 2 : 1);
    EXPECT_EQ(f[kDigits], 4);
    EXPECT_EQ(f[kPunctRuns], 2);  // "+=" and ")"
    EXPECT_EQ(f[kPunctExtraChars], 1);
    EXPECT_EQ(f[kPunctPrefixes], 1);
    EXPECT_EQ(f[kBareSpaces], (k % 7 > 0) ? 2 : 1);  // before 1234, and at the end
  }
}

TEST(TokenEstimator, NamesAndWeightsCoverEveryFeature) {
  EXPECT_EQ(TokenFeatureNames().size(), static_cast<size_t>(kNumTokenFeatures));
  EXPECT_EQ(TokenFeatureNames()[kWords], "words");
  EXPECT_EQ(TokenFeatureNames()[kNonAsciiChars], "non_ascii_chars");
  for (double w : TokenFeatureWeights()) EXPECT_GE(w, 0.0);
}

}  // namespace
}  // namespace mec
