#pragma once
// Which prompt prefixes each backend probably holds in its KV cache (DESIGN.md §3, the cache
// agent's "what is warm where"), learned from where requests were sent: the approximate
// prefix-cache index of the Gateway API inference extension's prefix scorer, which llm-d's
// scheduler uses (docs/engines.md "Prefix affinity"). A request's prompt blocks
// (context/prompt_blocks.h) are recorded for each backend it is sent to; a later request that
// starts with the same blocks probably finds them in that backend's cache, unless the engine has
// evicted them since (the index cannot see that; its capacity per backend should be about the
// engine's KV-cache capacity in blocks so that it forgets at about the same pace).
//
// Per backend an LRU set of block hashes, bounded by capacity_blocks. Blocks are recorded last
// first, so a prompt's leading blocks are its most recent and the tail is evicted first (as vLLM
// evicts), keeping prefixes whole. Match counts leading blocks only: it stops at the first block
// the backend lacks, since a chained hash past a miss cannot be in its cache.
//
// Thread-safety: every method may be called concurrently (one mutex per backend).

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <unordered_map>
#include <vector>

namespace mec {

class PrefixIndex {
 public:
  // The defaults of the inference extension's prefix plugin: 31,250 blocks of 16 tokens per
  // server (an 8B model's free KV memory on an 80 GB GPU), 256 blocks matched at most.
  static constexpr size_t kDefaultCapacityBlocks = 31250;
  static constexpr size_t kDefaultMaxBlocks = 256;

  // REQUIRES: capacity_blocks > 0.
  PrefixIndex(size_t backends, size_t capacity_blocks);

  // How many leading blocks of `blocks` backend b holds (0 for an unknown backend).
  size_t Match(size_t b, std::span<const uint64_t> blocks) const;
  // `blocks` were sent to backend b: they are now its most recent ones.
  void Record(size_t b, std::span<const uint64_t> blocks);
  // Blocks held for backend b.
  size_t Size(size_t b) const;
  size_t backends() const { return shards_.size(); }

 private:
  struct Shard {
    mutable std::mutex mu;
    std::list<uint64_t> lru;  // most recent first
    std::unordered_map<uint64_t, std::list<uint64_t>::iterator> where;
  };
  std::vector<std::unique_ptr<Shard>> shards_;
  size_t capacity_;
};

}  // namespace mec
