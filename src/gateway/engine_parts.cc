#include "gateway/engine_parts.h"

namespace mec {

EngineParts::EngineParts(const std::vector<BackendOptions>& backends, const Clock& clock, const ComplexityModel& complexity,
                         ContextDefaults defaults, int max_attempts, QualityBudgetOptions quality)
    : pool(backends),
      monitor(pool, clock.Now()),
      context(complexity, defaults, [this](std::string_view task) { return output_tokens.Expected(task); }),
      quality_budget(quality),
      engine{pool, monitor, output_tokens, clock, names, max_attempts} {
  for (const auto& b : pool.all()) names.push_back(b->name());
  engine.quality_budget = &quality_budget;
}

void EngineParts::EnableFeedback() {
  if (feedback) return;
  feedback = std::make_unique<QualityFeedback>();
  adjust = [this](int b, const std::string& task, double q) { return feedback->Adjusted(pool.at(b).name(), task, q); };
  engine.adjust_quality = &adjust;
  engine.quality_feedback = feedback.get();
}

void EngineParts::EnablePrefixAffinity(size_t capacity_blocks) {
  if (prefix) return;
  prefix = std::make_unique<PrefixIndex>(pool.size(), capacity_blocks);
  engine.prefix_index = prefix.get();
}

}  // namespace mec
