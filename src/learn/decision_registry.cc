#include "learn/decision_registry.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <functional>
#include <new>
#include <utility>

namespace mec {

DecisionRegistry::DecisionRegistry(size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {
  const size_t n = std::bit_ceil(2 * capacity_);
  static_assert(kEmpty == 0, "calloc's zeros are empty entries");
  index_.reset(static_cast<uint64_t*>(std::calloc(n, sizeof(uint64_t))));
  if (!index_) throw std::bad_alloc();
  mask_ = n - 1;
  slots_.reserve(capacity_);  // reserved, not touched: memory comes as decisions do
}

// The gateway's ids, "dec-" + 8 hex digits of salt + 8 of a counter (net/proxy_call.cc,
// NewDecisionId), hash to their counter: consecutive decisions take consecutive index entries,
// and the one evicted sits a fixed distance behind, so recording walks memory in order instead of
// missing the cache twice. Any other id hashes as a string.
uint32_t DecisionRegistry::HashOf(std::string_view id) {
  if (id.size() == 20 && id.substr(0, 4) == "dec-") {
    uint32_t counter = 0;
    const auto r = std::from_chars(id.data() + 12, id.data() + 20, counter, 16);
    if (r.ec == std::errc() && r.ptr == id.data() + 20) return counter;
  }
  return static_cast<uint32_t>(std::hash<std::string_view>{}(id) >> 32);
}

size_t DecisionRegistry::Find(std::string_view id, uint32_t hash) const {
  for (size_t pos = hash & mask_;; pos = (pos + 1) & mask_) {
    const uint64_t e = index_[pos];
    if (e == kEmpty) return pos;
    if (static_cast<uint32_t>(e >> 32) == hash && slots_[static_cast<uint32_t>(e) - 1].id == id) return pos;
  }
}

void DecisionRegistry::Unindex(size_t pos) {
  // Backward-shift deletion: an entry further along the run moves into the hole unless its home
  // lies (cyclically) after the hole, so that every probe still finds it.
  // No entry sits further than max_probe_ from its home, so the walk ends once that far from the
  // hole (the gateway's ids fill one long run, each at its home: without this bound every
  // eviction walked all of it).
  index_[pos] = kEmpty;
  for (size_t hole = pos, cur = (pos + 1) & mask_; index_[cur] != kEmpty && ((cur - hole) & mask_) <= max_probe_;
       cur = (cur + 1) & mask_) {
    const size_t home = (index_[cur] >> 32) & mask_;
    if (((cur - home) & mask_) >= ((cur - hole) & mask_)) {
      index_[hole] = index_[cur];
      index_[cur] = kEmpty;
      hole = cur;
    }
  }
}

void DecisionRegistry::Assign(DecisionRecord& to, DecisionRecord&& from) {
  to.backend.assign(from.backend);
  to.tier = from.tier;
  to.task_class.assign(from.task_class);
  to.predicted_quality = from.predicted_quality;
  to.time = from.time;
  if (from.prompt.size() > to.prompt.capacity()) to.prompt = std::move(from.prompt);
  else to.prompt.assign(from.prompt);
}

void DecisionRegistry::Record(std::string_view decision_id, DecisionRecord record) {
  const uint32_t hash = HashOf(decision_id);
  std::lock_guard<std::mutex> lock(mu_);
  size_t pos = Find(decision_id, hash);
  if (index_[pos] != kEmpty) {
    Assign(slots_[static_cast<uint32_t>(index_[pos]) - 1].record, std::move(record));
    return;
  }
  size_t slot;
  if (slots_.size() < capacity_) {
    slot = slots_.size();
    slots_.emplace_back();
  } else {
    slot = next_;
    next_ = next_ + 1 == capacity_ ? 0 : next_ + 1;
    const Slot& old = slots_[slot];
    Unindex(Find(old.id, old.hash));
    pos = Find(decision_id, hash);  // the shift may have moved the run
  }
  Slot& s = slots_[slot];
  s.id.assign(decision_id);
  s.hash = hash;
  Assign(s.record, std::move(record));
  index_[pos] = (uint64_t{hash} << 32) | static_cast<uint32_t>(slot + 1);
  max_probe_ = std::max(max_probe_, (pos - hash) & mask_);
}

std::optional<DecisionRecord> DecisionRegistry::Lookup(std::string_view decision_id) const {
  const uint32_t hash = HashOf(decision_id);
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t e = index_[Find(decision_id, hash)];
  if (e == kEmpty) return std::nullopt;
  return slots_[static_cast<uint32_t>(e) - 1].record;
}

size_t DecisionRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return slots_.size();
}

}  // namespace mec
