#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "cli/embedded_stack.h"
#include "cli/flags.h"
#include "cli/signals.h"
#include "emulate/tier_profile.h"

namespace mec::cli {

int RunEmulate(int argc, char** argv) {
  Flags flags(argc, argv, {"profile", "listen", "threads", "seed"});
  if (!flags.ok() || !flags.Get("profile")) {
    std::fprintf(stderr, "usage: mecrouter emulate --profile device|edge|cloud|zero|FILE [--listen HOST:PORT] [--threads N] [--seed S]\n");
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
  BlockTerminationSignals();
  SystemClock clock;
  net::EmulatorShared shared(*profile, clock, std::strtoull(flags.Get("seed", "1").c_str(), nullptr, 10));
  net::HttpServer server(EmulatorServerOptions(flags.Get("listen", "127.0.0.1:8001"), std::atoi(flags.Get("threads", "1").c_str())),
                         [&shared](int, net::asio::io_context&) { return std::make_shared<net::EmulatorHandler>(shared); });
  if (Status s = server.Listen(); !s.ok()) {
    std::fprintf(stderr, "mecrouter emulate: %s\n", s.message().c_str());
    return 1;
  }
  server.Start();
  std::printf("mecrouter emulate: %s profile (model %s) listening on http://%s/v1\n", profile->name.c_str(),
              profile->model.c_str(), server.address().c_str());
  std::fflush(stdout);
  WaitForTerminationSignal();
  server.Shutdown(std::chrono::milliseconds(2000));
  return 0;
}

}  // namespace mec::cli
