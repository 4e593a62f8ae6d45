#include "learn/judge_protocol.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <bitset>

#include "core/json_writer.h"

namespace mec {
namespace {

// The fixed judge prompt (kJudgePromptVersion); change the version when changing the text.
constexpr std::string_view kSystemPrompt =
    "You are an impartial judge. Compare two answers to the user's question and decide which one is "
    "better: correctness matters most, then completeness and clarity. Do not favour an answer for its "
    "position or its length. Reply with strict JSON only, no other text: {\"better\": \"1\"} if answer 1 "
    "is better, {\"better\": \"2\"} if answer 2 is better, or {\"better\": \"tie\"} if both are equally "
    "good (both correct, or both equally wrong).";
constexpr std::string_view kUserQuestionOpen = "<question>\n";
constexpr std::string_view kUserAnswer1Open = "\n</question>\n\n<answer_1>\n";
constexpr std::string_view kUserAnswer2Open = "\n</answer_1>\n\n<answer_2>\n";
constexpr std::string_view kUserClose =
    "\n</answer_2>\n\nWhich answer is better? Reply with strict JSON only: {\"better\": \"1\"}, "
    "{\"better\": \"2\"} or {\"better\": \"tie\"}.";
constexpr std::string_view kTruncatedMark = "\n[truncated]";

constexpr size_t kShortReferenceBytes = 200;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsSpace(char c) { return IsBlank(c) || c == '\n' || c == '\r'; }
bool IsChoiceLetter(char c) { return c >= 'A' && c <= 'J'; }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (Lower(s[i]) != prefix[i]) return false;
  }
  return true;
}

// Skips whitespace, markdown emphasis and code marks.
size_t SkipDecoration(std::string_view s, size_t i) {
  while (i < s.size() && (IsSpace(s[i]) || s[i] == '*' || s[i] == '_' || s[i] == '`')) ++i;
  return i;
}

// The option letters a prompt lists: lines "A. ...", "A) ..." or "(A) ...".
std::bitset<10> ListedLetters(std::string_view prompt) {
  std::bitset<10> letters;
  size_t i = 0;
  while (i < prompt.size()) {
    size_t end = prompt.find('\n', i);
    if (end == std::string_view::npos) end = prompt.size();
    std::string_view line = prompt.substr(i, end - i);
    i = end + 1;
    while (!line.empty() && IsBlank(line.front())) line.remove_prefix(1);
    const bool paren = !line.empty() && line.front() == '(';
    if (paren) line.remove_prefix(1);
    if (line.size() < 2 || !IsChoiceLetter(line[0])) continue;
    if (paren ? line[1] != ')' : (line[1] != '.' && line[1] != ')')) continue;
    if (line.size() > 2 && !IsSpace(line[2])) continue;  // "A.I." or "B)x" is not an option
    letters.set(line[0] - 'A');
  }
  return letters;
}

// The letter standing alone at s[i]: "(B)", or "B" followed by the end, punctuation, or (after an
// "answer is" phrase, or when nothing else follows on its line) whitespace.
std::optional<char> LetterAt(std::string_view s, size_t i, bool after_phrase) {
  if (i + 2 < s.size() && s[i] == '(' && IsChoiceLetter(s[i + 1]) && s[i + 2] == ')') return s[i + 1];
  if (i >= s.size() || !IsChoiceLetter(s[i])) return std::nullopt;
  const char letter = s[i];
  if (i + 1 == s.size()) return letter;
  const char next = s[i + 1];
  if (next == '.' || next == ')' || next == ':' || next == ',' || next == '*' || next == '`' || next == '\n' ||
      next == '\r') {
    return letter;
  }
  if (!IsBlank(next)) return std::nullopt;
  if (after_phrase) return letter;
  size_t j = i + 1;
  while (j < s.size() && IsBlank(s[j])) ++j;
  if (j == s.size() || s[j] == '\n' || s[j] == '\r' || s[j] == '-') return letter;  // "B", "B - Paris"
  return std::nullopt;  // "A good answer...", "I think..."
}

// After an "answer is" phrase: skips decoration, colons and the word "option".
size_t SkipAfterPhrase(std::string_view s, size_t i) {
  for (;;) {
    const size_t before = i;
    i = SkipDecoration(s, i);
    while (i < s.size() && s[i] == ':') ++i;
    if (StartsWithIgnoreCase(s.substr(i), "option ")) i += 7;
    if (i == before) return i;
  }
}

struct NumberSpan {
  size_t end = 0;          // one past the last byte of the number in the text
  std::string normalised;  // no commas, no leading zeros, no trailing fractional zeros
};

// The first number at or after `from`.
std::optional<NumberSpan> NextNumber(std::string_view s, size_t from) {
  size_t i = from;
  while (i < s.size() && !IsDigit(s[i])) ++i;
  if (i == s.size()) return std::nullopt;
  const bool negative = i > 0 && s[i - 1] == '-' && (i < 2 || !IsAlnum(s[i - 2]));
  std::string integer;
  size_t j = i;
  while (j < s.size() && IsDigit(s[j])) integer.push_back(s[j++]);
  if (integer.size() <= 3) {  // thousands groups: ",ddd" not followed by another digit
    while (j + 3 < s.size() && s[j] == ',' && IsDigit(s[j + 1]) && IsDigit(s[j + 2]) && IsDigit(s[j + 3]) &&
           (j + 4 == s.size() || !IsDigit(s[j + 4]))) {
      integer.append(s.substr(j + 1, 3));
      j += 4;
    }
  }
  std::string fraction;
  if (j + 1 < s.size() && s[j] == '.' && IsDigit(s[j + 1])) {
    ++j;
    while (j < s.size() && IsDigit(s[j])) fraction.push_back(s[j++]);
  }
  integer.erase(0, std::min(integer.find_first_not_of('0'), integer.size() - 1));
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  NumberSpan n{j, {}};
  if (negative && (integer != "0" || !fraction.empty())) n.normalised = "-";
  n.normalised += integer;
  if (!fraction.empty()) n.normalised += "." + fraction;
  return n;
}

std::optional<JudgeOutcome> OutcomeOf(std::string_view value) {
  if (value == "1") return JudgeOutcome::kFirst;
  if (value == "2") return JudgeOutcome::kSecond;
  if (value == "tie") return JudgeOutcome::kTie;
  return std::nullopt;
}

// The strict verdict object in a message content, optionally inside a ```json fenced block.
Result<JudgeOutcome> ParseVerdictContent(std::string_view content) {
  std::string_view text = Trim(content);
  if (text.substr(0, 3) == "```") {
    text.remove_prefix(3);
    if (StartsWithIgnoreCase(text, "json")) text.remove_prefix(4);
    if (text.size() < 3 || text.substr(text.size() - 3) != "```") {
      return Status::InvalidArgument("judge reply: unterminated or unknown fenced block");
    }
    text = Trim(text.substr(0, text.size() - 3));
  }
  if (text.empty()) return Status::InvalidArgument("judge reply: empty content");
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(text.data(), text.size()).get(object)) {
    return Status::InvalidArgument("judge reply: content is not a JSON object");
  }
  std::string_view value;
  if (object.size() != 1 || object["better"].get(value)) {
    return Status::InvalidArgument("judge reply: expected exactly the string key \"better\"");
  }
  auto outcome = OutcomeOf(value);
  if (!outcome) return Status::InvalidArgument("judge reply: \"better\" must be \"1\", \"2\" or \"tie\"");
  return *outcome;
}

void AppendTruncated(std::string& out, std::string_view text) {
  const std::string_view kept = TruncateUtf8(text, kJudgeMaxTextBytes);
  out += kept;
  if (kept.size() < text.size()) out += kTruncatedMark;
}

JudgedVerdict FromOneOrder(bool candidate_better, bool tie) {
  if (candidate_better) return {1.0, 1.0};
  if (tie) return {1.0, 0.5};
  return {0.0, 0.0};
}

}  // namespace

bool IsMultipleChoicePrompt(std::string_view prompt) {
  const auto letters = ListedLetters(prompt);
  return letters.count() >= 2 && letters.test(0);
}

std::optional<char> ExtractChoiceLetter(std::string_view prompt, std::string_view answer) {
  const auto letters = ListedLetters(prompt);
  if (letters.count() < 2 || !letters.test(0)) return std::nullopt;
  auto listed = [&](std::optional<char> c) { return c && letters.test(*c - 'A') ? c : std::nullopt; };

  // At the start, possibly after a phrase such as "The answer is".
  static constexpr std::array<std::string_view, 8> kLeadPhrases = {
      "the correct answer is", "the answer is", "correct answer is", "correct answer",
      "final answer is",       "final answer",  "answer is",         "answer"};
  size_t i = SkipDecoration(answer, 0);
  for (std::string_view phrase : kLeadPhrases) {
    if (StartsWithIgnoreCase(answer.substr(i), phrase)) {
      if (auto c = listed(LetterAt(answer, SkipAfterPhrase(answer, i + phrase.size()), true))) return c;
      break;
    }
  }
  if (auto c = listed(LetterAt(answer, i, false))) return c;

  // Otherwise after the last "answer is" / "answer:" (a conclusion after reasoning).
  std::string lower(answer);
  std::transform(lower.begin(), lower.end(), lower.begin(), Lower);
  size_t best = std::string::npos;
  for (std::string_view phrase : {std::string_view("answer is"), std::string_view("answer:")}) {
    const size_t at = lower.rfind(phrase);
    if (at != std::string::npos && (best == std::string::npos || at + phrase.size() > best)) best = at + phrase.size();
  }
  if (best == std::string::npos) return std::nullopt;
  return listed(LetterAt(answer, SkipAfterPhrase(answer, best), true));
}

std::optional<std::string> ExtractFinalNumber(std::string_view text) {
  const size_t hashes = text.rfind("####");
  if (hashes != std::string_view::npos) {
    auto n = NextNumber(text, hashes + 4);
    if (!n) return std::nullopt;
    return std::move(n->normalised);
  }
  std::optional<std::string> last;
  for (auto n = NextNumber(text, 0); n; n = NextNumber(text, n->end)) last = std::move(n->normalised);
  return last;
}

std::optional<double> ExactMatchVerdict(std::string_view prompt, std::string_view candidate_answer,
                                        std::string_view reference_answer) {
  if (IsMultipleChoicePrompt(prompt)) {
    const auto candidate = ExtractChoiceLetter(prompt, candidate_answer);
    const auto reference = ExtractChoiceLetter(prompt, reference_answer);
    if (!candidate || !reference) return std::nullopt;
    return *candidate == *reference ? 1.0 : 0.0;
  }
  if (reference_answer.size() > kShortReferenceBytes && reference_answer.find("####") == std::string_view::npos) {
    return std::nullopt;
  }
  const auto candidate = ExtractFinalNumber(candidate_answer);
  const auto reference = ExtractFinalNumber(reference_answer);
  if (!candidate || !reference) return std::nullopt;
  return *candidate == *reference ? 1.0 : 0.0;
}

std::string_view TruncateUtf8(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut);
}

std::string JudgeRequestBody(std::string_view judge_model, std::string_view question, std::string_view answer_1,
                             std::string_view answer_2) {
  std::string user;
  user += kUserQuestionOpen;
  AppendTruncated(user, question);
  user += kUserAnswer1Open;
  AppendTruncated(user, answer_1);
  user += kUserAnswer2Open;
  AppendTruncated(user, answer_2);
  user += kUserClose;

  std::string body;
  JsonWriter w(body);
  w.BeginObject().Field("model", judge_model);
  w.Key("messages").BeginArray();
  w.BeginObject().Field("role", "system").Field("content", kSystemPrompt).EndObject();
  w.BeginObject().Field("role", "user").Field("content", std::string_view(user)).EndObject();
  w.EndArray();
  w.Field("stream", false).Field("temperature", 0).Field("max_tokens", 20);
  w.Key("response_format").BeginObject().Field("type", "json_object").EndObject();
  w.EndObject();
  return body;
}

Result<JudgeReply> ParseJudgeReply(std::string_view chat_completion_response_body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(chat_completion_response_body.data(), chat_completion_response_body.size()).get(doc)) {
    return Status::InvalidArgument("judge reply: response is not JSON");
  }
  std::string_view content;
  if (doc["choices"].at(0)["message"]["content"].get(content)) {
    return Status::InvalidArgument("judge reply: no string choices[0].message.content");
  }
  auto outcome = ParseVerdictContent(content);
  if (!outcome.ok()) return outcome.status();
  JudgeReply reply;
  reply.outcome = *outcome;
  int64_t tokens = 0;
  if (!doc["usage"]["prompt_tokens"].get(tokens)) reply.prompt_tokens = tokens;
  if (!doc["usage"]["completion_tokens"].get(tokens)) reply.completion_tokens = tokens;
  return reply;
}

JudgedVerdict CombineOrders(JudgeOutcome candidate_first, JudgeOutcome reference_first) {
  const JudgedVerdict a = FromOneOrder(candidate_first == JudgeOutcome::kFirst, candidate_first == JudgeOutcome::kTie);
  const JudgedVerdict b =
      FromOneOrder(reference_first == JudgeOutcome::kSecond, reference_first == JudgeOutcome::kTie);
  return {(a.as_good + b.as_good) / 2, (a.gain + b.gain) / 2};
}

JudgedVerdict VerdictFromExactMatch(double match) {
  // Disagreeing with the reference counts as the reference being right; agreeing counts as equal.
  match = std::clamp(match, 0.0, 1.0);
  return {match, 0.5 * match};
}

Result<AnswerText> ExtractAnswerText(std::string_view whole_body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(whole_body.data(), whole_body.size()).get(doc)) return Status::InvalidArgument("answer: not JSON");
  std::string_view text;
  simdjson::dom::element choice;
  if (doc["choices"].at(0).get(choice)) return Status::InvalidArgument("answer: no choices[0]");
  if (choice["message"]["content"].get(text) && choice["text"].get(text))
    return Status::InvalidArgument("answer: no text in choices[0] (message.content or text)");
  AnswerText a;
  a.text = std::string(text);
  int64_t tokens = 0;
  if (!doc["usage"]["prompt_tokens"].get(tokens)) a.prompt_tokens = tokens;
  if (!doc["usage"]["completion_tokens"].get(tokens)) a.completion_tokens = tokens;
  return a;
}

}  // namespace mec
