#include "context/context_builder.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "context/prompt_blocks.h"
#include "context/token_estimator.h"
#include "context/use_cases.h"

namespace mec {

ContextBuilder::ContextBuilder(const ComplexityModel& complexity, ContextDefaults defaults,
                               std::function<double(std::string_view)> expected_output)
    : complexity_(complexity), defaults_(defaults), expected_output_(std::move(expected_output)) {}

namespace {

// The bytes that may start a cue below, and the digits.
struct CueBytes {
  bool cue[256] = {};
  constexpr CueBytes() {
    for (unsigned char c : std::string_view("`#df}p\nsSThHc$%0123456789")) cue[c] = true;
  }
};
constexpr CueBytes kCue;

}  // namespace

// One pass over the text, looking at the bytes that may start a cue (the same cues and order of
// precedence as twelve searches of the text and a count of its digits, at a quarter of the cost
// for a short prompt; classify_task_test holds those searches and compares).
std::string_view ClassifyTask(std::string_view text) {
  bool option_a = false, option_b = false, summary = false, math_word = false;
  int digits = 0;
  const size_t n = text.size();
  // Every cue has two bytes or more: the second is compared before the call (most letters that
  // may start a cue do not start one).
  auto at = [&](size_t i, std::string_view cue) {
    return n - i >= cue.size() && text[i + 1] == cue[1] && std::memcmp(text.data() + i, cue.data(), cue.size()) == 0;
  };
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (!kCue.cue[c]) continue;
    switch (c) {
      case '`': if (at(i, "```")) return "code"; break;
      case '#': if (at(i, "#include")) return "code"; break;
      case 'd': if (at(i, "def ")) return "code"; break;
      case 'f': if (at(i, "function ")) return "code"; break;
      case '}': if (at(i, "};")) return "code"; break;
      case 'p': if (at(i, "public static")) return "code"; break;
      case '\n':
        if (i + 2 < n && (text[i + 2] == '.' || text[i + 2] == ')')) {
          option_a = option_a || text[i + 1] == 'A';
          option_b = option_b || text[i + 1] == 'B';
        }
        break;
      case 's': summary = summary || at(i, "summarize"); math_word = math_word || at(i, "solve"); break;
      case 'S': summary = summary || at(i, "Summarize"); math_word = math_word || at(i, "Solve"); break;
      case 'T': summary = summary || at(i, "TL;DR"); break;
      case 'h': math_word = math_word || at(i, "how many"); break;
      case 'H': math_word = math_word || at(i, "How many"); break;
      case 'c': math_word = math_word || at(i, "calculate"); break;
      case '$':
      case '%': math_word = true; break;
      default: ++digits;  // '0'..'9'
    }
  }
  if (option_a && option_b) return "multiple-choice";
  if (summary) return "summarize";
  if (digits >= 4 && math_word) return "math";
  return "chat";
}

std::variant<RequestContext, ApiError> ContextBuilder::Build(const ParsedRequest& req, const Hints& hints) const {
  RequestContext c;
  c.endpoint = req.endpoint;
  c.model = req.model;
  c.stream = req.stream;
  c.needs_tools = req.needs_tools;
  c.needs_json_schema = req.needs_json_schema;
  c.needs_image_input = req.needs_image_input;
  c.input_tokens = EstimatePromptTokens(req.text, req.message_count);
  if (defaults_.prompt_blocks > 0) c.prompt_blocks = PromptBlockHashes(req.text, c.input_tokens, defaults_.prompt_blocks);
  c.policy = hints.policy;

  const UseCaseDefaults* uc = nullptr;
  if (!hints.use_case.empty()) {
    uc = FindUseCase(hints.use_case);
    if (!uc) {
      std::string known;
      for (const auto& u : BuiltinUseCases()) known += (known.empty() ? "" : ", ") + u.key;
      return ApiError::BadRequest("Invalid header X-MEC-Use-Case: unknown use case '" + hints.use_case + "' (known: " + known + ")",
                                  "X-MEC-Use-Case", "invalid_hint");
    }
    c.use_case = uc->key;
    c.static_tier = std::string(TierName(uc->static_tier));
  }
  c.task_class = uc ? uc->task_class : std::string(ClassifyTask(req.text));
  c.deadline_ms = hints.deadline_ms ? hints.deadline_ms : uc && uc->deadline_ms ? uc->deadline_ms : defaults_.deadline_ms;
  c.ttft_deadline_ms = hints.ttft_deadline_ms ? hints.ttft_deadline_ms : uc ? uc->ttft_deadline_ms : std::nullopt;
  c.min_quality = hints.min_quality.value_or(uc ? uc->min_quality : defaults_.min_quality);
  c.min_quality_per_request = hints.min_quality_per_request;
  c.privacy = hints.privacy.value_or(uc && uc->privacy ? *uc->privacy : Privacy::kAny);
  if (hints.network) c.network = *hints.network;
  c.device = hints.device;

  if (req.max_tokens) {
    c.output_tokens = static_cast<double>(*req.max_tokens);
    c.output_capped = true;
    // A cap is an upper bound; the typical answer for the class may be shorter.
    const double typical = uc && uc->output_tokens > 0 ? uc->output_tokens : expected_output_ ? expected_output_(c.task_class) : 0;
    if (typical > 0) c.output_tokens = std::min(c.output_tokens, typical);
  } else {
    c.output_tokens = uc && uc->output_tokens > 0 ? uc->output_tokens : expected_output_ ? expected_output_(c.task_class) : 128;
  }
  if (req.endpoint == Endpoint::kEmbeddings) c.output_tokens = 0;

  // Quality per tier: the complexity model scores the last user turn (what is being asked).
  const std::string_view prompt = req.last_user_text.empty() ? std::string_view(req.text) : std::string_view(req.last_user_text);
  const ComplexityEstimate e = complexity_.Estimate(prompt);
  c.weak_as_good = std::clamp(e.edge, 0.0, 1.0);
  c.tier_quality[static_cast<int>(Tier::kCloud)] = 1.0;
  c.tier_quality[static_cast<int>(Tier::kEdge)] = c.weak_as_good;
  c.device_quality_learned = e.device.has_value();
  c.tier_quality[static_cast<int>(Tier::kDevice)] =
      e.device ? std::clamp(*e.device, 0.0, 1.0) : DeviceQualityFromEdge(c.weak_as_good, defaults_.device_quality);
  c.quality_sd = e.sd;
  c.familiarity = e.familiarity;
  c.judged_support = e.judged_support;
  c.complexity_model = complexity_.Name();
  c.joint_success_share = defaults_.device_quality.joint_success_share;
  return c;
}

}  // namespace mec
