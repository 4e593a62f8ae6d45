#pragma once
// A simulation scenario (issue 5): the fleet of clients, their devices and network links, the edge
// sites, the cloud, the workload's use cases, outages and the routing options every policy shares.
// Written in YAML (scenarios/*.yaml; `mixed` is the fixed scenario). Parsed once into
// these typed structs; unknown keys and bad values are errors naming the key and line.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/hints.h"
#include "config/options.h"
#include "cache/model_placement.h"
#include "core/status.h"
#include "emulate/tier_profile.h"

namespace mec::sim {

// One kind of network link (5G, 4G, WiFi): what a client on it sees.
struct LinkSpec {
  std::string name;                  // key in the scenario ("5g", "4g", "wifi")
  LinkType type = LinkType::kUnknown;
  double rtt_edge_ms = 30;           // median round trip to the client's home edge site
  double rtt_cloud_ms = 60;          // median round trip to the cloud region
  double rtt_sigma = 0.4;            // per-attempt RTT ~ lognormal(median, sigma)
  double up_mbps = 20, down_mbps = 100;
  double loss = 0;                   // per-attempt chance of one retransmission timeout
  double rto_ms = 200;               // what that loss costs
};

// A class of client device and the local model it runs (the device tier of its own engine).
struct DeviceClassSpec {
  std::string name;                  // phone, vehicle, iot-gateway, laptop
  double share = 0;                  // of the fleet
  TierProfile profile;               // the local model's tier-model profile
  double watts = 5;                  // power while generating (energy price)
  // Quality of the local model relative to the edge model (tier_quality.h): r = device accuracy /
  // edge accuracy (the device is correct only where the edge is, with probability r), per benchmark.
  std::string quality_model;         // model_quality.csv name, e.g. Llama-3.2-1B-Instruct; "edge": r = 1
  double accuracy_ratio_mmlu = 1, accuracy_ratio_gsm8k = 1, joint_success_share = 0.764;
  std::vector<std::pair<std::string, double>> links;  // link name -> share of this class's clients
  // Mobility (vehicles): handovers (Poisson, mean interval) that delay an attempt in flight, and
  // coverage gaps (alternating covered / uncovered periods, exponential) with no network at all.
  double handover_interval_s = 0;    // 0: none
  double handover_ms_min = 0, handover_ms_max = 0;
  double gap_interval_s = 0;         // mean covered time between gaps; 0: none
  double gap_mean_s = 0;             // mean length of a gap
};

struct EdgeSiteSpec {
  std::string name;
  int gpus = 4;
  TierProfile profile;               // one GPU's tier-model profile (rtt 0: the link adds it)
  double other_site_extra_rtt_ms = 15;  // a client homed at another site pays this much more
  // The model each GPU holds at the start (names from Scenario::edge_models; default: the catalog
  // round-robin over the GPUs) and the same as indexes into the catalog.
  std::vector<std::string> models;
  std::vector<int> model_index;
};

// Which models stay warm on the edge GPUs (cache/model_placement.h) and what loading one costs.
struct PlacementSpec {
  PlacementOptions options;          // options.adaptive false: "static" (loads only on a cold request)
  double cold_start_s = 30;          // a GPU loading another model serves nothing for this long
};

struct UseCaseSpec {
  std::string key;                   // X-MEC-Use-Case key (context/use_cases.h)
  double share = 0;
  double input_tokens = 100;         // means of lognormal(sigma = token_sigma)
  double output_tokens = 50;
  std::vector<std::string> clients;  // device classes that send it
  std::string edge_model;            // the edge model it needs (Scenario::edge_models; default the first)
  int edge_model_index = 0;
};

struct OutageSpec {
  std::string target;                // an edge site's name or "cloud"
  double from = 0, to = 0;           // fractions of the run's expected duration
  double slowdown = 0;               // > 1: not down, this many times slower (a drift); 0: down
};

// The online learning loop (sim/sim_learner.h; the gateway's `learning:` keys, docs/learning.md).
struct LearningSpec {
  bool enabled = false;
  double sample_rate = 0.02;         // share of edge and device answers that get a verdict
  int retrain_every = 50;            // refit after this many new verdicts
  double holdout_share = 0.2;        // verdicts held back to gate a candidate
  int min_samples = 20;              // a tier class needs this many verdicts for a correction
  int word_bits = 16;
};

// A stretch of the run whose arrival rate is `factor` x rate_per_s (`arrival.bursts`).
struct BurstSpec {
  double from_s = 0;
  double to_s = 0;
  double factor = 1;
};

// What the edge sites' serving engines tell the clients (`engine_signals:`; docs/engines.md): when
// enabled, every client's edge backends declare a vLLM engine, and every poll_ms each site's queue
// (waiting and running over its GPUs) is read into the clients' engine boards, which their monitors
// publish with each snapshot, as the gateway's engine poller does. Routing then skips a site past
// max_waiting and predicts with its queue. Off by default.
struct EngineSignalSpec {
  bool enabled = false;
  double poll_ms = 100;
  double stale_ms = 2000;
  double max_waiting = 5;
};

// Prefix caching at the edge (`prefix_cache:`; docs/simulator.md "Prefix reuse"): when enabled,
// every edge GPU's engine caches prompt prefixes (vLLM's automatic prefix caching, bounded by its
// profile's KV capacity), a Mooncake trace's block ids reach the engines and routing, and each
// conversation is one client's (its rows share their second block id). With affinity, each
// client's engine keeps a prefix index (cache/prefix_index.h) of one GPU's KV capacity and routes
// by it; without, it routes as if it knew nothing of prefixes. Off by default.
struct PrefixCacheSpec {
  bool enabled = false;
  bool affinity = true;
};

// Fleet state (`fleet:`; docs/fleet.md, docs/simulator.md "Drift"): when enabled, every
// interval_s a regional gateway's view of each shared backend (the edge sites and the cloud: every
// client's latest latency estimates of it pooled, weighted by the data behind each) is published,
// and every client applies it as its priors, as a client-side gateway's fleet poller does
// (backend/fleet_priors.h). Off by default.
struct FleetSpec {
  bool enabled = false;
  double interval_s = 10;
  double max_weight = 5;
  // The regional gateway's estimators forget half their weight in this time (its
  // backends' `expect.half_life_ms`; a publishing gateway sees the whole region's traffic, so it can afford
  // a shorter memory than a client's).
  double half_life_s = 5;
};

struct Scenario {
  std::string name;
  std::string description;
  std::string source;                // file it came from
  int64_t requests = 100000;
  double rate_per_s = 20;            // Poisson arrivals
  std::vector<BurstSpec> bursts;     // arrival.bursts: stretches at a multiple of the rate
  double token_sigma = 0.6;
  int clients = 1000;
  std::vector<LinkSpec> links;
  std::vector<DeviceClassSpec> device_classes;
  std::vector<EdgeSiteSpec> edge_sites;
  // The models edge GPUs can hold (each an edge-class model: the edge labels give its quality).
  // Default: one model, "edge", on every GPU (no placement to decide).
  std::vector<std::string> edge_models;
  PlacementSpec placement;
  TierProfile cloud;
  double usd_per_kwh = 0.15;
  PriceOptions edge_price;           // per GPU-hour at a throughput
  PriceOptions cloud_price;          // per token
  std::vector<UseCaseSpec> use_cases;
  std::vector<OutageSpec> outages;
  // Shared by every policy.
  TimeoutOptions timeouts;
  // The device backend's, when they differ (`device_timeouts`, keys as `timeouts`, unset ones from
  // it): a device's first byte includes its prefill at CPU speed.
  std::optional<TimeoutOptions> device_timeouts;
  int max_attempts = 3;
  double deadline_target = 0.9;
  double shed_below = 0.5;           // routing.shed_below (route/policy_options.h)
  bool hedge = false;
  double hedge_threshold = 0.5;
  double spread = 0.10;              // routing.spread (route/policy_options.h)
  double publish_interval_ms = 100;  // BackendMonitor::Publish at most this often (per client)
  // The latency priors each client's engine starts from (config `expect:`): "profile" — what the
  // scenario's tier models give for a 200-token prompt over the client's link (an operator who
  // knows the hardware it deploys); "tier-defaults" — config/options.h TierDefaultExpect.
  std::string priors = "profile";
  // Share of answered requests whose user sends POST /v1/feedback (score 1 if the answer is as good
  // as the cloud's, else 0) to its client's engine (learn/quality_feedback.h). 0: none.
  double feedback_rate = 0;
  // How adaptive holds a request's minimum quality (config routing.min_quality_per,
  // learn/quality_budget.h): as its class's running average ("class") or as a floor on every
  // request ("request", the default, as in the gateway); and the class controller's margin.
  bool min_quality_per_request = true;
  double quality_margin = 0.25;
  // Mid-stream continuation (docs/continuation.md): the tiers whose backends can continue an
  // answer another began (routing.continue_tiers; default device and edge: llama.cpp's server and
  // vLLM can, a frontier API generally cannot). Empty: a cut stream fails, as before issue 17.
  std::vector<Tier> continue_tiers = {Tier::kDevice, Tier::kEdge};
  LearningSpec learning;             // `learning:` (default off)
  EngineSignalSpec engine_signals;   // `engine_signals:` (default off)
  PrefixCacheSpec prefix_cache;      // `prefix_cache:` (default off)
  FleetSpec fleet;                   // `fleet:` (default off)

  const LinkSpec* FindLink(std::string_view name) const;
  int DeviceClassIndex(std::string_view name) const;  // -1 if unknown
  // Expected duration of the run (requests / rate), in seconds: outage fractions refer to it.
  double ExpectedDurationS() const { return rate_per_s > 0 ? static_cast<double>(requests) / rate_per_s : 0; }
};

Result<Scenario> ParseScenario(const std::string& yaml, const std::string& source);
Result<Scenario> LoadScenarioFile(const std::string& path);

// The scenario's `routing` block as a gateway's routing options: max_attempts, deadline_target,
// shed_below, hedge, hedge_threshold, spread, min_quality_per and quality_margin. `mecrouter demo` runs its
// gateway with them, so that the live run routes as the simulated clients of the same scenario do.
void ApplyScenarioRouting(const Scenario& s, RoutingOptions& routing);

// A built-in name ("mixed") or a file path -> the scenario file to read: the path itself if it
// exists, else scenarios/NAME.yaml under the working directory, beside the binary (../../scenarios,
// ../scenarios), or the source tree this binary was built from. NotFound lists where it looked.
Result<std::string> FindScenarioFile(const std::string& name_or_path, const std::string& argv0);
// A file shipped in scenarios/ (e.g. fallback_prompts.csv), looked for in the same places.
Result<std::string> FindShippedFile(const std::string& file_name, const std::string& argv0);

}  // namespace mec::sim
