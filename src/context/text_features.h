#pragma once
// Text features of a prompt for the learned complexity model: computable in microseconds, from the
// text alone (never from an item id, a subject label or a lookup of known prompts).
//
// A prompt becomes one sparse vector in a space of size FeatureSpaceSize(options):
//   [0, 2^hash_bits)       hashed features: word unigrams and bigrams, character n-grams, and
//                          bucketed "shape" tokens (length, count of numbers, ...). Each group is
//                          scaled by 1/sqrt(entries in the group) so long prompts do not dominate.
//   [2^hash_bits, +kNumDense)               dense features (kDenseNames), for every prompt;
//   [2^hash_bits + kNumDense, +kNumDense)   the same dense features again, but only when the
//                          prompt is free-form (not multiple choice): a cheap interaction that
//                          lets one linear model treat multiple-choice and free-form prompts apart.
// With `conjoin_type`, each hashed feature is also emitted a second time salted with the prompt
// type (multiple choice / free form), for the same reason; the plain features then hash into the
// lower half of the hashed space and the type-salted copies into the upper half (so a trainer can
// regularise the two blocks differently).
//
// Thread-safety: free functions without shared state.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mec {

struct TextFeatureOptions {
  int hash_bits = 18;           // hashed space of 2^hash_bits buckets; REQUIRES: 8 <= hash_bits <= 26
  bool word_unigrams = true;
  bool word_bigrams = true;
  int char_ngram_min = 3;       // character n-grams of these lengths; min > max turns them off
  int char_ngram_max = 5;
  int char_window = 4096;       // character n-grams read at most this many leading bytes
  bool shape_tokens = true;     // bucketed length / count tokens in the hashed space
  bool conjoin_type = true;     // hashed features emitted again, salted with the prompt type
  // When false, free-form prompts get no hashed features at all (only the dense ones): with few
  // free-form training prompts (GSM8K) the hashed features mostly add variance.
  bool freeform_hashed = true;

  bool operator==(const TextFeatureOptions&) const = default;
};

// The options as one line "key=value ..." and back (the model file stores them).
std::string FormatTextFeatureOptions(const TextFeatureOptions& o);
// Returns false when the line is malformed or a value is out of range.
bool ParseTextFeatureOptions(std::string_view line, TextFeatureOptions* out);

enum class PromptType { kMultipleChoice = 0, kFreeForm = 1 };

// Multiple choice when at least two lines start with an option letter ("A. ", "B) ", ...).
PromptType DetectPromptType(std::string_view text);

inline constexpr int kNumDense = 24;
// Names of the dense features, in index order.
const std::array<std::string_view, kNumDense>& DenseFeatureNames();

// The dense features alone (also part of ExtractTextFeatures); for tests and tools.
std::array<float, kNumDense> DenseTextFeatures(std::string_view text);

struct SparseVector {
  std::vector<uint32_t> index;
  std::vector<float> value;
  void Clear() {
    index.clear();
    value.clear();
  }
  void Add(uint32_t i, float v) {
    index.push_back(i);
    value.push_back(v);
  }
  size_t size() const { return index.size(); }
};

inline size_t HashedSpaceSize(const TextFeatureOptions& o) { return size_t{1} << o.hash_bits; }
inline size_t FeatureSpaceSize(const TextFeatureOptions& o) { return HashedSpaceSize(o) + 2 * kNumDense; }
// First index of the type-salted hashed block (== HashedSpaceSize when there is none).
inline size_t ConjoinedBlockStart(const TextFeatureOptions& o) {
  return o.conjoin_type ? HashedSpaceSize(o) / 2 : HashedSpaceSize(o);
}

// murmur3's 64-bit finalizer: spreads a hash's bits before it is cut to a bucket.
inline uint64_t Fmix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

// Appends one 64-bit hash per word token of `text` (the tokens of the word features: lower-cased
// letter runs, numbers as "#<digit count>", each other non-space byte on its own).
void HashWordTokens(std::string_view text, std::vector<uint64_t>* out);

// Replaces *out with the features of `text` and returns the prompt type. An index may appear
// more than once (values add up). Deterministic across platforms (FNV-1a hashing). When
// `word_tokens` is not null it is replaced by HashWordTokens(text), which this computes anyway.
PromptType ExtractTextFeatures(std::string_view text, const TextFeatureOptions& options, SparseVector* out,
                               std::vector<uint64_t>* word_tokens = nullptr);

}  // namespace mec
