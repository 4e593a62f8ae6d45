#pragma once
// Where the public data lives (issue 5): --data DIR, else $MECROUTER_DATA, else ../shared/data
// beside the working directory, else ../shared/data beside the source tree this binary was built
// from. nullopt when none exists (the caller says which mode it runs in).

#include <optional>
#include <string>

namespace mec::sim {

std::optional<std::string> ResolveDataDir(const std::string& flag);

}  // namespace mec::sim
