#pragma once
// The numbers behind one emulated or simulated tier. Built-in profiles come from
// ../shared/data/calibration/tier_calibration.csv (rows cited in tier_profile.cc); what no row
// supports is marked ASSUMPTION there.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace mec {

// Failures injected at run time (POST /admin/fault) or from the profile.
struct FaultState {
  bool outage = false;              // every request gets 503 at once
  double error_rate = 0;            // fraction answered 500 after the base delay
  double hang_rate = 0;             // fraction that never send a byte (the client times out)
  double drop_midstream_rate = 0;   // fraction whose stream is cut after some tokens
  double slowdown = 1;              // multiplies every latency
  // >= 0: every stream is cut after this many tokens of its answer (a continued answer's prefix
  // counts: a continuation that starts past it is not cut), for tests of mid-stream continuation.
  int64_t cut_at_token = -1;
};

struct TierProfile {
  std::string name;                  // device | edge | cloud | zero | custom
  std::string model;                 // model name served
  double rtt_ms = 0;                 // network round trip before the first byte
  double base_ms = 0;                // fixed serving overhead before prefill
  double prefill_tokens_per_s = 0;   // 0: prefill takes no time
  double decode_tokens_per_s = 0;    // single stream; 0: tokens come without delay
  double batch_slowdown_per_stream = 0;  // per-token time x (1 + this x (active streams - 1))
  double ttft_jitter_sigma = 0;      // lognormal sigma on the TTFT (0: none)
  int max_concurrency = 1 << 20;     // requests served at once per GPU; more wait in the queue
  // GPUs (engine replicas) behind the one endpoint, as a site's load balancer: each has its own
  // max_concurrency slots and its own batch slowdown; a request takes the least-busy GPU (lowest
  // index on ties), the queue is shared. 1: one server (the simulator models each GPU on its own).
  int gpus = 1;
  int max_queue = 1 << 20;           // more than this waiting: 429
  double rate_limit_rps = 0;         // token bucket (burst = 1 s worth); over it: 429. 0: off
  double mean_output_tokens = 64;    // answer length when max_tokens does not cap it (lognormal sigma 0.6)
  // Emulated answer quality (emulate/hidden_quality.h): right iff the prompt's hidden difficulty
  // is below this; the answer's first word says which. < 0: answers carry no mark.
  double quality = -1;
  int64_t context_window = 8192;
  std::string embedding_model;       // non-empty: serves /v1/embeddings under this name
  // The engine model behind `emulate --flavor` (emulate/engine_state.h); the plain emulator and the
  // simulator ignore these four.
  int64_t kv_capacity_tokens = 0;    // KV cache per GPU, in tokens (vLLM's "GPU KV cache size"); 0: unbounded
  double load_ms = 0;                // time to load the model: from start (vLLM, llama.cpp) or on demand (Ollama)
  double keep_alive_s = 300;         // Ollama: an idle model is unloaded after this (OLLAMA_KEEP_ALIVE, 5 min)
  int64_t model_bytes = 0;           // the weights' size, as Ollama's /api/ps reports it ("size")
  FaultState faults;
  // Outage windows as [start, end) seconds since the emulator started (for scripted demos).
  std::vector<std::pair<double, double>> outage_windows;
  // Slow windows: [start, end) seconds since start during which every latency is multiplied by
  // the factor (on top of faults.slowdown): a drifting backend (the simulator's `outages` with a
  // `slowdown`).
  struct SlowWindow {
    double from_s = 0, to_s = 0, factor = 1;
  };
  std::vector<SlowWindow> slow_windows;
};

// device, edge, cloud or zero; nullopt for an unknown name.
std::optional<TierProfile> BuiltinProfile(std::string_view name);
// A YAML profile file: any TierProfile field by name, optionally `base: edge` to start from a builtin.
Result<TierProfile> LoadProfileFile(const std::string& path);
// The same from YAML text (the simulator's scenario files embed profiles); `source` names it in errors.
Result<TierProfile> LoadProfileYaml(const std::string& yaml, const std::string& source);

}  // namespace mec
