#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include "emulate/tier_profile.h"

namespace mec {

namespace {

Result<TierProfile> ProfileFromNode(const YAML::Node& root, const std::string& path);

}  // namespace

Result<TierProfile> LoadProfileFile(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("{}:{}: {}", path, e.mark.line + 1, e.msg));
  }
  return ProfileFromNode(root, path);
}

Result<TierProfile> LoadProfileYaml(const std::string& yaml, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("{}:{}: {}", source, e.mark.line + 1, e.msg));
  }
  return ProfileFromNode(root, source);
}

namespace {

Result<TierProfile> ProfileFromNode(const YAML::Node& root, const std::string& path) {
  if (!root.IsMap()) return Status::InvalidArgument(path + ": expected a mapping of profile fields");
  TierProfile p;
  p.name = "custom";
  if (root["base"]) {
    auto b = BuiltinProfile(root["base"].as<std::string>());
    if (!b) return Status::InvalidArgument(fmt::format("{}:{}: base: unknown profile", path, root["base"].Mark().line + 1));
    p = *b;
  }
  try {
    for (const auto& kv : root) {
      const std::string k = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      if (k == "base") continue;
      else if (k == "name") p.name = v.as<std::string>();
      else if (k == "model") p.model = v.as<std::string>();
      else if (k == "embedding_model") p.embedding_model = v.as<std::string>();
      else if (k == "rtt_ms") p.rtt_ms = v.as<double>();
      else if (k == "base_ms") p.base_ms = v.as<double>();
      else if (k == "prefill_tokens_per_s") p.prefill_tokens_per_s = v.as<double>();
      else if (k == "decode_tokens_per_s") p.decode_tokens_per_s = v.as<double>();
      else if (k == "batch_slowdown_per_stream") p.batch_slowdown_per_stream = v.as<double>();
      else if (k == "ttft_jitter_sigma") p.ttft_jitter_sigma = v.as<double>();
      else if (k == "max_concurrency") p.max_concurrency = v.as<int>();
      else if (k == "gpus") p.gpus = v.as<int>();
      else if (k == "max_queue") p.max_queue = v.as<int>();
      else if (k == "rate_limit_rps") p.rate_limit_rps = v.as<double>();
      else if (k == "mean_output_tokens") p.mean_output_tokens = v.as<double>();
      else if (k == "quality") p.quality = v.as<double>();
      else if (k == "context_window") p.context_window = v.as<int64_t>();
      else if (k == "kv_capacity_tokens") p.kv_capacity_tokens = v.as<int64_t>();
      else if (k == "load_ms") p.load_ms = v.as<double>();
      else if (k == "keep_alive_s") p.keep_alive_s = v.as<double>();
      else if (k == "model_bytes") p.model_bytes = v.as<int64_t>();
      else if (k == "error_rate") p.faults.error_rate = v.as<double>();
      else if (k == "hang_rate") p.faults.hang_rate = v.as<double>();
      else if (k == "drop_midstream_rate") p.faults.drop_midstream_rate = v.as<double>();
      else if (k == "slowdown") p.faults.slowdown = v.as<double>();
      else if (k == "cut_at_token") p.faults.cut_at_token = v.as<int64_t>();
      else if (k == "outage_windows") {
        for (const auto& w : v) p.outage_windows.emplace_back(w[0].as<double>(), w[1].as<double>());
      } else {
        return Status::InvalidArgument(fmt::format("{}:{}: {}: unknown profile key", path, kv.first.Mark().line + 1, k));
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("{}:{}: {}", path, e.mark.line + 1, e.msg));
  }
  if (p.max_concurrency < 1 || p.gpus < 1 || p.max_queue < 0 || p.faults.slowdown <= 0)
    return Status::InvalidArgument(path + ": max_concurrency >= 1, gpus >= 1, max_queue >= 0 and slowdown > 0 are required");
  if (p.kv_capacity_tokens < 0 || p.load_ms < 0 || p.keep_alive_s < 0 || p.model_bytes < 0)
    return Status::InvalidArgument(path + ": kv_capacity_tokens, load_ms, keep_alive_s and model_bytes must be >= 0");
  return p;
}

}  // namespace
}  // namespace mec
