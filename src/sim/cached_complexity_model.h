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
    auto it = cache_.find(prompt);
    if (it != cache_.end()) return it->second;
    const double p = inner_.WeakAsGoodProbability(prompt);
    cache_.emplace(std::string(prompt), p);
    return p;
  }
  std::string_view Name() const override { return inner_.Name(); }
  // Fixes the answer for `prompt` (the data-absent fallback's synthetic prompts).
  void Seed(std::string prompt, double p) { cache_[std::move(prompt)] = p; }
  size_t size() const { return cache_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  const ComplexityModel& inner_;
  mutable std::unordered_map<std::string, double, Hash, std::equal_to<>> cache_;
};

}  // namespace mec::sim
