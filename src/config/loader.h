#pragma once
// YAML -> Options. Strict: unknown keys, wrong types and out-of-range values are errors that name
// the key and its line ("config.yaml:12: backends[1].tier: expected device, edge or cloud").

#include <string>
#include <string_view>

#include "config/options.h"
#include "core/status.h"

namespace mec {

Result<Options> LoadOptionsFromString(std::string_view yaml, std::string_view source_name);
Result<Options> LoadOptionsFromFile(const std::string& path);

// A human-readable summary of resolved options (for `mecrouter config check`).
std::string DescribeOptions(const Options& o);

// `state:`'s url as it may be shown: "rediss://:***@HOST:PORT" (the password masked); "" when off.
std::string MaskedRedisUrl(const StateOptions& st);

}  // namespace mec
