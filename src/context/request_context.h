#pragma once
// Everything known about one request before routing (DESIGN.md §2 "request context"): built once
// by ContextBuilder from the parsed request, its hints and the config's defaults.

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "api/hints.h"
#include "api/request.h"
#include "config/options.h"

namespace mec {

struct RequestContext {
  Endpoint endpoint = Endpoint::kChatCompletions;
  std::string model;                  // as asked: auto, a tier, or a concrete model
  int64_t input_tokens = 0;           // estimated
  double output_tokens = 0;           // max_tokens if given, else learned per task class
  bool output_capped = false;         // output_tokens came from max_tokens
  std::string task_class;             // e.g. "chat", "code", "math", "qa", or the use case's
  std::string use_case;               // X-MEC-Use-Case key, or empty
  std::optional<double> deadline_ms;  // end to end
  std::optional<double> ttft_deadline_ms;
  double min_quality = 0.9;           // DESIGN.md §2 scale
  std::optional<bool> min_quality_per_request;  // X-MEC-Min-Quality's "per=": request (true), class (false); unset: the config's
  Privacy privacy = Privacy::kAny;
  uint8_t key_tiers = 0x7;            // bit (1 << Tier): the tiers the caller's API key may use (docs/security.md)
  NetworkView network;                // what the client says about its links (kUnknown if nothing)
  std::optional<DeviceState> device;
  bool needs_tools = false, needs_json_schema = false, needs_image_input = false;
  bool stream = false;
  // Expected quality of each tier's answer for this prompt (device, edge, cloud).
  std::array<double, kTierCount> tier_quality{1, 1, 1};
  double weak_as_good = 1;            // the complexity model's raw output (edge-class vs strongest)
  double joint_success_share = 0.764; // k of context/tier_quality.h, for per-backend quality ratios
  // The device quality was learned from judged device samples (not derived from the edge's):
  // device backends then take it as it is, without their quality_ratio.
  bool device_quality_learned = false;
  // How sure the complexity model is (ComplexityEstimate): sd of weak_as_good (-1 unknown), the
  // share of the prompt's words it knows (-1 unknown), judged samples like it; and its name.
  double quality_sd = -1;
  double familiarity = -1;
  double judged_support = 0;
  std::string_view complexity_model;
  std::string policy;                 // requested policy, or empty for the config's
  std::string static_tier;            // the use case's tier in the original design's table, if any
  // The prompt's chained block hashes (context/prompt_blocks.h), for prefix affinity
  // (cache/prefix_index.h); empty when it is off or the prompt is shorter than a block. The
  // simulator fills them from a trace's own block ids, of prompt_block_tokens each.
  std::vector<uint64_t> prompt_blocks;
  int prompt_block_tokens = 16;

  double quality(Tier t) const { return tier_quality[static_cast<int>(t)]; }
  // model == "auto" (a 4-byte compare, no call: routing asks it of every candidate).
  bool auto_model() const { return model.size() == 4 && std::memcmp(model.data(), "auto", 4) == 0; }
};

}  // namespace mec
