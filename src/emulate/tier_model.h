#pragma once
// One tier's latency, capacity and failure model, driven by the caller's clock and with no I/O
// (DESIGN.md §3, "One tier model"). The emulator wraps it in HTTP; the simulator calls it directly.
//
//   TTFT = rtt + queue wait + base + input tokens / prefill rate     (x slowdown, x lognormal jitter)
//   then one token every (1 / decode rate) x (1 + k x (active streams - 1)) x slowdown
//
// Requests take one of max_concurrency slots (of the least-busy GPU when the profile has several:
// active streams, and so the batch slowdown, count per GPU); the rest wait in a FIFO queue
// (bounded: 429 past it) and start when a slot is released. Queue wait is therefore emergent, not drawn.
//
// With EngineFeatures on (emulate --flavor; engine_state.h) it is also a continuous-batching engine
// as vLLM / llama.cpp / Ollama report it: each running sequence holds its prompt + generated tokens
// of KV cache (generated tokens follow its plan: one at TTFT, then one per per_token); with
// kv_admission the FIFO head waits, even with a free slot, until its prompt fits its GPU's free KV
// (vLLM's scheduler; no preemption: a cache overfilled by growth reads as 1); with prefix_cache,
// a prompt whose leading 16-token blocks were seen recently (LRU, as many blocks as the KV cache
// holds) skips their prefill; the model loads from start for load_ms (requests meanwhile:
// kLoading), or on demand (Ollama: the first request waits for the load, and an idle model is
// unloaded after keep_alive_s). With the features off, nothing of this is kept or drawn: the
// simulator's runs are unchanged.
// Thread-safety: none; the owner serializes calls.

#include <cstdint>
#include <deque>
#include <list>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/rng.h"
#include "emulate/engine_state.h"
#include "emulate/tier_profile.h"

namespace mec {

// What one request will experience once it has a slot.
struct ServicePlan {
  Duration ttft{0};           // from the moment it got a slot to the first token (includes rtt)
  Duration per_token{0};      // between consecutive tokens
  int64_t output_tokens = 0;  // tokens to generate
  bool truncated = false;     // output_tokens was capped by max_tokens (finish_reason "length")
  bool hang = false;          // sends nothing until the client gives up
  int64_t drop_after = -1;    // >= 0: the stream is cut after this many tokens
};

// kLoading: the model is still loading from start (engine flavors only; llama.cpp answers 503).
enum class Admission { kStarted, kQueued, kOutage, kError, kRateLimited, kQueueFull, kLoading };

struct WorkItem {
  uint64_t ticket = 0;
  int64_t input_tokens = 0;
  int64_t max_tokens = -1;    // -1: uncapped
  uint64_t content_hash = 0;  // makes the answer length deterministic per prompt
  int64_t output_tokens = -1; // >= 0: the answer's length is known (the simulator's workload); -1: drawn
  std::vector<uint64_t> prefix_blocks{};  // PromptBlockHashes of the prompt (read with prefix_cache only)
};

class TierModel {
 public:
  TierModel(TierProfile profile, Rng rng, TimePoint start, EngineFeatures engine = {});

  // A request arrives. kStarted: it holds a slot and `plan` is filled. kQueued: it waits until a
  // Release() returns it. Anything else is a rejection and holds nothing.
  Admission Arrive(TimePoint now, const WorkItem& w, ServicePlan* plan);
  // The request with `ticket` finished or was abandoned (queued or running). Frees its slot and
  // returns the queued work that starts now, each with its plan.
  std::vector<std::pair<WorkItem, ServicePlan>> Release(TimePoint now, uint64_t ticket);

  FaultState& faults() { return profile_.faults; }
  const TierProfile& profile() const { return profile_; }
  int active() const { return static_cast<int>(running_.size()); }  // over every GPU
  int queued() const { return static_cast<int>(queue_.size()); }
  // What a request arriving now would experience once it had a slot, without jitter or faults
  // (the simulator's oracle reads it; queue wait is not included).
  ServicePlan ExpectedPlan(const WorkItem& w) const;
  // Seconds a 429 asks the client to wait.
  double RetryAfterSeconds() const;
  bool InOutage(TimePoint now) const;

  const EngineFeatures& engine() const { return engine_; }
  // The engine's view of itself at `now` (engine_state.h); `slots` only when with_slots.
  // REQUIRES: engine().enabled.
  EngineSnapshot Engine(TimePoint now, bool with_slots) const;

 private:
  ServicePlan Plan(TimePoint now, const WorkItem& w, int streams);
  // The least-busy GPU (lowest index on ties).
  int LeastBusyGpu() const;
  // Starts `w` on `gpu` (which has a free slot) and returns its plan.
  ServicePlan StartOn(TimePoint now, const WorkItem& w, int gpu);
  // The formula shared by Plan and ExpectedPlan: TTFT x jitter, per-token time at `streams`.
  ServicePlan Shape(const WorkItem& w, double jitter, int streams, double window_slowdown = 1) const;
  bool TakeRateToken(TimePoint now);

  TierProfile profile_;
  Rng rng_;
  TimePoint start_;
  struct Running {
    uint64_t ticket;
    int gpu;
    // Engine features only:
    TimePoint start{};
    ServicePlan plan{};
    int64_t input_tokens = 0;
    int slot = -1;
  };
  std::vector<Running> running_;
  std::vector<int> gpu_active_;  // running requests per GPU
  std::deque<WorkItem> queue_;
  double bucket_tokens_ = 0;
  TimePoint bucket_at_{};

  // ---- The engine model (engine_.enabled only) ----
  // Whether the FIFO head `w` can start now, and on which GPU.
  bool CanStart(TimePoint now, const WorkItem& w, int* gpu) const;
  // Tokens `r` has generated by `now`, by its plan.
  static int64_t Generated(TimePoint now, const Running& r);
  // KV tokens held on `gpu` at `now`.
  int64_t HeldTokens(TimePoint now, int gpu) const;
  // Looks `w`'s blocks up in the prefix cache, counts the query, caches them; the tokens hit.
  int64_t LookUpPrefix(const WorkItem& w);
  // On-demand loading: unloads an expired idle model, starts a load if none is resident.
  void EnsureLoaded(TimePoint now);
  bool IdleExpired(TimePoint now) const;

  EngineFeatures engine_;
  TimePoint ready_at_{};          // the model is loaded from then on
  bool resident_ = false;         // loaded or loading (on demand); always true when loading from start
  TimePoint idle_since_{};        // when the last sequence ended (on demand)
  std::vector<uint64_t> slot_task_;     // per slot: the ticket it serves or served last (0: none)
  std::vector<int64_t> slot_decoded_;   // per slot: tokens its last sequence generated
  std::vector<char> slot_busy_;
  std::list<uint64_t> prefix_lru_;      // block hashes, most recent first
  std::unordered_map<uint64_t, std::list<uint64_t>::iterator> prefix_index_;
  size_t prefix_capacity_ = 0;          // blocks
  int64_t prefix_queries_ = 0, prefix_hits_ = 0, prompt_seen_ = 0, prompt_tokens_ = 0, tokens_predicted_ = 0, max_prompt_ = 0;
};

// Number of output tokens for a request: lognormal around the profile's mean, seeded by the
// content hash so the same prompt gets the same length; capped by max_tokens.
int64_t DrawOutputTokens(double mean, uint64_t content_hash, int64_t max_tokens, bool* truncated);

}  // namespace mec
