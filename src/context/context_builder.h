#pragma once
// Context agent: parsed request + hints + config defaults -> RequestContext. No I/O, no state of
// its own; the complexity model and the learned output lengths come in from outside.
//
// Precedence for each hint: the request (X-MEC-* header over the body's "mec"), then its use
// case's defaults (X-MEC-Use-Case), then the config's defaults.

#include <functional>
#include <string_view>
#include <variant>

#include "api/error.h"
#include "api/hints.h"
#include "api/request.h"
#include "context/complexity_model.h"
#include "context/request_context.h"
#include "context/tier_quality.h"

namespace mec {

struct ContextDefaults {
  double min_quality = 0.9;                 // routing.default_min_quality
  std::optional<double> deadline_ms;        // none unless configured
  DeviceQualityAssumption device_quality{0.710, 0.764};  // Llama-3.2-1B on MMLU (tier_quality.h)
  size_t prompt_blocks = 0;                 // hash at most this many prompt blocks (0: none; prefix affinity off)
};

class ContextBuilder {
 public:
  // `expected_output(task_class)`: learned answer length, used when the request has no max_tokens.
  ContextBuilder(const ComplexityModel& complexity, ContextDefaults defaults,
                 std::function<double(std::string_view task_class)> expected_output);

  // An ApiError (400) for an unknown use case.
  std::variant<RequestContext, ApiError> Build(const ParsedRequest& req, const Hints& hints) const;

 private:
  const ComplexityModel& complexity_;
  ContextDefaults defaults_;
  std::function<double(std::string_view)> expected_output_;
};

// A coarse task class from the text: "code", "math", "multiple-choice", "summarize" or "chat".
std::string_view ClassifyTask(std::string_view text);

}  // namespace mec
