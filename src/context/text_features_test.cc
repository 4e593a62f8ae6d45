#include "context/text_features.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace mec {
namespace {

constexpr std::string_view kMmlu =
    "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\nA. 0\nB. 4\nC. 2\nD. 6\nAnswer:";
constexpr std::string_view kGsm8k =
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning. How much in dollars does she make?";

std::map<uint32_t, float> Summed(const SparseVector& x) {
  std::map<uint32_t, float> m;
  for (size_t i = 0; i < x.size(); ++i) m[x.index[i]] += x.value[i];
  return m;
}

TEST(TextFeatures, DetectsPromptType) {
  EXPECT_EQ(DetectPromptType(kMmlu), PromptType::kMultipleChoice);
  EXPECT_EQ(DetectPromptType(kGsm8k), PromptType::kFreeForm);
  EXPECT_EQ(DetectPromptType("Pick one:\n(A) red\n(B) blue"), PromptType::kMultipleChoice);
  EXPECT_EQ(DetectPromptType("A. only one option"), PromptType::kFreeForm);
  EXPECT_EQ(DetectPromptType(""), PromptType::kFreeForm);
}

TEST(TextFeatures, IndicesInRangeAndDeterministic) {
  TextFeatureOptions o;
  o.hash_bits = 12;
  SparseVector a, b;
  for (std::string_view text : {kMmlu, kGsm8k, std::string_view(""), std::string_view("\xc3\xa9t\xc3\xa9 \xe2\x82\xac 42")}) {
    ExtractTextFeatures(text, o, &a);
    ExtractTextFeatures(text, o, &b);
    EXPECT_EQ(a.index, b.index);
    EXPECT_EQ(a.value, b.value);
    for (uint32_t i : a.index) EXPECT_LT(i, FeatureSpaceSize(o));
  }
}

TEST(TextFeatures, NumbersCountByMagnitudeNotValue) {
  TextFeatureOptions o;
  SparseVector a, b, c;
  ExtractTextFeatures("She has 3 apples and 45 pears.", o, &a);
  ExtractTextFeatures("She has 7 apples and 12 pears.", o, &b);
  ExtractTextFeatures("She has 7 apples and 123 pears.", o, &c);
  EXPECT_EQ(Summed(a), Summed(b));
  EXPECT_NE(Summed(a), Summed(c));
}

TEST(TextFeatures, DenseFeaturesMeasureTheText) {
  const auto d = DenseTextFeatures(kMmlu);
  const auto& names = DenseFeatureNames();
  auto at = [&](std::string_view name) {
    const auto it = std::find(names.begin(), names.end(), name);
    EXPECT_NE(it, names.end()) << name;
    return d[it - names.begin()];
  };
  EXPECT_FLOAT_EQ(at("log_bytes"), std::log1p(static_cast<float>(kMmlu.size())));
  EXPECT_FLOAT_EQ(at("multiple_choice"), 1.0f);
  EXPECT_FLOAT_EQ(at("numeric_option_fraction"), 1.0f);  // all four options are numbers
  EXPECT_FLOAT_EQ(at("log_numbers"), std::log1p(7.0f));  // 2, 3, 18, 0, 4, 2, 6
  EXPECT_FLOAT_EQ(at("statement_pair"), 0.0f);
  const auto g = DenseTextFeatures(kGsm8k);
  EXPECT_FLOAT_EQ(g[22], 0.0f);  // multiple_choice
}

TEST(TextFeatures, FreeFormPromptsGetTheirOwnDenseCopy) {
  TextFeatureOptions o;
  o.hash_bits = 10;
  SparseVector mc, ff;
  ExtractTextFeatures(kMmlu, o, &mc);
  ExtractTextFeatures(kGsm8k, o, &ff);
  const uint32_t second_copy = static_cast<uint32_t>(HashedSpaceSize(o) + kNumDense);
  EXPECT_EQ(std::count_if(mc.index.begin(), mc.index.end(), [&](uint32_t i) { return i >= second_copy; }), 0);
  EXPECT_GT(std::count_if(ff.index.begin(), ff.index.end(), [&](uint32_t i) { return i >= second_copy; }), 0);
}

TEST(TextFeatures, FreeFormHashedOffLeavesFreeFormPromptsDenseOnly) {
  TextFeatureOptions o;
  o.hash_bits = 10;
  o.freeform_hashed = false;
  SparseVector mc, ff;
  std::vector<uint64_t> tokens;
  ExtractTextFeatures(kMmlu, o, &mc);
  ExtractTextFeatures(kGsm8k, o, &ff, &tokens);
  const uint32_t hashed = static_cast<uint32_t>(HashedSpaceSize(o));
  EXPECT_GT(std::count_if(mc.index.begin(), mc.index.end(), [&](uint32_t i) { return i < hashed; }), 0);
  EXPECT_EQ(std::count_if(ff.index.begin(), ff.index.end(), [&](uint32_t i) { return i < hashed; }), 0);
  EXPECT_GT(ff.size(), 0u);
  EXPECT_FALSE(tokens.empty());  // the word tokens (for the domain prior) are still computed
  // The option is written only when off, and read back.
  TextFeatureOptions back;
  ASSERT_TRUE(ParseTextFeatureOptions(FormatTextFeatureOptions(o), &back));
  EXPECT_EQ(back, o);
  EXPECT_EQ(FormatTextFeatureOptions(TextFeatureOptions()).find("freeform_hashed"), std::string::npos);
}

TEST(TextFeatures, GroupsAreNormalised) {
  // Word unigrams only: n tokens each of value 1/sqrt(n), so the squared values sum to 1.
  TextFeatureOptions o;
  o.word_bigrams = false;
  o.char_ngram_min = 2;
  o.char_ngram_max = 1;
  o.shape_tokens = false;
  o.conjoin_type = false;
  SparseVector x;
  ExtractTextFeatures("one two three four", o, &x);
  double sq = 0;
  for (size_t i = 0; i < x.size(); ++i)
    if (x.index[i] < HashedSpaceSize(o)) sq += x.value[i] * x.value[i];
  EXPECT_NEAR(sq, 1.0, 1e-6);
}

TEST(TextFeatures, OptionsRoundTripAndValidate) {
  TextFeatureOptions o;
  o.hash_bits = 16;
  o.word_bigrams = false;
  o.char_ngram_min = 2;
  o.char_ngram_max = 4;
  TextFeatureOptions back;
  ASSERT_TRUE(ParseTextFeatureOptions(FormatTextFeatureOptions(o), &back));
  EXPECT_EQ(back, o);
  EXPECT_FALSE(ParseTextFeatureOptions("hash_bits=40", &back));
  EXPECT_FALSE(ParseTextFeatureOptions("colour=3", &back));
  EXPECT_FALSE(ParseTextFeatureOptions("hash_bits=x", &back));
}

}  // namespace
}  // namespace mec
