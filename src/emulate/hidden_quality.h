#pragma once
// What the emulator pretends about answer quality, so that the learning loop (docs/learning.md)
// has something real to learn in the embedded demo. EMULATION, not a model of any real system:
//
// - Every prompt has a hidden difficulty d in [0, 1] (HiddenDifficulty): short chit-chat and
//   one-line lookups are easy, requests to prove, derive or analyse are hard, longer prompts are
//   harder, plus a per-prompt hash noise. The words that move d are listed in the .cc.
// - An emulated tier with `quality` q answers a prompt correctly iff d < q (builtin profiles:
//   device 0.6, edge 0.8, cloud 0.95; ASSUMPTIONS, in the order of the tiers' quality). A profile
//   with quality < 0 (zero, custom files without it) marks nothing.
// - The answer's first word says which: a right answer starts with one of kRightWords, a wrong one
//   with one of kWrongWords (the rest of the answer is the usual generated words, so token counts
//   are unchanged).
// - An emulated backend asked the judge prompt of learn/judge_protocol.h answers the strict JSON
//   verdict from those first words: the right answer is better, two right or two wrong are a tie,
//   an unmarked answer counts as wrong.
//
// So the emulated edge is as good as the cloud exactly when not (0.8 <= d < 0.95), which depends
// on the prompt's words: a learner can find that greetings are easy and proofs hard.
//
// Thread-safety: free functions without shared state.

#include <optional>
#include <string>
#include <string_view>

namespace mec {

double HiddenDifficulty(std::string_view prompt);
// The first word of an emulated answer: right or wrong, drawn by `seed`.
std::string_view MarkWord(bool right, uint64_t seed);
// Right (true), wrong (false) or unmarked (nullopt), from an answer's first word.
std::optional<bool> MarkedCorrectness(std::string_view answer);

// The judge prompt's parts, when `user_text` is one (<question>, <answer_1>, <answer_2> tags).
struct JudgeAsk {
  std::string question, answer_1, answer_2;
};
std::optional<JudgeAsk> ParseJudgeAsk(std::string_view system_and_user_text);
// The emulated judge's reply content: {"better": "1"|"2"|"tie"}.
std::string EmulatedVerdict(const JudgeAsk& ask);

}  // namespace mec
