#include "sim/data_dir.h"

#include <cstdlib>
#include <filesystem>

namespace mec::sim {

std::optional<std::string> ResolveDataDir(const std::string& flag) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!flag.empty()) return fs::is_directory(flag, ec) ? std::optional<std::string>(flag) : std::nullopt;
  if (const char* env = std::getenv("MECROUTER_DATA"); env && *env)
    return fs::is_directory(env, ec) ? std::optional<std::string>(env) : std::nullopt;
  if (fs::is_directory("../shared/data", ec)) return std::string("../shared/data");
#ifdef MEC_SCENARIO_DIR
  const fs::path beside_source = fs::path(MEC_SCENARIO_DIR) / "../../shared/data";
  if (fs::is_directory(beside_source, ec)) return beside_source.lexically_normal().string();
#endif
  return std::nullopt;
}

}  // namespace mec::sim
