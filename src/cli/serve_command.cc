#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/embedded_stack.h"
#include "cli/flags.h"
#include "cli/gateway_runtime.h"
#include "cli/open_file_limit.h"
#include "cli/signals.h"
#include "config/loader.h"

namespace mec::cli {

int RunServe(int argc, char** argv) {
  Flags flags(argc, argv, {"config", "listen", "threads", "edge-gpus"});
  if (!flags.ok()) {
    std::fprintf(stderr, "mecrouter serve: %s\n", flags.error().c_str());
    return 2;
  }
  BlockTerminationSignals();  // before any thread starts, so sigwait below receives them
  BlockReloadSignal();
  SystemClock clock;
  EmbeddedStack demo(clock);
  Options options;
  EmbeddedStackOptions stack;
  if (auto g = flags.Get("edge-gpus")) {  // the embedded demo's edge site: 8 slots per GPU
    char* end = nullptr;
    const long n = std::strtol(g->c_str(), &end, 10);
    if (flags.Get("config") || end == g->c_str() || *end != '\0' || n < 1 || n > 64) {
      std::fprintf(stderr, "mecrouter serve: --edge-gpus takes 1..64, and only without --config (the embedded demo's edge)\n");
      return 2;
    }
    stack.edge_gpus = static_cast<int>(n);
  }
  if (auto path = flags.Get("config")) {
    auto o = LoadOptionsFromFile(*path);
    if (!o.ok()) {
      std::fprintf(stderr, "mecrouter serve: %s\n", o.status().message().c_str());
      return 1;
    }
    options = std::move(*o);
  } else {
    auto o = demo.Start(flags.Get("listen", "127.0.0.1:8080"), stack);
    if (!o.ok()) {
      std::fprintf(stderr, "mecrouter serve: cannot start the embedded demo: %s\n", o.status().message().c_str());
      return 1;
    }
    options = std::move(*o);
  }
  if (auto l = flags.Get("listen")) options.server.listen = *l;
  if (auto t = flags.Get("threads")) options.server.threads = std::atoi(t->c_str());
  if (flags.Has("allow-anonymous")) options.server.allow_anonymous = true;  // docs/security.md

  // One descriptor per client connection and per pooled upstream connection (open_file_limit.h).
  const std::string fd_warning = OpenFileLimitWarning(RaiseOpenFileLimit(), options.server.max_connections, 1024);
  if (!fd_warning.empty()) std::fprintf(stderr, "%s\n", fd_warning.c_str());

  GatewayRuntime gateway(std::move(options), clock);
  if (Status s = gateway.Start(); !s.ok()) {
    std::fprintf(stderr, "mecrouter serve: %s\n", s.message().c_str());
    return 1;
  }
  gateway.PrintBanner(demo.Describe());
  const std::string base = gateway.base_url();
  std::printf("\ntry:\n");
  std::printf("  curl -s %s/v1/chat/completions -H 'Content-Type: application/json' -d '{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello!\"}]}' -D -\n", base.c_str());
  std::printf("  curl -sN %s/v1/chat/completions -H 'Content-Type: application/json' -d '{\"model\":\"auto\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story\"}]}'\n", base.c_str());
  std::printf("  curl -s %s/v1/chat/completions -H 'Content-Type: application/json' -d '{\"model\":\"device\",\"messages\":[{\"role\":\"user\",\"content\":\"Is the road ahead clear?\"}]}' -D - -o /dev/null\n", base.c_str());
  const long long grace_ms = static_cast<long long>(gateway.options().server.shutdown_grace_ms);
  std::printf("\nCtrl-C stops it (in-flight requests get %lld ms to finish).\n", grace_ms);
  std::fflush(stdout);

  // SIGHUP: the configuration file again (docs/reload.md), then the TLS files. A file that does not
  // load or build is refused and the running configuration keeps serving.
  const std::optional<std::string> config_path = flags.Get("config");
  int sig = WaitForTerminationSignal([&gateway, &config_path] {
    if (config_path) {
      auto next = LoadOptionsFromFile(*config_path);
      std::string summary, note;
      const Status s = next.ok() ? gateway.Reload(std::move(*next), &summary, &note) : next.status();
      if (s.ok())
        std::printf("mecrouter: SIGHUP: configuration %d loaded from %s: %s\n", gateway.generation(), config_path->c_str(), summary.c_str());
      else
        std::fprintf(stderr, "mecrouter: SIGHUP: configuration refused, the running one keeps serving: %s\n", s.message().c_str());
      if (!note.empty()) std::fprintf(stderr, "mecrouter: SIGHUP: %s\n", note.c_str());
    } else {
      std::printf("mecrouter: SIGHUP: no configuration file (the embedded demo): nothing to reload but TLS\n");
    }
    const Status t = gateway.ReloadTls();
    if (t.ok()) {
      if (gateway.options().server.tls.enabled()) std::printf("mecrouter: SIGHUP: TLS certificates reloaded\n");
    } else {
      std::fprintf(stderr, "mecrouter: SIGHUP: TLS reload failed, the previous certificates stay: %s\n", t.message().c_str());
    }
    std::fflush(stdout);
    std::fflush(stderr);
  });
  std::printf("mecrouter: %s received, draining (grace %lld ms)\n", sig == SIGINT ? "SIGINT" : "SIGTERM", grace_ms);
  std::fflush(stdout);
  gateway.Shutdown(std::chrono::milliseconds(grace_ms));
  demo.Stop();
  std::printf("mecrouter: stopped\n");
  return 0;
}

}  // namespace mec::cli
