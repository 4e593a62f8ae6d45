#pragma once
// A prompt cut into the blocks a serving engine's prefix cache keys on, as chained hashes: block
// k covers the first (k+1) x kPromptBlockTokens tokens, and its hash covers every block before it,
// so two prompts share block k's hash only if they share everything up to its end (vLLM's
// automatic prefix caching hashes its KV blocks the same way). Without a tokenizer a block is 4
// bytes of text per token (the gateway-api-inference-extension prefix scorer's estimate), and a
// partial last block is not a block.
//
// The router's prefix index (cache/prefix_index.h) and the emulator's prefix cache
// (emulate/tier_model.h) both read these, so they agree on what a shared prefix is.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace mec {

// vLLM's default KV block size, in tokens; the inference extension's default block too.
inline constexpr int kPromptBlockTokens = 16;
inline constexpr int kPromptBlockBytes = 4 * kPromptBlockTokens;

// The chained hashes of `text`'s full leading blocks: at most input_tokens / kPromptBlockTokens
// of them, and at most max_blocks.
std::vector<uint64_t> PromptBlockHashes(std::string_view text, int64_t input_tokens, size_t max_blocks = SIZE_MAX);

}  // namespace mec
