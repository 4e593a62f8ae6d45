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

 private:
  uint64_t state_;
  int64_t index_ = 0;
};

// The emulator's prompt-token count: one token per ~4 bytes of text, at least 1.
int64_t EmulatorPromptTokens(std::string_view text);

}  // namespace mec
