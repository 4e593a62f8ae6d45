#pragma once
// SIGINT/SIGTERM handling: blocked in every thread, received synchronously by the main thread.

namespace mec::cli {

// Blocks SIGINT and SIGTERM in this thread and in threads it starts later.
void BlockTerminationSignals();
// Waits for SIGINT or SIGTERM; returns which.
int WaitForTerminationSignal();
// Takes a pending SIGINT or SIGTERM without waiting; returns which, or 0 if none is pending.
int PollTerminationSignal();

}  // namespace mec::cli
