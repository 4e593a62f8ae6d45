#pragma once
// Deterministic generated answers: the i-th token of an answer is a word drawn from a fixed
// vocabulary by a stream seeded with the request's content hash, so the same request gets the
// same text, and one token is one word (so usage counts are exact for the emulator).

#include <cstdint>
#include <string>
#include <string_view>

namespace mec {

class TextGenerator {
 public:
  explicit TextGenerator(uint64_t seed) : state_(seed) {}
  // Appends the next token's text (" word", first token without the space) to out.
  void AppendNext(std::string& out);
  // The first token is this word instead of a drawn one (emulate/hidden_quality.h's mark).
  // REQUIRES: called before the first AppendNext; `w` outlives the generator.
  void SetFirstWord(std::string_view w) { first_ = w; }

 private:
  uint64_t state_;
  int64_t index_ = 0;
  std::string_view first_;
};

// The emulator's prompt-token count: what a real BPE tokenizer would make of the text plus the chat
// framing of `messages` (context/token_estimator.h's EstimatePromptTokens, the router's own
// estimate), at least 1. It was one token per 4 bytes, which counted English prose ~1.4x what the
// router estimated (docs/simulator.md, "The simulator and the live gateway").
int64_t EmulatorPromptTokens(std::string_view text, int64_t messages);

}  // namespace mec
