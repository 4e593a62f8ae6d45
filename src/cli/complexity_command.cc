#include <cstdio>

#include "cli/commands.h"

namespace mec::cli {

// Placeholder until the request-complexity model lands (issue 4).
int RunComplexity(int, char**) {
  std::fprintf(stderr, "mecrouter complexity: not built yet\n");
  return 2;
}

}  // namespace mec::cli
