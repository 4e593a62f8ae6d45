#include "context/text_features.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace mec {
namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;

// Distinct salts per feature group so that, say, the word "the" and the 3-gram "the" differ.
constexpr uint64_t kSaltUnigram = 0x9e3779b97f4a7c15ull;
constexpr uint64_t kSaltBigram = 0xc2b2ae3d27d4eb4full;
constexpr uint64_t kSaltChar = 0x165667b19e3779f9ull;
constexpr uint64_t kSaltShape = 0x27d4eb2f165667c5ull;
constexpr uint64_t kSaltType = 0x85ebca77c2b2ae63ull;

uint64_t HashBytes(std::string_view s, uint64_t h = kFnvOffset) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsUpper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(unsigned char c) { return c >= 'a' && c <= 'z'; }
bool IsAsciiLetter(unsigned char c) { return IsUpper(c) || IsLower(c); }
// Bytes of multi-byte UTF-8 sequences count as letters: words in any script stay words.
bool IsWordByte(unsigned char c) { return IsAsciiLetter(c) || c >= 0x80; }
bool IsSpace(unsigned char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }
unsigned char Lower(unsigned char c) { return IsUpper(c) ? static_cast<unsigned char>(c + 32) : c; }
bool IsMathSymbol(unsigned char c) { return std::strchr("=+*/^<>|\\_", c) != nullptr && c != 0; }

// True when `line` starts with an option label such as "A. ", "B) " or "(C) ".
bool IsOptionLine(std::string_view line) {
  if (line.size() >= 3 && line[0] >= 'A' && line[0] <= 'J' && (line[1] == '.' || line[1] == ')') && line[2] == ' ')
    return true;
  return line.size() >= 4 && line[0] == '(' && line[1] >= 'A' && line[1] <= 'J' && line[2] == ')' && line[3] == ' ';
}

int Log2Bin(double x, double per_octave) { return static_cast<int>(std::floor(std::log2(1.0 + x) * per_octave)); }

float Log1p(double x) { return static_cast<float>(std::log1p(x)); }

struct Shape {
  size_t bytes = 0, words = 0, letters = 0, upper = 0, digits = 0, numbers = 0, max_number_digits = 0;
  size_t punct = 0, math = 0, lines = 0, sentences = 0, word_bytes = 0, code = 0, money_pct = 0;
  size_t decimals = 0, questions = 0, non_ascii = 0, proper = 0, negations = 0;
  size_t options = 0, numeric_options = 0, option_bytes = 0, max_option_bytes = 0, stem_bytes = 0;
  bool statement_pair = false;
  PromptType type = PromptType::kFreeForm;
};

size_t CountOccurrences(std::string_view text, std::string_view needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string_view::npos; pos = text.find(needle, pos + needle.size())) ++n;
  return n;
}

Shape MeasureShape(std::string_view text) {
  Shape s;
  s.bytes = text.size();
  bool prev_sentence_end = true;  // a capital after a sentence end is not a proper noun
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (IsWordByte(c)) {
      const size_t start = i;
      while (i < n && IsWordByte(static_cast<unsigned char>(text[i]))) {
        const unsigned char d = static_cast<unsigned char>(text[i]);
        if (IsAsciiLetter(d)) ++s.letters;
        if (IsUpper(d)) ++s.upper;
        if (d >= 0x80) ++s.non_ascii;
        ++i;
      }
      ++s.words;
      s.word_bytes += i - start;
      const std::string_view w = text.substr(start, i - start);
      if (w == "not" || w == "NOT" || w == "EXCEPT" || w == "LEAST" ||
          (w == "t" && start >= 2 && text[start - 1] == '\'' && text[start - 2] == 'n'))
        ++s.negations;
      else if (w == "def" || w == "return")
        ++s.code;
      if (IsUpper(static_cast<unsigned char>(text[start])) && !prev_sentence_end) ++s.proper;
      prev_sentence_end = false;
      continue;
    }
    if (IsDigit(c)) {
      size_t digits = 0;
      bool decimal = false;
      while (i < n) {
        const unsigned char d = static_cast<unsigned char>(text[i]);
        if (IsDigit(d)) {
          ++digits;
          ++i;
        } else if ((d == '.' || d == ',' || d == '/') && i + 1 < n && IsDigit(static_cast<unsigned char>(text[i + 1]))) {
          if (d != ',') decimal = true;
          ++i;
        } else {
          break;
        }
      }
      s.digits += digits;
      ++s.numbers;
      s.max_number_digits = std::max(s.max_number_digits, digits);
      if (decimal) ++s.decimals;
      prev_sentence_end = false;
      continue;
    }
    if (c == '\n') ++s.lines;
    if (!IsSpace(c)) {
      ++s.punct;
      if (IsMathSymbol(c)) ++s.math;
      if (c == '$' || c == '%') ++s.money_pct;
      if (c == '?') ++s.questions;
      if (c == ';' || c == '{' || c == '}') ++s.code;
      if (c == '.' || c == '?' || c == '!') {
        if (i + 1 >= n || IsSpace(static_cast<unsigned char>(text[i + 1]))) {
          ++s.sentences;
          prev_sentence_end = true;
        }
      } else if (c == ':' || c == '\n') {
        prev_sentence_end = true;
      }
    } else if (c == '\n') {
      prev_sentence_end = true;
    }
    ++i;
  }
  s.lines += 1;
  // Markers that start with a rare byte are cheap to search for; word markers (not, EXCEPT, def,
  // return, ...) are counted in the word loop above.
  s.code += CountOccurrences(text, "```") + CountOccurrences(text, "#include");
  s.statement_pair = text.find("Statement 1") != std::string_view::npos;

  // Options: lines that start with an option label; the stem is everything before the first one.
  size_t line_start = 0;
  size_t first_option = std::string_view::npos;
  while (line_start <= n) {
    size_t line_end = text.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = n;
    const std::string_view line = text.substr(line_start, line_end - line_start);
    if (IsOptionLine(line)) {
      if (first_option == std::string_view::npos) first_option = line_start;
      const size_t label = line[0] == '(' ? 4 : 3;
      const std::string_view body = line.substr(label);
      ++s.options;
      s.option_bytes += body.size();
      s.max_option_bytes = std::max(s.max_option_bytes, body.size());
      if (!body.empty() && (IsDigit(static_cast<unsigned char>(body[0])) || body[0] == '$' || body[0] == '-')) ++s.numeric_options;
    }
    line_start = line_end + 1;
  }
  s.stem_bytes = first_option == std::string_view::npos ? n : first_option;
  s.type = s.options >= 2 ? PromptType::kMultipleChoice : PromptType::kFreeForm;
  return s;
}

std::array<float, kNumDense> DenseFromShape(const Shape& s) {
  const double bytes = std::max<size_t>(s.bytes, 1);
  std::array<float, kNumDense> d{};
  d[0] = Log1p(s.bytes);
  d[1] = Log1p(s.words);
  d[2] = static_cast<float>(s.digits / bytes);
  d[3] = Log1p(s.numbers);
  d[4] = static_cast<float>(s.letters ? static_cast<double>(s.upper) / s.letters : 0.0);
  d[5] = static_cast<float>(s.punct / bytes);
  d[6] = Log1p(s.math);
  d[7] = Log1p(s.max_number_digits);
  d[8] = s.statement_pair ? 1.0f : 0.0f;
  d[9] = Log1p(s.negations);
  d[10] = Log1p(s.stem_bytes);
  d[11] = s.options ? Log1p(static_cast<double>(s.option_bytes) / s.options) : 0.0f;
  d[12] = Log1p(s.max_option_bytes);
  d[13] = s.options ? static_cast<float>(static_cast<double>(s.numeric_options) / s.options) : 0.0f;
  d[14] = Log1p(s.lines);
  d[15] = Log1p(s.sentences);
  d[16] = s.words ? static_cast<float>(static_cast<double>(s.word_bytes) / s.words) : 0.0f;
  d[17] = Log1p(s.code);
  d[18] = Log1p(s.money_pct);
  d[19] = Log1p(s.decimals);
  d[20] = Log1p(s.questions);
  d[21] = Log1p(s.non_ascii);
  d[22] = s.type == PromptType::kMultipleChoice ? 1.0f : 0.0f;
  d[23] = Log1p(s.proper);
  return d;
}

// Appends hashed features to `out`, optionally a second time salted with the prompt type.
class HashedSink {
 public:
  HashedSink(const TextFeatureOptions& o, PromptType type, SparseVector* out)
      : mask_(((uint64_t{1} << o.hash_bits) - 1) >> (o.conjoin_type ? 1 : 0)),
        conjoin_(o.conjoin_type),
        type_salt_(kSaltType * (static_cast<uint64_t>(type) + 1)),
        upper_(static_cast<uint32_t>(ConjoinedBlockStart(o))),
        out_(out) {}
  void Emit(uint64_t h, float v) {
    out_->Add(static_cast<uint32_t>(Fmix64(h) & mask_), v);
    if (conjoin_) out_->Add(upper_ + static_cast<uint32_t>(Fmix64(h ^ type_salt_) & mask_), v);
  }
  // Scales the values appended since `from` by 1/sqrt(number of features appended).
  void NormalizeSince(size_t from) {
    const size_t count = out_->size() - from;
    if (count == 0) return;
    const float scale = 1.0f / std::sqrt(static_cast<float>(conjoin_ ? count / 2 : count));
    for (size_t i = from; i < out_->size(); ++i) out_->value[i] *= scale;
  }
  size_t size() const { return out_->size(); }

 private:
  uint64_t mask_;
  bool conjoin_;
  uint64_t type_salt_;
  uint32_t upper_;
  SparseVector* out_;
};

// Word tokens: lower-cased letter runs; numbers become "#<digits>" (magnitude, not value);
// each other non-space byte is a token of its own.
template <typename F>
void ForEachWordToken(std::string_view text, F&& f) {
  char buf[64];
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (IsWordByte(c)) {
      size_t len = 0;
      while (i < n && IsWordByte(static_cast<unsigned char>(text[i]))) {
        if (len < sizeof(buf)) buf[len++] = static_cast<char>(Lower(static_cast<unsigned char>(text[i])));
        ++i;
      }
      f(std::string_view(buf, len));
    } else if (IsDigit(c)) {
      size_t digits = 0;
      while (i < n && (IsDigit(static_cast<unsigned char>(text[i])) ||
                       ((text[i] == '.' || text[i] == ',') && i + 1 < n && IsDigit(static_cast<unsigned char>(text[i + 1]))))) {
        if (IsDigit(static_cast<unsigned char>(text[i]))) ++digits;
        ++i;
      }
      buf[0] = '#';
      buf[1] = static_cast<char>('0' + std::min<size_t>(digits, 9));
      f(std::string_view(buf, 2));
    } else {
      if (!IsSpace(c)) {
        buf[0] = static_cast<char>(c);
        f(std::string_view(buf, 1));
      }
      ++i;
    }
  }
}

void AppendHashedFeatures(std::string_view text, const TextFeatureOptions& o, const Shape& shape,
                          const std::vector<uint64_t>& tokens, HashedSink* sink);
void AppendDenseFeatures(const TextFeatureOptions& o, const Shape& shape, SparseVector* out);

}  // namespace

void HashWordTokens(std::string_view text, std::vector<uint64_t>* out) {
  ForEachWordToken(text, [&](std::string_view w) { out->push_back(HashBytes(w)); });
}

std::string FormatTextFeatureOptions(const TextFeatureOptions& o) {
  std::string s;
  s += "hash_bits=" + std::to_string(o.hash_bits);
  s += " word_unigrams=" + std::to_string(o.word_unigrams ? 1 : 0);
  s += " word_bigrams=" + std::to_string(o.word_bigrams ? 1 : 0);
  s += " char_ngram_min=" + std::to_string(o.char_ngram_min);
  s += " char_ngram_max=" + std::to_string(o.char_ngram_max);
  s += " char_window=" + std::to_string(o.char_window);
  s += " shape_tokens=" + std::to_string(o.shape_tokens ? 1 : 0);
  s += " conjoin_type=" + std::to_string(o.conjoin_type ? 1 : 0);
  if (!o.freeform_hashed) s += " freeform_hashed=0";  // written only when off: older files stay as they were
  return s;
}

bool ParseTextFeatureOptions(std::string_view line, TextFeatureOptions* out) {
  TextFeatureOptions o;
  size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && line[pos] == ' ') ++pos;
    if (pos >= line.size()) break;
    size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) end = line.size();
    const std::string_view kv = line.substr(pos, end - pos);
    pos = end;
    const size_t eq = kv.find('=');
    if (eq == std::string_view::npos) return false;
    const std::string_view key = kv.substr(0, eq), val = kv.substr(eq + 1);
    int v = 0;
    auto [p, ec] = std::from_chars(val.data(), val.data() + val.size(), v);
    if (ec != std::errc() || p != val.data() + val.size()) return false;
    if (key == "hash_bits") o.hash_bits = v;
    else if (key == "word_unigrams") o.word_unigrams = v != 0;
    else if (key == "word_bigrams") o.word_bigrams = v != 0;
    else if (key == "char_ngram_min") o.char_ngram_min = v;
    else if (key == "char_ngram_max") o.char_ngram_max = v;
    else if (key == "char_window") o.char_window = v;
    else if (key == "shape_tokens") o.shape_tokens = v != 0;
    else if (key == "conjoin_type") o.conjoin_type = v != 0;
    else if (key == "freeform_hashed") o.freeform_hashed = v != 0;
    else return false;
  }
  if (o.hash_bits < 8 || o.hash_bits > 26 || o.char_ngram_min < 1 || o.char_ngram_max > 16 || o.char_window < 0) return false;
  *out = o;
  return true;
}

PromptType DetectPromptType(std::string_view text) {
  int options = 0;
  size_t line_start = 0;
  while (line_start < text.size()) {
    size_t line_end = text.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = text.size();
    if (IsOptionLine(text.substr(line_start, line_end - line_start)) && ++options >= 2) return PromptType::kMultipleChoice;
    line_start = line_end + 1;
  }
  return PromptType::kFreeForm;
}

const std::array<std::string_view, kNumDense>& DenseFeatureNames() {
  static constexpr std::array<std::string_view, kNumDense> kNames = {
      "log_bytes",        "log_words",       "digit_fraction",   "log_numbers",     "upper_fraction",
      "punct_fraction",   "log_math_symbols", "log_max_number_digits", "statement_pair", "log_negations",
      "log_stem_bytes",   "log_mean_option_bytes", "log_max_option_bytes", "numeric_option_fraction",
      "log_lines",        "log_sentences",   "mean_word_bytes",  "log_code_markers", "log_money_percent",
      "log_decimals",     "log_question_marks", "log_non_ascii", "multiple_choice",  "log_proper_nouns"};
  return kNames;
}

std::array<float, kNumDense> DenseTextFeatures(std::string_view text) { return DenseFromShape(MeasureShape(text)); }

PromptType ExtractTextFeatures(std::string_view text, const TextFeatureOptions& o, SparseVector* out,
                               std::vector<uint64_t>* word_tokens) {
  out->Clear();
  const Shape shape = MeasureShape(text);
  HashedSink sink(o, shape.type, out);

  std::vector<uint64_t> local_tokens;
  std::vector<uint64_t>& tokens = word_tokens ? *word_tokens : local_tokens;
  tokens.clear();
  const bool hashed = o.freeform_hashed || shape.type != PromptType::kFreeForm;
  if (word_tokens || (hashed && (o.word_unigrams || o.word_bigrams))) {
    tokens.reserve(text.size() / 4 + 8);
    HashWordTokens(text, &tokens);
  }
  if (hashed) AppendHashedFeatures(text, o, shape, tokens, &sink);
  AppendDenseFeatures(o, shape, out);
  return shape.type;
}

namespace {

void AppendHashedFeatures(std::string_view text, const TextFeatureOptions& o, const Shape& shape,
                          const std::vector<uint64_t>& tokens, HashedSink* sink_ptr) {
  HashedSink& sink = *sink_ptr;
  // Unigrams and bigrams go in separate groups, each normalised on its own.
  if (o.word_unigrams) {
    const size_t start = sink.size();
    for (uint64_t h : tokens) sink.Emit(h ^ kSaltUnigram, 1.0f);
    sink.NormalizeSince(start);
  }
  if (o.word_bigrams) {
    const size_t start = sink.size();
    uint64_t prev = kSaltBigram;  // a sentinel "start" token
    for (uint64_t h : tokens) {
      sink.Emit(Fmix64(prev) * 31 + h + kSaltBigram, 1.0f);
      prev = h;
    }
    sink.NormalizeSince(start);
  }

  if (o.char_ngram_min <= o.char_ngram_max) {
    // Character n-grams over a normalised copy: lower case, digits as '0', whitespace runs as ' '.
    const size_t limit = std::min<size_t>(text.size(), static_cast<size_t>(o.char_window));
    std::string norm;
    norm.reserve(limit + 2);
    norm.push_back(' ');
    for (size_t i = 0; i < limit; ++i) {
      unsigned char c = static_cast<unsigned char>(text[i]);
      if (IsSpace(c)) {
        if (norm.back() != ' ') norm.push_back(' ');
        continue;
      }
      if (IsDigit(c)) c = '0';
      norm.push_back(static_cast<char>(Lower(c)));
    }
    if (norm.back() != ' ') norm.push_back(' ');
    const size_t start = sink.size();
    const size_t m = norm.size();
    for (size_t i = 0; i < m; ++i) {
      uint64_t h = kSaltChar;
      for (int len = 1; len <= o.char_ngram_max && i + len <= m; ++len) {
        h = (h ^ static_cast<unsigned char>(norm[i + len - 1])) * kFnvPrime;
        if (len >= o.char_ngram_min) sink.Emit(h + static_cast<uint64_t>(len), 1.0f);
      }
    }
    sink.NormalizeSince(start);
  }

  if (o.shape_tokens) {
    auto emit_bin = [&](uint64_t tag, int bin) { sink.Emit(kSaltShape ^ (tag * 0x9e3779b97f4a7c15ull) ^ static_cast<uint64_t>(bin), 1.0f); };
    emit_bin(1, Log2Bin(static_cast<double>(shape.bytes), 2.0));
    emit_bin(2, Log2Bin(static_cast<double>(shape.stem_bytes), 2.0));
    emit_bin(3, static_cast<int>(std::min<size_t>(shape.numbers, 24)));
    emit_bin(4, Log2Bin(static_cast<double>(shape.max_option_bytes), 2.0));
    emit_bin(5, static_cast<int>(std::min<size_t>(shape.max_number_digits, 12)));
    emit_bin(6, static_cast<int>(std::min<size_t>(shape.sentences, 16)));
    emit_bin(7, static_cast<int>(std::min<size_t>(shape.numeric_options, 8)));
  }

}

void AppendDenseFeatures(const TextFeatureOptions& o, const Shape& shape, SparseVector* out) {
  const std::array<float, kNumDense> dense = DenseFromShape(shape);
  const uint32_t base = static_cast<uint32_t>(HashedSpaceSize(o));
  for (int j = 0; j < kNumDense; ++j) {
    if (dense[j] != 0.0f) out->Add(base + j, dense[j]);
  }
  if (shape.type == PromptType::kFreeForm) {
    for (int j = 0; j < kNumDense; ++j) {
      if (dense[j] != 0.0f) out->Add(base + kNumDense + j, dense[j]);
    }
  }
}

}  // namespace

}  // namespace mec
