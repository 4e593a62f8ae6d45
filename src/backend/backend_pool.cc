#include "backend/backend_pool.h"

#include <algorithm>

namespace mec {

bool Backend::Serves(std::string_view model) const {
  for (const auto& m : options_.models)
    if (m == model) return true;
  for (const auto& m : options_.embedding_models)
    if (m == model) return true;
  return false;
}

BackendPool::BackendPool(const std::vector<BackendOptions>& options) {
  for (size_t i = 0; i < options.size(); ++i) backends_.push_back(std::make_unique<Backend>(static_cast<int>(i), options[i]));
  for (const auto& b : backends_) names_.push_back(b->name());
}

std::vector<std::string> BackendPool::ModelNames() const {
  std::vector<std::string> names;
  auto add = [&](const std::string& m) {
    if (std::find(names.begin(), names.end(), m) == names.end()) names.push_back(m);
  };
  for (const auto& b : backends_) {
    for (const auto& m : b->options().models) add(m);
    for (const auto& m : b->options().embedding_models) add(m);
  }
  return names;
}

}  // namespace mec
