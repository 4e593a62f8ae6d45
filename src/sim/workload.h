#pragma once
// What the simulated fleet asks: the clients (device class, link, home edge site), the labelled
// prompts requests carry, and the request stream (arrival, client, use case, prompt, true token
// counts). Generated once per (scenario, seed) and shared by every policy's run, so policies are
// compared on exactly the same requests.

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "sim/scenario.h"

namespace mec::sim {

// A prompt with the real correctness of the edge-class (Mixtral-8x7B) and cloud-class (GPT-4)
// models on it (../shared/data/router_eval).
struct LabelledPromptItem {
  std::string id;
  std::string text;
  bool edge_correct = false;
  bool cloud_correct = false;
  bool gsm8k = false;
};

struct PromptSet {
  std::vector<LabelledPromptItem> items;
  std::string mode;            // "data" (router_eval) or "synthetic" (tests)
  size_t skipped_train = 0;    // ids the shipped complexity model was trained on (never used)
  size_t skipped_contaminated = 0;
};

// The held-out prompts of router_eval under `data_dir` (router_eval/routellm_*): only ids for which
// IsComplexityTrainId() is false, contaminated rows dropped, in file order.
Result<PromptSet> LoadHeldOutPrompts(const std::string& data_dir);

struct ClientSpec {
  uint16_t device_class = 0;   // index into Scenario::device_classes
  uint16_t link = 0;           // index into Scenario::links
  uint16_t home_site = 0;      // index into Scenario::edge_sites
};

// Classes are assigned by exact shares in order (client i's class from (i + 0.5) / clients), links
// by each class's shares from the stream (seed, "fleet/links"), home sites round-robin.
std::vector<ClientSpec> MakeFleet(const Scenario& s, uint64_t seed);

struct SimRequest {
  double arrival_s = 0;
  uint32_t client = 0;
  uint16_t use_case = 0;       // index into Scenario::use_cases
  uint32_t prompt = 0;         // index into PromptSet::items
  int32_t input_tokens = 1;    // true counts (lognormal around the use case's means)
  int32_t output_tokens = 1;
  bool device_correct = false; // the client's local model answers correctly (only where the edge does)
  // A trace's prompt blocks (TraceRow::blocks, 512 tokens each); kept only with prefix_cache.
  std::vector<uint64_t> blocks;
};

// `count` requests: Poisson arrivals at the scenario's rate, use case by share, a client of the
// use case's device classes uniformly, a prompt uniformly; each draw from its own stream.
// REQUIRES: prompts non-empty; every use case has at least one client in `fleet`.
std::vector<SimRequest> MakeWorkload(const Scenario& s, const std::vector<ClientSpec>& fleet, const PromptSet& prompts,
                                     int64_t count, uint64_t seed);

// The same from a trace (sim/trace_reader.h): arrival times and token counts from its rows (at most
// `count` of them; tokens at least 1), use case, client and prompt drawn as above. With
// prefix_cache enabled, a row's blocks are kept and a row with two or more blocks goes to the
// client its second block names (one conversation, one client; the draw is still made).
struct TraceRow;
std::vector<SimRequest> MakeWorkloadFromTrace(const Scenario& s, const std::vector<ClientSpec>& fleet, const PromptSet& prompts,
                                              const std::vector<TraceRow>& trace, int64_t count, uint64_t seed);

}  // namespace mec::sim
