#include "emulate/hidden_quality.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>

#include "core/ascii.h"
#include "core/rng.h"

namespace mec {
namespace {

constexpr std::array<std::string_view, 4> kRightWords = {"Certainly", "Indeed", "Clearly", "Yes"};
constexpr std::array<std::string_view, 4> kWrongWords = {"Perhaps", "Maybe", "Possibly", "Probably"};
// Words that make a prompt easy (chit-chat, one-line lookups) or hard (reasoning).
constexpr std::array<std::string_view, 14> kEasy = {"hi",   "hello", "hey",     "thanks",    "thank", "bye",  "morning",
                                                    "translate", "status", "weather", "ok", "name", "time", "joke"};
constexpr std::array<std::string_view, 14> kHard = {"prove", "proof",   "derive",   "theorem",  "analyze", "analyse", "design",
                                                    "optimize", "optimise", "riemann", "integral", "why", "compare", "plan"};

std::string_view FirstWord(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  size_t j = i;
  while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) ++j;
  return s.substr(i, j - i);
}

std::string Between(std::string_view s, std::string_view open, std::string_view close) {
  const size_t a = s.find(open);
  if (a == std::string_view::npos) return {};
  const size_t b = s.find(close, a + open.size());
  if (b == std::string_view::npos) return {};
  std::string_view in = s.substr(a + open.size(), b - a - open.size());
  while (!in.empty() && (in.front() == '\n' || in.front() == ' ')) in.remove_prefix(1);
  while (!in.empty() && (in.back() == '\n' || in.back() == ' ')) in.remove_suffix(1);
  return std::string(in);
}

}  // namespace

double HiddenDifficulty(std::string_view prompt) {
  const std::string low = AsciiLower(prompt);
  int words = 0, easy = 0, hard = 0;
  size_t i = 0;
  while (i < low.size()) {
    while (i < low.size() && !std::isalpha(static_cast<unsigned char>(low[i]))) ++i;
    size_t j = i;
    while (j < low.size() && std::isalpha(static_cast<unsigned char>(low[j]))) ++j;
    if (j > i) {
      const std::string_view w(low.data() + i, j - i);
      ++words;
      easy += std::find(kEasy.begin(), kEasy.end(), w) != kEasy.end();
      hard += std::find(kHard.begin(), kHard.end(), w) != kHard.end();
    }
    i = j;
  }
  const double u = static_cast<double>(Fnv1a64(prompt, 0x51ed270b27c5a3ull) % 10000) / 10000.0;
  double d = 0.35 + 0.25 * std::min(1.0, words / 80.0) + 0.3 * (u - 0.5);
  if (easy > 0) d -= 0.3;
  if (hard > 0) d += 0.35;
  return std::clamp(d, 0.0, 1.0);
}

std::string_view MarkWord(bool right, uint64_t seed) {
  return right ? kRightWords[seed % kRightWords.size()] : kWrongWords[seed % kWrongWords.size()];
}

std::optional<bool> MarkedCorrectness(std::string_view answer) {
  const std::string_view w = FirstWord(answer);
  if (std::find(kRightWords.begin(), kRightWords.end(), w) != kRightWords.end()) return true;
  if (std::find(kWrongWords.begin(), kWrongWords.end(), w) != kWrongWords.end()) return false;
  return std::nullopt;
}

std::optional<JudgeAsk> ParseJudgeAsk(std::string_view text) {
  if (text.find("You are an impartial judge") == std::string_view::npos) return std::nullopt;
  JudgeAsk a;
  a.question = Between(text, "<question>", "</question>");
  a.answer_1 = Between(text, "<answer_1>", "</answer_1>");
  a.answer_2 = Between(text, "<answer_2>", "</answer_2>");
  if (text.find("<answer_1>") == std::string_view::npos || text.find("<answer_2>") == std::string_view::npos)
    return std::nullopt;
  return a;
}

std::string EmulatedVerdict(const JudgeAsk& ask) {
  const bool r1 = MarkedCorrectness(ask.answer_1).value_or(false);
  const bool r2 = MarkedCorrectness(ask.answer_2).value_or(false);
  if (r1 == r2) return R"({"better": "tie"})";
  return r1 ? R"({"better": "1"})" : R"({"better": "2"})";
}

}  // namespace mec
