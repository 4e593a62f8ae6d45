#include "cli/flags.h"

#include <algorithm>

namespace mec::cli {

Flags::Flags(int argc, char** argv, std::vector<std::string> with_value) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const bool needs = std::find(with_value.begin(), with_value.end(), name) != with_value.end();
    if (needs && !has_value) {
      if (i + 1 >= argc) {
        error_ = "--" + name + " needs a value";
        return;
      }
      value = argv[++i];
    }
    values_[name] = value;
  }
}

std::optional<std::string> Flags::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

}  // namespace mec::cli
