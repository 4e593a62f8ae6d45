#pragma once
// The shipped complexity model, evaluated once per distinct prompt (the issue allows context
// analysis to be computed once per prompt and reused). Keys are the prompt's text; the context
// builder still runs in full for every request, only this call is remembered.
// Thread-safety: none (one simulation thread).

#include <string>
#include <string_view>
#include <unordered_map>

#include "context/complexity_model.h"

namespace mec::sim {

class CachedComplexityModel final : public ComplexityModel {
 public:
  explicit CachedComplexityModel(const ComplexityModel& inner) : inner_(inner) {}
  double WeakAsGoodProbability(std::string_view prompt) const override {
    // Fast path: the same prompt buffer asked again (the simulator keeps one string per prompt);
    // the entry is only trusted after comparing the text, so a reused address cannot mislead it.
    auto by_ptr = by_address_.find(prompt.data());
    if (by_ptr != by_address_.end() && by_ptr->second->first == prompt) return by_ptr->second->second;
    auto it = cache_.find(prompt);
    if (it == cache_.end()) it = cache_.emplace(std::string(prompt), inner_.WeakAsGoodProbability(prompt)).first;
    by_address_[prompt.data()] = it;
    return it->second;
  }
  std::string_view Name() const override { return inner_.Name(); }
  // Fixes the answer for `prompt` (the data-absent fallback's synthetic prompts).
  void Seed(std::string prompt, double p) { cache_.insert_or_assign(std::move(prompt), p); }
  size_t size() const { return cache_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  const ComplexityModel& inner_;
  mutable std::unordered_map<std::string, double, Hash, std::equal_to<>> cache_;
  // Node iterators of cache_ stay valid across insertions (unordered_map never moves nodes).
  mutable std::unordered_map<const char*, std::unordered_map<std::string, double, Hash, std::equal_to<>>::iterator> by_address_;
};

}  // namespace mec::sim
