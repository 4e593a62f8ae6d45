#pragma once
// A fast estimate of how many tokens a real BPE tokenizer (OpenAI o200k_base / cl100k_base) makes of
// a text, without its vocabulary: one pass over the bytes cuts the text the way those tokenizers'
// pre-tokenization regex does (words with their leading space, digit groups of up to three, runs of
// punctuation, runs of newlines, runs of spaces), counts the pieces by kind (words by length), and
// sums a cost per kind. The costs were fitted on prompts and source code against the real tables
// (docs/tokens.md, tests/node/tools/token_check.mjs); the accuracy measured there is about ±15% on
// English prose and code, worse on text that is neither (non-Latin scripts, base64, long numbers).
//
// Thread-safety: free functions without shared state; they never allocate.

#include <array>
#include <cstdint>
#include <string_view>

namespace mec {

// Lengths 1..kTokenWordBuckets of a word (a run of letters) each have their own cost; longer words
// share one cost plus a cost per letter beyond kTokenWordBuckets.
inline constexpr int kTokenWordBuckets = 12;

// The counts that the estimate weighs, in index order (names in TokenFeatureNames()).
enum TokenFeature : int {
  kWordLen1 = 0,                               // words of length 1 .. kTokenWordBuckets
  kWordLong = kTokenWordBuckets,               // words longer than kTokenWordBuckets
  kWordLongExtraLetters,                       // letters beyond kTokenWordBuckets in those words
  kCapitalizedWords,                           // words starting with an upper-case letter
  kAllCapsWords,                               // words of 2+ letters, all upper case
  kGluedWords,                                 // words right after a letter or digit (camelCase, 3x)
  kDigitGroups,                                // digit runs cut in groups of up to three
  kPunctRuns,                                  // runs of ASCII punctuation (with trailing newlines)
  kPunctExtraChars,                            // characters beyond the first in those runs
  kPunctPrefixes,                              // one punctuation character glued before a word
  kNewlineRuns,                                // runs of whitespace that end in a newline
  kSpaceRuns,                                  // runs of 2+ spaces or tabs (indentation)
  kBareSpaces,                                 // a space not absorbed by the next piece
  kNonAsciiChars,                              // non-ASCII code points
  kNumTokenFeatures
};

using TokenFeatureCounts = std::array<double, kNumTokenFeatures>;

// Names of the features, in index order ("word_len_1", ..., "non_ascii_chars").
const std::array<std::string_view, kNumTokenFeatures>& TokenFeatureNames();

// The cost of each feature (the fitted constants).
const TokenFeatureCounts& TokenFeatureWeights();

// The counts of one text; for tools that fit the weights (`mecrouter tokens --features`).
TokenFeatureCounts CountTokenFeatures(std::string_view text);

// The estimated token count: the weighted sum of the counts, rounded; at least 1 for a non-empty
// text, 0 for an empty one.
int64_t EstimateTokens(std::string_view text);

}  // namespace mec
