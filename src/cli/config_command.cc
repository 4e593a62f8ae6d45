#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "config/loader.h"

namespace mec::cli {

int RunConfig(int argc, char** argv) {
  if (argc != 2 || std::string(argv[0]) != "check") {
    std::fprintf(stderr, "usage: mecrouter config check FILE\n");
    return 2;
  }
  auto o = LoadOptionsFromFile(argv[1]);
  if (!o.ok()) {
    std::fprintf(stderr, "error: %s\n", o.status().message().c_str());
    return 1;
  }
  std::printf("%s", DescribeOptions(*o).c_str());
  std::printf("OK\n");
  return 0;
}

}  // namespace mec::cli
