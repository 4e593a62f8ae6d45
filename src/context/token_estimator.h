#pragma once
// A fast estimate of how many tokens a real BPE tokenizer (OpenAI o200k_base / cl100k_base) makes of
// a text, without its vocabulary: one pass over the bytes cuts the text the way those tokenizers'
// pre-tokenization regex does (words with their leading space, digit groups of up to three, runs of
// punctuation, runs of newlines, runs of spaces), counts the pieces by kind (long words cost more),
// and sums a cost per kind. The costs were fitted on prompts and source code against the real tables
// (docs/tokens.md, tests/node/tools/token_check.mjs); the accuracy measured there is about ±15% on
// English prose and code, worse on text that is neither (non-Latin scripts, base64, long numbers).
//
// Cost: a few hundred ns per KB (SSE2 where available, a portable loop elsewhere).
// Thread-safety: free functions without shared state; they never allocate.

#include <array>
#include <cstdint>
#include <string_view>

namespace mec {

// The counts that the estimate weighs, in index order (names in TokenFeatureNames()). A word is a
// run of letters cut as o200k cuts it: upper-case letters then lower-case ones ("camelCase" is two
// words). Every count looks only backwards, so the pass works on 64-byte blocks of bit masks.
enum TokenFeature : int {
  kWords = 0,             // words
  kLettersBeyond4,        // sum over words of max(0, length - 4)
  kLettersBeyond8,        // ... - 8
  kLettersBeyond12,       // ... - 12
  kCapitalizedWords,      // words of one upper-case letter then lower-case ones
  kUpperAfterFirst,       // upper-case letters after the first letter of a word ("HTTP" has 3)
  kGluedWords,            // words right after a letter or digit ("camelCase", "3x")
  kDigitRuns,             // runs of digits
  kDigits,                // digits (BPE cuts digit runs in groups of up to three)
  kPunctRuns,             // runs of ASCII punctuation or control characters, but for prefixes
  kPunctExtraChars,       // such characters after the first of their run
  kPunctPrefixes,         // one such character alone right before a word: "(word", "'s", ".com"
  kNewlineRuns,           // runs of newlines not right after punctuation (".\n" is one piece)
  kSpaceRuns,             // runs of 2+ spaces or tabs (indentation)
  kBareSpaces,            // a space before a digit or at the end (not absorbed by the next piece)
  kNonAsciiChars,         // non-ASCII code points
  kNumTokenFeatures
};

using TokenFeatureCounts = std::array<double, kNumTokenFeatures>;

// Names of the features, in index order ("words", ..., "non_ascii_chars").
const std::array<std::string_view, kNumTokenFeatures>& TokenFeatureNames();

// The cost of each feature (the fitted constants).
const TokenFeatureCounts& TokenFeatureWeights();

// The counts of one text; for tools that fit the weights (`mecrouter tokens --features`).
TokenFeatureCounts CountTokenFeatures(std::string_view text);

// The estimated token count: the weighted sum of the counts, rounded; at least 1 for a non-empty
// text, 0 for an empty one.
int64_t EstimateTokens(std::string_view text);

// A chat request's prompt as a model counts it: the text's tokens plus ~4 tokens of chat framing
// (role markers, separators) per message. The router's context and the emulated backends both count
// this way (context_builder.cc, net/emulator_handler.cc), so that an emulated model's prefill works
// on the length the router predicted.
inline constexpr int64_t kChatFramingTokensPerMessage = 4;
inline int64_t EstimatePromptTokens(std::string_view text, int64_t messages) {
  return EstimateTokens(text) + kChatFramingTokensPerMessage * messages;
}

}  // namespace mec
