// The complexity model file reader (context/learned_complexity_model.h), with the domain prior,
// the second stage and its boosted trees it may carry. Properties: a model it accepts answers a
// probability for a prompt, and its own Serialize() reads back to the same text.

#include <cmath>
#include <string>
#include <string_view>

#include "context/learned_complexity_model.h"
#include "fuzz/fuzz_target.h"

MEC_FUZZ_TARGET(learned_model) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = mec::LearnedComplexityModel::Parse(text);
  if (!m.ok()) return 0;
  const double p = (*m)->WeakAsGoodProbability("Solve for x: 3x + 4 = 19. Explain each step.");
  MEC_FUZZ_CHECK(std::isnan(p) || (p >= 0 && p <= 1));
  const std::string saved = (*m)->Serialize();
  auto again = mec::LearnedComplexityModel::Parse(saved);
  if (!again.ok()) std::fprintf(stderr, "%s\n", again.status().message().c_str());
  MEC_FUZZ_CHECK(again.ok());
  MEC_FUZZ_CHECK((*again)->Serialize() == saved);
  return 0;
}
