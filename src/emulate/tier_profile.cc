#include "emulate/tier_profile.h"

#include <vector>

namespace mec {

// Sources: ../shared/data/calibration/tier_calibration.csv, cited as "row N" counting the header
// as row 1 (so `sed -n Np` prints it).
std::optional<TierProfile> BuiltinProfile(std::string_view name) {
  TierProfile p;
  p.name = std::string(name);
  if (name == "device") {
    // Llama-3.2-1B-Instruct SpinQuant int4 on a OnePlus 12 CPU (ExecuTorch).
    p.model = "llama-3.2-1b-instruct-int4";
    p.decode_tokens_per_s = 50.2;      // row 5
    p.prefill_tokens_per_s = 260.5;    // row 6
    // row 7: TTFT 0.3 s for a 64-token prompt => 0.3 - 64/260.5 = 0.054 s of fixed overhead.
    p.base_ms = 300.0 - 64.0 / 260.5 * 1000.0;
    p.rtt_ms = 0;                      // on the device itself
    p.max_concurrency = 1;             // ASSUMPTION: a phone serves one generation at a time
    p.max_queue = 8;                   // ASSUMPTION
    p.ttft_jitter_sigma = 0.1;         // ASSUMPTION
    p.mean_output_tokens = 64;         // ASSUMPTION
    p.quality = 0.6;                   // EMULATION (hidden_quality.h)
    p.context_window = 8192;           // ASSUMPTION (the model supports 128k; phones cap memory)
    p.kv_capacity_tokens = 8192;       // ASSUMPTION: one context's worth (one sequence at a time)
    p.load_ms = 1000;                  // ASSUMPTION: ~1 GB of weights read from flash
    p.model_bytes = 1100000000;        // ASSUMPTION: ~1.1 GB for a 1B-parameter int4 model
    return p;
  }
  if (name == "edge") {
    // Llama-3.1-8B-Instruct BF16 on 1x A100 40GB under vLLM, in a MEC site.
    p.model = "llama-3.1-8b-instruct";
    p.decode_tokens_per_s = 75;        // row 28: 75 tok/s at concurrency 1
    // row 29: 6.6x total throughput at concurrency 8 => per-stream speed 6.6/8 of single, i.e.
    // per-token time x 8/6.6 = 1.212 at 8 streams: (1.212 - 1) / 7 = 0.0303 per extra stream.
    p.batch_slowdown_per_stream = (8.0 / 6.6 - 1.0) / 7.0;
    p.max_concurrency = 8;             // row 29: concurrency 8 is the knee
    p.max_queue = 64;                  // ASSUMPTION
    p.prefill_tokens_per_s = 4000;     // ASSUMPTION: no row gives an edge prefill rate
    p.base_ms = 20;                    // ASSUMPTION: scheduling overhead; row 30's 0.2 s SLO is the bound it must fit
    p.rtt_ms = 20;                     // ASSUMPTION: row 61 says only the top 5% of mobile users see < 20 ms
    p.ttft_jitter_sigma = 0.15;        // ASSUMPTION
    p.mean_output_tokens = 96;         // ASSUMPTION
    p.quality = 0.8;                   // EMULATION (hidden_quality.h)
    p.context_window = 32768;          // ASSUMPTION (vLLM max_model_len on a 40 GB card)
    p.embedding_model = "edge-embed";  // ASSUMPTION: an embedding model beside the chat model
    // ASSUMPTION: vLLM's gpu_memory_utilization 0.9 of 40 GiB = 36 GiB (the default of older
    // releases; vllm/config/cache.py now says 0.92), less ~15 GiB of BF16 weights (8.03B x 2 bytes)
    // and ~3 GiB of activations = 18 GiB of KV cache, at 128 KiB per token (2 x 32 layers x 8 KV
    // heads x 128 dims x 2 bytes): 18 GiB / 128 KiB = 147,456 tokens.
    p.kv_capacity_tokens = 147456;
    p.load_ms = 20000;                 // ASSUMPTION: weights from local disk plus CUDA graph capture
    p.model_bytes = 16060000000;       // 8.03B parameters x 2 bytes (BF16)
    return p;
  }
  if (name == "cloud") {
    // GPT-4o through the OpenAI API.
    p.model = "gpt-4o";
    p.decode_tokens_per_s = 131;       // row 37: 131 tok/s (AA median, current)
    // row 38: TTFT 0.45 s as measured by a remote client, so it includes the network:
    // 0.45 s = rtt 0.1 s (row 57, EdgeCloudSim's default WAN delay: a default, not a measurement)
    //          + base + prefill of a ~1000-token prompt at 10k tok/s (ASSUMPTION) => base 0.25 s.
    p.rtt_ms = 100;
    p.prefill_tokens_per_s = 10000;    // ASSUMPTION
    p.base_ms = 450 - 100 - 100;
    p.max_concurrency = 1 << 16;       // an API: no visible slots
    p.ttft_jitter_sigma = 0.3;         // ASSUMPTION; rows 34/38 (0.39 vs 0.45 s) and 33/37 show the spread
    p.mean_output_tokens = 128;        // ASSUMPTION
    p.quality = 0.95;                  // EMULATION (hidden_quality.h)
    p.context_window = 128000;         // GPT-4o's documented window
    p.embedding_model = "text-embedding-3-small";
    return p;
  }
  if (name == "zero") {
    // No added latency: for benchmarks of the gateway itself.
    p.model = "zero";
    p.mean_output_tokens = 16;
    p.context_window = 1 << 20;
    p.embedding_model = "zero-embed";
    return p;
  }
  return std::nullopt;
}

}  // namespace mec
