#pragma once
// The gateway with every part wired (DESIGN.md §3): the backend pool and monitor, the complexity
// model, every policy, telemetry, the cache, shared state, the dashboard, the HTTP server and the
// health prober on its own thread. Shared by `mecrouter serve` and `mecrouter demo`.
//
// A reload (Reload, `mecrouter serve` on SIGHUP) builds every part anew from the new options as a
// new generation, except the listening server, its workers and the live complexity model, which
// stay; requests in flight finish on the generation they started on, which is then stopped.
//
// Thread-safety: Start, Reload, Shutdown and the accessors from one thread (the command's main thread).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config/options.h"
#include "core/clock.h"
#include "core/status.h"

namespace mec {
class ComplexityModel;
class LiveComplexityModel;
}
namespace mec::net {
struct GatewayShared;
class HttpServer;
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
  // The options in effect (the last reload's, once one succeeded).
  const Options& options() const;
  // Replaces the running configuration by `next` without dropping a request or a connection.
  // `next.server` is not applied (the listener, workers and limits stay as started; TLS files are
  // re-read by ReloadTls): when it differs, `*note` says so. On error (the new parts cannot be
  // built: a profile, the key file, a token variable...) the old generation keeps serving and
  // nothing changed. On success `*summary` says what changed (backends added and removed, policy).
  // REQUIRES: Start() succeeded, Shutdown() not called.
  Status Reload(Options next, std::string* summary, std::string* note);
  int generation() const { return generation_; }  // 1 after Start, +1 per successful Reload
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
  struct Retired;
  // One generation: every part but the server, built from `options` (no thread started but the
  // learning worker's and the key guard's), then started by Launch once it may serve.
  Result<std::unique_ptr<Parts>> Build(const Options& options);
  void Launch(Parts& p);
  // Stops a generation's background work and writes its logs' last rows; prints its counts,
  // each line led by `label`. Idempotent per part.
  void StopParts(Parts& p, const char* label);
  // What the old generation learned about a backend (latency, ejections) as the new one's prior.
  void CarryOver(const Parts& from, Parts& to);
  Status MakeDecisionExport(Parts& p);  // p.exporter, when an export is configured
  Status Guard(Parts& p, net::GatewayShared& shared);  // keys, and what off-loopback listening requires
  Status FleetToken(Parts& p, net::GatewayShared& shared);       // fleet.token_env, when publishing or pulling
  void StartFleetPoller(Parts& p, net::GatewayShared& shared);  // fleet.url
  Options options_;  // as started; the current generation's are parts_->options
  const Clock& clock_;
  std::shared_ptr<const ComplexityModel> base_complexity_;  // the shipped model
  std::unique_ptr<LiveComplexityModel> complexity_;         // what routing reads; learning swaps it; kept across reloads
  std::unique_ptr<Parts> parts_;                            // the current generation
  std::vector<std::unique_ptr<Retired>> retired_;           // earlier generations, until their requests end
  std::unique_ptr<net::HttpServer> server_;                 // destroyed first: its coroutines refer to the parts
  int generation_ = 0;
  bool running_ = false;
};

}  // namespace mec::cli
