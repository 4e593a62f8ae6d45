#pragma once
// One fuzz target per file: `MEC_FUZZ_TARGET(name) { ... use data, size ...; return 0; }`.
//
// Built with clang and -fsanitize=fuzzer (MEC_LIBFUZZER defined, one target per binary), it is
// libFuzzer's LLVMFuzzerTestOneInput. Built otherwise (the g++ test build), it is an ordinary
// function registered under `name`, so that several targets link into one binary,
// fuzz_replay_test, which feeds each target every file of its corpus (fuzz/replay_main.cc).
//
// MEC_FUZZ_CHECK(cond) states a property the target checks on every input (a round trip, an
// invariant): when it fails, it prints the condition and aborts, which both libFuzzer and the
// replay test report as a crash.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace mec::fuzz {
using Entry = int (*)(const uint8_t* data, size_t size);
// Registers a target for the replay test; returns true (for a static initialiser).
bool RegisterTarget(const char* name, Entry entry);
}  // namespace mec::fuzz

#ifdef MEC_LIBFUZZER
#define MEC_FUZZ_TARGET(name) extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
#else
#define MEC_FUZZ_TARGET(name)                                                                   \
  static int MecFuzzTarget_##name(const uint8_t* data, size_t size);                            \
  [[maybe_unused]] static const bool mec_fuzz_registered_##name =                               \
      ::mec::fuzz::RegisterTarget(#name, &MecFuzzTarget_##name);                                \
  static int MecFuzzTarget_##name(const uint8_t* data, size_t size)
#endif

#define MEC_FUZZ_CHECK(cond)                                                                           \
  do {                                                                                                 \
    if (!(cond)) {                                                                                     \
      std::fprintf(stderr, "%s:%d: fuzz property failed: %s\n", __FILE__, __LINE__, #cond);            \
      std::abort();                                                                                    \
    }                                                                                                  \
  } while (0)
