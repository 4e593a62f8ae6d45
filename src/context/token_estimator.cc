#include "context/token_estimator.h"

#include <cmath>

namespace mec {
namespace {

// Byte classes. Non-ASCII bytes (UTF-8 lead and continuation bytes) are kHigh.
enum ByteClass : uint8_t { kLower, kUpper, kDigit, kSpace, kNewline, kPunct, kHigh };

constexpr std::array<uint8_t, 256> MakeClassTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t k = kPunct;  // ASCII punctuation and control characters
    if (c >= 'a' && c <= 'z') k = kLower;
    else if (c >= 'A' && c <= 'Z') k = kUpper;
    else if (c >= '0' && c <= '9') k = kDigit;
    else if (c == ' ' || c == '\t' || c == '\v' || c == '\f') k = kSpace;
    else if (c == '\n' || c == '\r') k = kNewline;
    else if (c >= 0x80) k = kHigh;
    t[c] = k;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kClass = MakeClassTable();

constexpr bool IsLetter(uint8_t k) { return k == kLower || k == kUpper; }

// Fitted on half of the sample of tests/node/tools/token_check.mjs against o200k_base (docs/tokens.md).
constexpr TokenFeatureCounts kWeights = {
    1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.10, 1.20, 1.40, 1.60, 1.80,  // words of length 1..12
    2.00,  // longer words
    0.35,  // per letter beyond 12
    0.10,  // capitalized
    0.50,  // all caps
    0.10,  // glued
    1.00,  // digit groups
    1.00,  // punctuation runs
    0.50,  // extra punctuation characters
    0.30,  // punctuation prefixes
    1.00,  // newline runs
    1.00,  // space runs
    1.00,  // bare spaces
    1.00,  // non-ASCII code points
};

constexpr std::array<std::string_view, kNumTokenFeatures> kNames = {
    "word_len_1", "word_len_2", "word_len_3", "word_len_4", "word_len_5", "word_len_6",
    "word_len_7", "word_len_8", "word_len_9", "word_len_10", "word_len_11", "word_len_12",
    "word_long", "word_long_extra_letters", "capitalized_words", "all_caps_words", "glued_words",
    "digit_groups", "punct_runs", "punct_extra_chars", "punct_prefixes", "newline_runs",
    "space_runs", "bare_spaces", "non_ascii_chars",
};
static_assert(kTokenWordBuckets == 12, "kWeights and kNames list 12 word lengths");

}  // namespace

const std::array<std::string_view, kNumTokenFeatures>& TokenFeatureNames() { return kNames; }

const TokenFeatureCounts& TokenFeatureWeights() { return kWeights; }

TokenFeatureCounts CountTokenFeatures(std::string_view text) {
  // Integer counters: cheaper than doubles in the loop, converted once at the end.
  std::array<int64_t, kNumTokenFeatures> c{};
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  bool after_alnum = false;  // the previous piece was a word or digits, with nothing in between
  while (i < n) {
    switch (kClass[p[i]]) {
      case kLower:
      case kUpper: {
        // Upper-case letters then lower-case ones, as o200k's regex cuts words: "camelCase" is two.
        const size_t start = i;
        while (i < n && kClass[p[i]] == kUpper) ++i;
        const size_t upper = i - start;
        while (i < n && kClass[p[i]] == kLower) ++i;
        const size_t len = i - start;
        if (len <= static_cast<size_t>(kTokenWordBuckets)) {
          ++c[kWordLen1 + len - 1];
        } else {
          ++c[kWordLong];
          c[kWordLongExtraLetters] += static_cast<int64_t>(len) - kTokenWordBuckets;
        }
        if (upper > 0 && upper < len) ++c[kCapitalizedWords];
        if (upper == len && len >= 2) ++c[kAllCapsWords];
        if (after_alnum) ++c[kGluedWords];
        after_alnum = true;
        break;
      }
      case kDigit: {
        const size_t start = i;
        while (i < n && kClass[p[i]] == kDigit) ++i;
        c[kDigitGroups] += static_cast<int64_t>((i - start + 2) / 3);
        after_alnum = true;
        break;
      }
      case kSpace: {
        const size_t start = i;
        while (i < n && kClass[p[i]] == kSpace) ++i;
        const size_t len = i - start;
        after_alnum = false;
        if (i == n) {
          ++c[kBareSpaces];
          break;
        }
        const uint8_t next = kClass[p[i]];
        if (next == kNewline) break;  // leading whitespace of the newline run
        // The last space joins the next piece (" word", " +="), except before digits.
        if (len >= 2) ++c[kSpaceRuns];
        if (next == kDigit) ++c[kBareSpaces];
        break;
      }
      case kNewline: {
        // Whitespace up to and including the last newline of the run; indentation after it is a
        // space run of its own.
        size_t last_newline = i;
        for (size_t j = i + 1; j < n; ++j) {
          const uint8_t k = kClass[p[j]];
          if (k == kNewline) last_newline = j;
          else if (k != kSpace) break;
        }
        i = last_newline + 1;
        ++c[kNewlineRuns];
        after_alnum = false;
        break;
      }
      case kPunct: {
        const size_t start = i;
        while (i < n && kClass[p[i]] == kPunct) ++i;
        const size_t len = i - start;
        after_alnum = false;
        if (len == 1 && i < n && IsLetter(kClass[p[i]])) {
          ++c[kPunctPrefixes];  // "(word", "'s", ".com": one piece with the word
          break;
        }
        ++c[kPunctRuns];
        c[kPunctExtraChars] += static_cast<int64_t>(len) - 1;
        while (i < n && kClass[p[i]] == kNewline) ++i;  // ".\n" is one piece
        break;
      }
      default: {  // kHigh: count UTF-8 code points (lead bytes)
        int64_t chars = 0;
        while (i < n && p[i] >= 0x80) {
          chars += (p[i] & 0xC0) != 0x80;
          ++i;
        }
        c[kNonAsciiChars] += chars;
        after_alnum = false;
        break;
      }
    }
  }
  TokenFeatureCounts out;
  for (int k = 0; k < kNumTokenFeatures; ++k) out[k] = static_cast<double>(c[k]);
  return out;
}

int64_t EstimateTokens(std::string_view text) {
  if (text.empty()) return 0;
  const TokenFeatureCounts f = CountTokenFeatures(text);
  double sum = 0;
  for (int k = 0; k < kNumTokenFeatures; ++k) sum += kWeights[k] * f[k];
  const auto rounded = static_cast<int64_t>(std::llround(sum));
  return rounded < 1 ? 1 : rounded;
}

}  // namespace mec
