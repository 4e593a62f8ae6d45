#pragma once
// The set of configured backends, in config order. Constant membership after construction.

#include <memory>
#include <string_view>
#include <vector>

#include "backend/backend.h"

namespace mec {

class BackendPool {
 public:
  explicit BackendPool(const std::vector<BackendOptions>& options);

  size_t size() const { return backends_.size(); }
  Backend& at(size_t i) { return *backends_[i]; }
  const Backend& at(size_t i) const { return *backends_[i]; }
  const std::vector<std::unique_ptr<Backend>>& all() const { return backends_; }
  // Every backend's name, in pool order (views of the constant options).
  const std::vector<std::string_view>& names() const { return names_; }
  // Every distinct model name served, for GET /v1/models, in config order.
  std::vector<std::string> ModelNames() const;

 private:
  std::vector<std::unique_ptr<Backend>> backends_;
  std::vector<std::string_view> names_;
};

}  // namespace mec
