#pragma once
// The gateway with every part wired (DESIGN.md §3): the backend pool and monitor, the complexity
// model, every policy, telemetry, the cache, shared state, the dashboard, the HTTP server and the
// health prober on its own thread. Shared by `mecrouter serve` and `mecrouter demo`.
//
// Thread-safety: Start, Shutdown and the accessors from one thread (the command's main thread).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config/options.h"
#include "core/clock.h"
#include "core/status.h"

namespace mec::net {
struct GatewayShared;
}

namespace mec::cli {

class GatewayRuntime {
 public:
  // `clock` must outlive this object.
  GatewayRuntime(Options options, const Clock& clock);
  ~GatewayRuntime();  // Shutdown(0) if still running
  GatewayRuntime(const GatewayRuntime&) = delete;
  GatewayRuntime& operator=(const GatewayRuntime&) = delete;

  // Builds the parts, binds the listening socket and starts serving. The error is a message for
  // the user (a config, token or bind problem). Call once.
  Status Start();
  const Options& options() const { return options_; }
  // "http://HOST:PORT" (the bound port). REQUIRES: Start() succeeded.
  std::string base_url() const;  // http:// or https:// (server.tls)
  // server.tls: re-reads the certificate files for new connections (SIGHUP).
  Status ReloadTls();
  // The dashboard's URL, with "?token=$ENV" when a bearer token is configured; empty when disabled.
  std::string dashboard_url() const;
  // Prints what runs (listen address, `extra` lines such as the embedded emulators, backends,
  // dashboard, telemetry, cache, shared state) to stdout.
  void PrintBanner(const std::vector<std::string>& extra) const;
  // Drains (readyz 503, in-flight requests get `grace`), stops the prober and replicas, writes the
  // decision log's queue and prints its counts. Idempotent.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  struct Parts;
  Status MakeDecisionExport(Parts& p);  // p.exporter, when an export is configured
  Status Guard(Parts& p, net::GatewayShared& shared);  // keys, and what off-loopback listening requires
  Status FleetToken(net::GatewayShared& shared);       // fleet.token_env, when publishing or pulling
  void StartFleetPoller(Parts& p, net::GatewayShared& shared);  // fleet.url
  Options options_;
  const Clock& clock_;
  std::unique_ptr<Parts> parts_;
  bool running_ = false;
};

}  // namespace mec::cli
