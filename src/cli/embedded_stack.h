#pragma once
// The embedded demo's backends: three emulated tiers (device, edge, cloud) on loopback ports,
// each an in-process emulator with its shipped profile, and the Options that point at them.

#include <memory>
#include <vector>

#include "config/options.h"
#include "core/clock.h"
#include "net/emulator_handler.h"
#include "net/http_server.h"

namespace mec::cli {

// What `mecrouter demo` changes from `serve`'s embedded stack to run a scenario's world.
struct EmbeddedStackOptions {
  // GPUs behind the edge emulator (its profile's `gpus`, a site's load balancer); the gateway's edge
  // backend counts all their slots as its capacity.
  int edge_gpus = 1;
  // Each backend's latency priors (`expect`) from its emulator's profile, as the simulator's
  // `priors: profile` derives them (sim/client_engine.h), instead of the tier defaults.
  bool profile_priors = false;
  // The device emulator speaks llama.cpp's server dialect and the edge's vLLM's (emulate --flavor,
  // docs/engines.md), both ready at once, and the gateway's backends declare those engines and poll
  // them. Off: plain OpenAI-compatible emulators (`demo` of a scenario without engine signals, as
  // the simulator then has none).
  bool flavors = true;
};

class EmbeddedStack {
 public:
  explicit EmbeddedStack(const Clock& clock) : clock_(clock) {}
  ~EmbeddedStack() { Stop(); }
  // Starts the three emulators and returns gateway options for them (listening on `listen`).
  Result<Options> Start(const std::string& listen, const EmbeddedStackOptions& options = {});
  void Stop();
  // "device on http://127.0.0.1:PORT" lines.
  std::vector<std::string> Describe() const;
  // The loopback port of the emulator of `tier` (its /admin/fault controls failures); -1 if not started.
  int port(Tier tier) const;

 private:
  const Clock& clock_;
  std::vector<std::unique_ptr<net::EmulatorShared>> shared_;
  std::vector<std::unique_ptr<net::HttpServer>> servers_;
};

// Emulator options for one emulated tier on loopback.
ServerOptions EmulatorServerOptions(const std::string& listen, int threads);

}  // namespace mec::cli
