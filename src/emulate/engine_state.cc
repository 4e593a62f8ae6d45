#include "emulate/engine_state.h"

#include <algorithm>

#include "core/rng.h"

namespace mec {

std::vector<uint64_t> PrefixBlockHashes(std::string_view text, int64_t input_tokens) {
  constexpr size_t kBlockBytes = 4 * kPrefixBlockTokens;
  const size_t blocks = std::min<size_t>(text.size() / kBlockBytes, static_cast<size_t>(std::max<int64_t>(0, input_tokens / kPrefixBlockTokens)));
  std::vector<uint64_t> out;
  out.reserve(blocks);
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t k = 0; k < blocks; ++k) {
    h = Fnv1a64(text.substr(k * kBlockBytes, kBlockBytes), h);  // chained: covers every block before it
    out.push_back(h);
  }
  return out;
}

}  // namespace mec
