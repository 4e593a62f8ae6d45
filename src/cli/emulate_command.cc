#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cli/commands.h"
#include "cli/embedded_stack.h"
#include "cli/flags.h"
#include "cli/open_file_limit.h"
#include "cli/signals.h"
#include "emulate/engine_flavor.h"
#include "emulate/tier_profile.h"

namespace mec::cli {

namespace {

constexpr char kEmulateUsage[] =
    "usage: mecrouter emulate --profile device|edge|cloud|zero|FILE [--listen HOST:PORT] [--threads N] [--seed S]\n"
    "                         [--flavor openai|vllm|llamacpp|ollama] [--load-ms MS]\n";

// Sleeps `ms` on `clock` unless SIGINT/SIGTERM arrives first; returns false if one did.
bool SleepUnlessTerminated(const Clock& clock, double ms) {
  const TimePoint end = clock.Now() + FromMillis(ms);
  while (clock.Now() < end) {
    if (PollTerminationSignal() != 0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace

int RunEmulate(int argc, char** argv) {
  Flags flags(argc, argv, {"profile", "listen", "threads", "seed", "flavor", "load-ms"});
  if (!flags.ok() || !flags.Get("profile")) {
    std::fputs(kEmulateUsage, stderr);
    return 2;
  }
  const auto flavor = ParseEngineFlavor(flags.Get("flavor", "openai"));
  if (!flavor) {
    std::fprintf(stderr, "mecrouter emulate: --flavor must be openai, vllm, llamacpp or ollama\n%s", kEmulateUsage);
    return 2;
  }
  const std::string name = *flags.Get("profile");
  std::optional<TierProfile> profile = BuiltinProfile(name);
  if (!profile) {
    auto p = LoadProfileFile(name);
    if (!p.ok()) {
      std::fprintf(stderr, "mecrouter emulate: %s is not a builtin profile (device, edge, cloud, zero) and: %s\n", name.c_str(),
                   p.status().message().c_str());
      return 1;
    }
    profile = *p;
  }
  if (auto ms = flags.Get("load-ms")) {
    char* end = nullptr;
    const double v = std::strtod(ms->c_str(), &end);
    if (end == ms->c_str() || *end != '\0' || v < 0) {
      std::fprintf(stderr, "mecrouter emulate: --load-ms must be a number of milliseconds >= 0\n");
      return 2;
    }
    profile->load_ms = v;
  }
  // llama-server lists every slot on /slots: keep it to a server's worth (--parallel).
  if (*flavor == EngineFlavor::kLlamaCpp && static_cast<int64_t>(profile->max_concurrency) * profile->gpus > 256) {
    std::fprintf(stderr, "mecrouter emulate: --flavor llamacpp needs max_concurrency x gpus <= 256 slots (profile %s has %lld)\n",
                 profile->name.c_str(), static_cast<long long>(profile->max_concurrency) * profile->gpus);
    return 1;
  }
  BlockTerminationSignals();
  RaiseOpenFileLimit();  // one descriptor per connection (open_file_limit.h)
  SystemClock clock;
  net::EmulatorShared shared(*profile, clock, std::strtoull(flags.Get("seed", "1").c_str(), nullptr, 10), *flavor);
  const std::string flavor_name(FlavorName(*flavor));
  // vLLM binds its port before it builds its engine but listens only once the model is loaded:
  // until then a connection is refused. The emulator likewise listens after load_ms.
  if (*flavor == EngineFlavor::kVllm && profile->load_ms > 0) {
    std::printf("mecrouter emulate: vllm flavor loading the model for %.0f ms (connections are refused until then)\n", profile->load_ms);
    std::fflush(stdout);
    if (!SleepUnlessTerminated(clock, profile->load_ms)) return 0;
  }
  net::HttpServer server(EmulatorServerOptions(flags.Get("listen", "127.0.0.1:8001"), std::atoi(flags.Get("threads", "1").c_str())),
                         [&shared](int, net::asio::io_context&) { return std::make_shared<net::EmulatorHandler>(shared); });
  if (Status s = server.Listen(); !s.ok()) {
    std::fprintf(stderr, "mecrouter emulate: %s\n", s.message().c_str());
    return 1;
  }
  server.Start();
  if (*flavor == EngineFlavor::kOpenAI) {
    std::printf("mecrouter emulate: %s profile (model %s) listening on http://%s/v1\n", profile->name.c_str(),
                profile->model.c_str(), server.address().c_str());
  } else {
    std::printf("mecrouter emulate: %s profile (model %s, %s flavor) listening on http://%s/v1\n", profile->name.c_str(),
                profile->model.c_str(), flavor_name.c_str(), server.address().c_str());
  }
  std::fflush(stdout);
  WaitForTerminationSignal();
  server.Shutdown(std::chrono::milliseconds(2000));
  return 0;
}

}  // namespace mec::cli
