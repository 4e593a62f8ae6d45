#pragma once
// The judge of learning on live traffic: the router sometimes also asks the strongest tier (the
// reference) for an answer and compares the served tier's answer (the candidate) with it. Two ways
// to compare, both pure functions with no I/O:
//
// 1. Exact match, when the answer is checkable:
//    - multiple choice: the prompt has option lines ("A. ...", "B) ...", "(C) ...": at least two
//      distinct letters A-J, one of them A). The choice is a letter the prompt lists, standing
//      alone at the start of the answer ("B", "B.", "(B)", "**B**", "Answer: B", "The answer is B")
//      or else after the last "answer is" / "answer:" in it (chain-of-thought answers).
//      Only this rule applies to a multiple-choice prompt.
//    - final number: the number after the last "####" (GSM8K style) if the text has one, else the
//      last number in the text. Commas as thousands separators ("1,234"), a leading minus and
//      decimals are allowed; the result is normalised (no commas, no leading zeros, no trailing
//      zeros after the point: "1,200.50" -> "1200.5", "42.0" -> "42"). This rule applies only when
//      the reference answer is short (<= 200 bytes) or contains "####": in long free-form prose
//      the last number says little about correctness.
// 2. An LLM judge, asked twice with the two answers in both orders to cancel position bias. The
//    prompt is fixed and versioned (kJudgePromptVersion = "judge-v1"):
//      system: "You are an impartial judge. Compare two answers to the user's question and decide
//               which one is better: correctness matters most, then completeness and clarity. Do
//               not favour an answer for its position or its length. Reply with strict JSON only,
//               no other text: {"better": "1"} if answer 1 is better, {"better": "2"} if answer 2
//               is better, or {"better": "tie"} if both are equally good (both correct, or both
//               equally wrong)."
//      user:   "<question>\n{question}\n</question>\n\n<answer_1>\n{answer 1}\n</answer_1>\n\n
//               <answer_2>\n{answer 2}\n</answer_2>\n\nWhich answer is better? Reply with strict
//               JSON only: {"better": "1"}, {"better": "2"} or {"better": "tie"}."
//    The reply must be exactly that object (whitespace around it, or a ```json fenced block around
//    it, is accepted); anything else is an error, never a guess.
//
// Both ways end in a JudgedVerdict: as_good estimates "the candidate is as good as the reference"
// (the quality of DESIGN.md §2), gain estimates "the candidate is better" with a tie counted half.
//
// Thread-safety: free functions without shared state.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace mec {

inline constexpr std::string_view kJudgePromptVersion = "judge-v1";
// The question and each answer are cut to this many bytes (on a UTF-8 boundary) in the judge prompt.
inline constexpr size_t kJudgeMaxTextBytes = 8000;

// ---- Exact match ----

// True when the prompt lists multiple-choice options (see above).
bool IsMultipleChoicePrompt(std::string_view prompt);
// The option letter chosen by `answer`, restricted to the letters `prompt` lists; nullopt when
// the prompt is not multiple choice or the answer names no listed letter.
std::optional<char> ExtractChoiceLetter(std::string_view prompt, std::string_view answer);
// The final number of `text`, normalised; nullopt when there is none (or nothing after "####").
std::optional<std::string> ExtractFinalNumber(std::string_view text);

// 1.0 when both answers give the same checkable answer, 0.0 when both give different ones,
// nullopt when not checkable: a side has no extractable answer, or the number rule does not apply.
std::optional<double> ExactMatchVerdict(std::string_view prompt, std::string_view candidate_answer,
                                        std::string_view reference_answer);

// ---- LLM judge ----

// The longest prefix of `s` of at most `max_bytes` bytes that does not split a UTF-8 sequence.
std::string_view TruncateUtf8(std::string_view s, size_t max_bytes);

// An OpenAI chat-completions request body (non-streaming, temperature 0, max_tokens 20,
// response_format json_object) asking `judge_model` which of the two answers is better. Texts
// longer than kJudgeMaxTextBytes are truncated and marked "[truncated]".
// REQUIRES: the texts are valid UTF-8 (invalid bytes are passed through unchanged).
std::string JudgeRequestBody(std::string_view judge_model, std::string_view question, std::string_view answer_1,
                             std::string_view answer_2);

enum class JudgeOutcome { kFirst, kSecond, kTie };

struct JudgeReply {
  JudgeOutcome outcome = JudgeOutcome::kTie;
  std::optional<int64_t> prompt_tokens;      // usage.prompt_tokens, when the response has it
  std::optional<int64_t> completion_tokens;  // usage.completion_tokens, when the response has it
};

// Parses a whole chat-completion response body: choices[0].message.content must hold the strict
// verdict object. InvalidArgument (naming what is wrong) for malformed JSON, a missing content,
// prose, extra keys or any other value.
Result<JudgeReply> ParseJudgeReply(std::string_view chat_completion_response_body);

// ---- Verdicts ----

struct JudgedVerdict {
  double as_good = 0;  // in [0,1]: the candidate is as good as the reference
  double gain = 0;     // in [0,1]: the candidate is better (1), equal (0.5), worse (0)
};

// The average of the two orders; per order: candidate better => {1, 1}, tie => {1, 0.5},
// reference better => {0, 0}. `candidate_first` is the outcome with (candidate, reference) as
// answers (1, 2); `reference_first` the outcome with them swapped.
JudgedVerdict CombineOrders(JudgeOutcome candidate_first, JudgeOutcome reference_first);

// From ExactMatchVerdict: match 1 => {1, 0.5} (equal), 0 => {0, 0}. A disagreement with the
// reference counts as the reference being right (it is the strongest tier); values in between
// interpolate linearly. REQUIRES: 0 <= match <= 1.
JudgedVerdict VerdictFromExactMatch(double match);

// ---- Answers ----

// The text of a whole chat completion (choices[0].message.content) or completion (choices[0].text)
// body, with its usage when present; an error when there is no such text (tool calls, refusals).
struct AnswerText {
  std::string text;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};
Result<AnswerText> ExtractAnswerText(std::string_view whole_body);

}  // namespace mec
