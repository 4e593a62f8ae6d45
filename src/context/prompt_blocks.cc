#include "context/prompt_blocks.h"

#include <algorithm>

#include "core/rng.h"

namespace mec {

std::vector<uint64_t> PromptBlockHashes(std::string_view text, int64_t input_tokens, size_t max_blocks) {
  const size_t by_tokens = static_cast<size_t>(std::max<int64_t>(0, input_tokens / kPromptBlockTokens));
  const size_t blocks = std::min({text.size() / kPromptBlockBytes, by_tokens, max_blocks});
  std::vector<uint64_t> out;
  out.reserve(blocks);
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t k = 0; k < blocks; ++k) {
    h = Fnv1a64(text.substr(k * kPromptBlockBytes, kPromptBlockBytes), h);  // chained: covers every block before it
    out.push_back(h);
  }
  return out;
}

}  // namespace mec
