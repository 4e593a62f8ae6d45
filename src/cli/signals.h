#pragma once
// SIGINT/SIGTERM handling: blocked in every thread, received synchronously by the main thread.

#include <functional>

namespace mec::cli {

// Blocks SIGINT and SIGTERM in this thread and in threads it starts later.
void BlockTerminationSignals();
// Waits for SIGINT or SIGTERM; returns which.
int WaitForTerminationSignal();
// serve: blocks SIGHUP too (call before threads start), then waits for SIGINT or SIGTERM while
// running `on_reload` for each SIGHUP (docs/tls.md).
void BlockReloadSignal();
int WaitForTerminationSignal(const std::function<void()>& on_reload);
// Takes a pending SIGINT or SIGTERM without waiting; returns which, or 0 if none is pending.
int PollTerminationSignal();

}  // namespace mec::cli
