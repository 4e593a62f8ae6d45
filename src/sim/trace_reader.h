#pragma once
// Readers for request-arrival traces (issue 5, ../shared/data/traces/README): the Azure LLM
// inference trace CSV (TIMESTAMP "YYYY-MM-DD HH:MM:SS.fffffff", ContextTokens, GeneratedTokens)
// and the Mooncake JSONL ({"timestamp": ms from start, "input_length", "output_length", ...}).
// Arrival times are returned in seconds from the first row, divided by `time_scale` (2 replays
// twice as fast). Rows must be in time order (both public files are); a row earlier than the one
// before it is an error naming its line.

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace mec::sim {

struct TraceRow {
  double arrival_s = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  // Mooncake's hash_ids: the prompt's 512-token blocks, each id standing for the whole prefix up
  // to its end (two rows share an id only if they share everything before it). Empty for Azure.
  std::vector<uint64_t> blocks;
};
// The tokens one Mooncake hash id covers.
inline constexpr int kMooncakeBlockTokens = 512;

Result<std::vector<TraceRow>> ParseAzureTrace(const std::string& text, const std::string& source, double time_scale = 1);
Result<std::vector<TraceRow>> ParseMooncakeTrace(const std::string& text, const std::string& source, double time_scale = 1);
// By extension: .csv -> Azure, .jsonl -> Mooncake.
Result<std::vector<TraceRow>> LoadTrace(const std::string& path, double time_scale = 1);

}  // namespace mec::sim
