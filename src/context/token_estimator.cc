#include "context/token_estimator.h"

#include <bit>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mec {
namespace {

// Fitted by `node token_check.mjs BIN --fit` (tests/node/tools) on the fit half of its sample against
// o200k_base: weighted least squares on relative error, small ridge (docs/tokens.md).
constexpr TokenFeatureCounts kWeights = {
    0.96,  // words
    0.02,  // letters beyond 4
    0.19,  // letters beyond 8
    0.28,  // letters beyond 12
    0.17,  // capitalized words
    0.18,  // upper-case letters after the first
    0.20,  // glued words
    0.96,  // digit runs
    0.25,  // digits
    0.79,  // punctuation runs
    0.10,  // extra punctuation characters
    0.78,  // punctuation prefixes
    1.03,  // newline runs
    0.90,  // space runs
    0.98,  // bare spaces
    0.99,  // non-ASCII code points
};

constexpr std::array<std::string_view, kNumTokenFeatures> kNames = {
    "words",         "letters_beyond_4", "letters_beyond_8",  "letters_beyond_12",
    "capitalized_words", "upper_after_first", "glued_words",  "digit_runs",
    "digits",        "punct_runs",       "punct_extra_chars", "punct_prefixes",
    "newline_runs",  "space_runs",       "bare_spaces",       "non_ascii_chars",
};

// One bit per byte of a 64-byte block, per byte class.
struct ClassMasks {
  uint64_t lower = 0, upper = 0, digit = 0, space = 0, newline = 0, punct = 0, high = 0, cont = 0;
};

#if defined(__SSE2__)
inline uint64_t Bits(__m128i m) { return static_cast<uint32_t>(_mm_movemask_epi8(m)) & 0xFFFFu; }
inline __m128i InRange(__m128i b, char lo, char hi) {  // signed compares: bytes >= 0x80 are out
  return _mm_and_si128(_mm_cmpgt_epi8(b, _mm_set1_epi8(static_cast<char>(lo - 1))),
                       _mm_cmplt_epi8(b, _mm_set1_epi8(static_cast<char>(hi + 1))));
}

// REQUIRES: 64 readable bytes at p.
ClassMasks Classify(const unsigned char* p) {
  ClassMasks m;
  for (int k = 0; k < 4; ++k) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    const int shift = 16 * k;
    m.lower |= Bits(InRange(b, 'a', 'z')) << shift;
    m.upper |= Bits(InRange(b, 'A', 'Z')) << shift;
    m.digit |= Bits(InRange(b, '0', '9')) << shift;
    m.space |= Bits(_mm_or_si128(_mm_cmpeq_epi8(b, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(b, _mm_set1_epi8('\t')))) << shift;
    m.newline |= Bits(_mm_or_si128(_mm_cmpeq_epi8(b, _mm_set1_epi8('\n')), _mm_cmpeq_epi8(b, _mm_set1_epi8('\r')))) << shift;
    m.high |= Bits(b) << shift;
    m.cont |= Bits(_mm_cmpeq_epi8(_mm_and_si128(b, _mm_set1_epi8(static_cast<char>(0xC0))),
                                  _mm_set1_epi8(static_cast<char>(0x80)))) << shift;
  }
  m.punct = ~(m.lower | m.upper | m.digit | m.space | m.newline | m.high);
  return m;
}
#else
ClassMasks Classify(const unsigned char* p) {
  ClassMasks m;
  for (int i = 0; i < 64; ++i) {
    const unsigned c = p[i];
    const uint64_t bit = uint64_t{1} << i;
    if (c >= 'a' && c <= 'z') m.lower |= bit;
    else if (c >= 'A' && c <= 'Z') m.upper |= bit;
    else if (c >= '0' && c <= '9') m.digit |= bit;
    else if (c == ' ' || c == '\t') m.space |= bit;
    else if (c == '\n' || c == '\r') m.newline |= bit;
    else if (c >= 0x80) m.high |= bit;
    else m.punct |= bit;
    if ((c & 0xC0) == 0x80) m.cont |= bit;
  }
  return m;
}
#endif

// X shifted by k positions towards later bytes, with the previous block's last k bits shifted in:
// bit i of the result is bit i-k of the text's mask. REQUIRES: 1 <= k <= 63.
inline uint64_t Back(uint64_t x, uint64_t prev, int k) { return (x << k) | (prev >> (64 - k)); }

inline int64_t Pop(uint64_t x) { return std::popcount(x); }

// Without the popcnt instruction std::popcount is a dozen instructions, which more than doubles the
// cost of the pass; on x86-64 the counting loop is compiled twice and the loader picks the version
// the CPU can run.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__POPCNT__) && defined(__ELF__)
#define MEC_POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))
#else
#define MEC_POPCNT_CLONES
#endif

// The masks of the previous block that later blocks look back into.
struct Carry {
  uint64_t letter = 0, lower = 0, digit = 0, punct = 0, space = 0, newline = 0, upper_start = 0, g2 = 0, g4 = 0, cont_letter = 0;
};

}  // namespace

const std::array<std::string_view, kNumTokenFeatures>& TokenFeatureNames() { return kNames; }

const TokenFeatureCounts& TokenFeatureWeights() { return kWeights; }

namespace {

MEC_POPCNT_CLONES void CountInto(std::string_view text, std::array<int64_t, kNumTokenFeatures>& c) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  Carry prev;
  unsigned char tail[64];
  for (size_t off = 0; off < n; off += 64) {
    ClassMasks m;
    if (n - off >= 64) {
      m = Classify(p + off);
    } else {  // the last partial block, padded; padding bits are cleared from every mask
      const size_t rem = n - off;
      std::memset(tail, 0, sizeof tail);
      std::memcpy(tail, p + off, rem);
      m = Classify(tail);
      const uint64_t valid = (uint64_t{1} << rem) - 1;
      m.lower &= valid, m.upper &= valid, m.digit &= valid, m.space &= valid, m.newline &= valid;
      m.punct &= valid, m.high &= valid, m.cont &= valid;
    }
    const uint64_t letter = m.lower | m.upper;
    const uint64_t prev_letter = Back(letter, prev.letter, 1);
    // A word starts at a letter after a non-letter, or at an upper-case letter after a lower-case one.
    const uint64_t start = letter & ~(prev_letter & ~(Back(m.lower, prev.lower, 1) & m.upper));
    const uint64_t cont_letter = letter & ~start;
    // g_k: letters with k letters of the same word right before them.
    const uint64_t g1 = cont_letter;
    const uint64_t g2 = g1 & Back(g1, prev.cont_letter, 1);
    const uint64_t g4 = g2 & Back(g2, prev.g2, 2);
    const uint64_t g8 = g4 & Back(g4, prev.g4, 4);
    const uint64_t g12 = g8 & Back(g4, prev.g4, 8);
    const uint64_t upper_start = start & m.upper;
    const uint64_t prev_digit = Back(m.digit, prev.digit, 1);
    const uint64_t prev_punct = Back(m.punct, prev.punct, 1);
    const uint64_t prev2_punct = Back(m.punct, prev.punct, 2);
    const uint64_t prev_space = Back(m.space, prev.space, 1);
    const uint64_t prefixes = letter & prev_punct & ~prev2_punct;

    c[kWords] += Pop(start);
    c[kLettersBeyond4] += Pop(g4);
    c[kLettersBeyond8] += Pop(g8);
    c[kLettersBeyond12] += Pop(g12);
    c[kCapitalizedWords] += Pop(m.lower & Back(upper_start, prev.upper_start, 1));
    c[kUpperAfterFirst] += Pop(m.upper & cont_letter);
    c[kGluedWords] += Pop(start & (prev_letter | prev_digit));
    c[kDigitRuns] += Pop(m.digit & ~prev_digit);
    c[kDigits] += Pop(m.digit);
    c[kPunctRuns] += Pop(m.punct & ~prev_punct) - Pop(prefixes);
    c[kPunctExtraChars] += Pop(m.punct & prev_punct);
    c[kPunctPrefixes] += Pop(prefixes);
    c[kNewlineRuns] += Pop(m.newline & ~Back(m.newline, prev.newline, 1) & ~prev_punct);
    c[kSpaceRuns] += Pop(m.space & prev_space & ~Back(m.space, prev.space, 2));
    c[kBareSpaces] += Pop(m.digit & prev_space);
    c[kNonAsciiChars] += Pop(m.high & ~m.cont);

    prev.letter = letter, prev.lower = m.lower, prev.digit = m.digit, prev.punct = m.punct;
    prev.space = m.space, prev.newline = m.newline, prev.upper_start = upper_start, prev.g2 = g2, prev.g4 = g4;
    prev.cont_letter = cont_letter;
  }
  if (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) ++c[kBareSpaces];
}

}  // namespace

TokenFeatureCounts CountTokenFeatures(std::string_view text) {
  std::array<int64_t, kNumTokenFeatures> c{};
  CountInto(text, c);
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
