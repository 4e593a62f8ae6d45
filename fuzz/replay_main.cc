// fuzz_replay_test: feeds every file of a corpus to a fuzz target, through the same entry point
// libFuzzer calls (fuzz/fuzz_target.h), in an ordinary build (g++, AddressSanitizer, UBSan).
//
//   fuzz_replay_test TARGET CORPUS_DIR   every file under CORPUS_DIR, in name order
//   fuzz_replay_test --list              the registered targets
//
// Fails when the target is unknown or the corpus is empty; a crash or sanitizer report fails it
// as it would fail any test.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "fuzz/fuzz_target.h"

namespace mec::fuzz {

namespace {
std::map<std::string, Entry>& Targets() {
  static std::map<std::string, Entry> targets;
  return targets;
}
}  // namespace

bool RegisterTarget(const char* name, Entry entry) {
  Targets()[name] = entry;
  return true;
}

}  // namespace mec::fuzz

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  const auto& targets = mec::fuzz::Targets();
  if (argc == 2 && std::string(argv[1]) == "--list") {
    for (const auto& [name, entry] : targets) std::printf("%s\n", name.c_str());
    return 0;
  }
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s TARGET CORPUS_DIR | --list\n", argv[0]);
    return 2;
  }
  auto it = targets.find(argv[1]);
  if (it == targets.end()) {
    std::fprintf(stderr, "unknown fuzz target '%s' (--list names them)\n", argv[1]);
    return 2;
  }
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator d(argv[2], ec), end; !ec && d != end; d.increment(ec))
    if (d->is_regular_file()) files.push_back(d->path());
  if (ec || files.empty()) {
    std::fprintf(stderr, "%s: no corpus files under %s\n", argv[1], argv[2]);
    return 1;
  }
  std::sort(files.begin(), files.end());
  size_t bytes = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bytes += data.size();
    it->second(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  }
  std::printf("%s: replayed %zu inputs (%zu bytes) from %s\n", argv[1], files.size(), bytes, argv[2]);
  return 0;
}
