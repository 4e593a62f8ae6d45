#pragma once
// The use cases of the original design (DESIGN.md §5) with their default hints. The config may
// override any of them or add its own (routing.use_cases).
//
// Deadlines, token sizes and minimum qualities are those of the `mixed` scenario fixed in the
// simulator issue; the tier is the original design's table, followed by the `static` policy.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/hints.h"
#include "config/options.h"

namespace mec {

struct UseCaseDefaults {
  std::string key;
  Tier static_tier = Tier::kCloud;
  std::optional<double> deadline_ms;
  std::optional<double> ttft_deadline_ms;
  double min_quality = 0.9;
  double output_tokens = 0;       // typical answer length (0: unknown)
  std::string task_class;         // for learning
  std::optional<Privacy> privacy;
};

const std::vector<UseCaseDefaults>& BuiltinUseCases();
const UseCaseDefaults* FindUseCase(std::string_view key);

}  // namespace mec
