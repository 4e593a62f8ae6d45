#pragma once
// SIGINT/SIGTERM handling: blocked in every thread, received synchronously by the main thread.

namespace mec::cli {

// Blocks SIGINT and SIGTERM in this thread and in threads it starts later.
void BlockTerminationSignals();
// Waits for SIGINT or SIGTERM; returns which.
int WaitForTerminationSignal();

}  // namespace mec::cli
