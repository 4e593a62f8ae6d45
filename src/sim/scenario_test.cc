#include "sim/scenario.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "context/use_cases.h"
#include "emulate/tier_model.h"
#include "sim/sim_test_util.h"

namespace mec::sim {
namespace {

using testing::MixedScenario;

TEST(Scenario, MixedIsTheIssuesFixedScenario) {
  const Scenario s = MixedScenario();
  EXPECT_EQ(s.name, "mixed");
  EXPECT_EQ(s.requests, 100000);
  EXPECT_EQ(s.clients, 1000);
  EXPECT_DOUBLE_EQ(s.rate_per_s, 20);
  EXPECT_DOUBLE_EQ(s.token_sigma, 0.6);
  ASSERT_EQ(s.use_cases.size(), 9u);
  double share = 0;
  for (const auto& u : s.use_cases) {
    share += u.share;
    EXPECT_NE(FindUseCase(u.key), nullptr) << u.key;  // the engine knows every use case
  }
  EXPECT_NEAR(share, 1.0, 1e-9);
  // Fleet: 35% phones, 20% vehicles, 25% IoT gateways, 20% laptops.
  ASSERT_EQ(s.device_classes.size(), 4u);
  EXPECT_DOUBLE_EQ(s.device_classes[0].share, 0.35);
  EXPECT_DOUBLE_EQ(s.device_classes[1].share, 0.20);
  EXPECT_DOUBLE_EQ(s.device_classes[2].share, 0.25);
  EXPECT_DOUBLE_EQ(s.device_classes[3].share, 0.20);
  // Two edge sites with 4 GPUs each; the cloud limited to 50 requests/s.
  ASSERT_EQ(s.edge_sites.size(), 2u);
  for (const auto& e : s.edge_sites) EXPECT_EQ(e.gpus, 4);
  EXPECT_DOUBLE_EQ(s.cloud.rate_limit_rps, 50);
  // Outages: one edge site from 30% to 40%, the cloud from 60% to 63%.
  ASSERT_EQ(s.outages.size(), 2u);
  EXPECT_EQ(s.outages[0].target, "edge-a");
  EXPECT_DOUBLE_EQ(s.outages[0].from, 0.30);
  EXPECT_DOUBLE_EQ(s.outages[0].to, 0.40);
  EXPECT_EQ(s.outages[1].target, "cloud");
  EXPECT_DOUBLE_EQ(s.outages[1].from, 0.60);
  EXPECT_DOUBLE_EQ(s.outages[1].to, 0.63);
}

// Each device model against its calibration rows (tier_calibration.csv, header = row 1).
double TtftSeconds(const TierProfile& p, int64_t input_tokens) {
  TierProfile q = p;
  q.ttft_jitter_sigma = 0;
  TierModel m(q, Rng(1), TimePoint{});
  WorkItem w;
  w.ticket = 1;
  w.input_tokens = input_tokens;
  w.output_tokens = 10;
  ServicePlan plan;
  EXPECT_EQ(m.Arrive(TimePoint{}, w, &plan), Admission::kStarted);
  return ToSeconds(plan.ttft);
}

TEST(Scenario, DeviceModelsMatchTheirCalibrationRows) {
  const Scenario s = MixedScenario();
  const auto& phone = s.device_classes[s.DeviceClassIndex("phone")].profile;
  EXPECT_NEAR(TtftSeconds(phone, 64), 0.3, 1e-6);            // row 7
  EXPECT_DOUBLE_EQ(phone.decode_tokens_per_s, 50.2);          // row 5
  EXPECT_DOUBLE_EQ(phone.prefill_tokens_per_s, 260.5);        // row 6
  const auto& vehicle = s.device_classes[s.DeviceClassIndex("vehicle")].profile;
  EXPECT_NEAR(TtftSeconds(vehicle, 64), 0.7, 0.02);           // row 13 (0.71 from row 12's prefill)
  EXPECT_DOUBLE_EQ(vehicle.decode_tokens_per_s, 19.7);        // row 11
  const auto& laptop = s.device_classes[s.DeviceClassIndex("laptop")].profile;
  EXPECT_NEAR(TtftSeconds(laptop, 512), 0.905, 0.005);        // row 22
  EXPECT_DOUBLE_EQ(laptop.decode_tokens_per_s, 50.6);         // row 21
  // Device quality: r = 49.3 / 69.4 for the 1B model (model_quality.csv via tier_quality.h).
  EXPECT_NEAR(s.device_classes[s.DeviceClassIndex("phone")].accuracy_ratio_mmlu, 49.3 / 69.4, 0.002);
  EXPECT_NEAR(s.device_classes[s.DeviceClassIndex("vehicle")].accuracy_ratio_mmlu, 63.4 / 69.4, 0.002);
  EXPECT_DOUBLE_EQ(s.device_classes[s.DeviceClassIndex("laptop")].accuracy_ratio_mmlu, 1.0);
}

TEST(Scenario, EdgeGpuBatchingMatchesRows28And29) {
  const Scenario s = MixedScenario();
  TierProfile p = s.edge_sites[0].profile;
  p.ttft_jitter_sigma = 0;
  TierModel m(p, Rng(1), TimePoint{});
  ServicePlan plan;
  for (int i = 0; i < 8; ++i) {
    WorkItem w;
    w.ticket = static_cast<uint64_t>(i + 1);
    w.input_tokens = 100;
    w.output_tokens = 100;
    ASSERT_EQ(m.Arrive(TimePoint{}, w, &plan), Admission::kStarted);
  }
  // The 8th stream: per-stream speed 6.6 / 8 of a single stream's 75 tok/s.
  EXPECT_NEAR(1.0 / ToSeconds(plan.per_token), 75.0 * 6.6 / 8.0, 0.01);
  WorkItem w9;
  w9.ticket = 9;
  EXPECT_EQ(m.Arrive(TimePoint{}, w9, &plan), Admission::kQueued);  // 8 slots per GPU
}

TEST(Scenario, ErrorsNameKeyAndLine) {
  auto bad = ParseScenario("name: x\nrequests: 10\nbogus: 1\n", "t.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("t.yaml:3"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("bogus"), std::string::npos);
  auto range = ParseScenario("name: x\nrequests: -5\n", "t.yaml");
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.status().message().find("requests"), std::string::npos);
  auto missing = ParseScenario("name: x\n", "t.yaml");
  EXPECT_FALSE(missing.ok());
}

TEST(Scenario, FindsBuiltinNamesAndFiles) {
  auto f = FindScenarioFile("mixed", "");
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_TRUE(std::filesystem::is_regular_file(*f));
  EXPECT_FALSE(FindScenarioFile("no-such-scenario", "").ok());
}

}  // namespace
}  // namespace mec::sim

namespace mec::sim {
namespace {

TEST(Scenario, CloudModelMatchesRows37And38AndLimitsTo50PerSecond) {
  const Scenario s = testing::MixedScenario();
  TierProfile p = s.cloud;
  p.ttft_jitter_sigma = 0;
  p.rtt_ms = 100;  // row 38 is measured by a remote client: 0.1 s of network (row 57's default)
  // Row 38: TTFT 0.45 s (for a ~1,000-token prompt, the profile's ASSUMPTION); row 37: 131 tok/s.
  EXPECT_NEAR(TtftSeconds(p, 1000), 0.45, 1e-6);
  EXPECT_DOUBLE_EQ(p.decode_tokens_per_s, 131);
  // The issue's rate limit: a burst of 50 requests passes, the 51st in the same instant gets 429.
  TierModel m(s.cloud, Rng(1), TimePoint{});
  ServicePlan plan;
  int started = 0, limited = 0;
  for (int i = 0; i < 60; ++i) {
    WorkItem w;
    w.ticket = static_cast<uint64_t>(i + 1);
    const Admission a = m.Arrive(TimePoint{} + FromSeconds(1), w, &plan);
    started += a == Admission::kStarted;
    limited += a == Admission::kRateLimited;
  }
  EXPECT_EQ(started, 50);
  EXPECT_EQ(limited, 10);
  // Prices: rows 45-46.
  EXPECT_DOUBLE_EQ(s.cloud_price.input_per_1m, 2.50);
  EXPECT_DOUBLE_EQ(s.cloud_price.output_per_1m, 10.00);
}

}  // namespace
}  // namespace mec::sim

namespace mec::sim {
namespace {

TEST(Scenario, EveryShippedScenarioParses) {
  namespace fs = std::filesystem;
  int n = 0;
  for (const auto& e : fs::directory_iterator(testing::SourceDir() + "/scenarios")) {
    if (e.path().extension() != ".yaml") continue;
    auto s = LoadScenarioFile(e.path().string());
    EXPECT_TRUE(s.ok()) << e.path() << ": " << s.status().message();
    ++n;
  }
  EXPECT_GE(n, 2);
}

}  // namespace
}  // namespace mec::sim

namespace mec::sim {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(Scenario, EdgeModelsAndPlacementAreCheckedAndResolved) {
  const std::string mixed = ReadAll(testing::SourceDir() + "/scenarios/mixed.yaml");
  auto s = ParseScenario(mixed, "mixed.yaml");
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->edge_models.size(), 3u);
  EXPECT_TRUE(s->placement.options.adaptive);
  EXPECT_DOUBLE_EQ(s->placement.cold_start_s, 30);
  for (const auto& site : s->edge_sites) EXPECT_EQ(static_cast<int>(site.model_index.size()), site.gpus);
  for (const auto& u : s->use_cases) EXPECT_EQ(s->edge_models[static_cast<size_t>(u.edge_model_index)], u.edge_model) << u.key;
  auto with = [&](const std::string& from, const std::string& to) {
    std::string y = mixed;
    const size_t at = y.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return ParseScenario(y.replace(at, from.size(), to), "m.yaml");
  };
  auto unknown = with("edge_model: game-8b}", "edge_model: nope}");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("nope"), std::string::npos) << unknown.status().message();
  auto count = with("models: [city-8b, city-8b, game-8b, drive-8b]", "models: [city-8b]");
  ASSERT_FALSE(count.ok());
  EXPECT_NE(count.status().message().find("one per GPU"), std::string::npos) << count.status().message();
  auto policy = with("policy: demand", "policy: sometimes");
  ASSERT_FALSE(policy.ok());
  EXPECT_NE(policy.status().message().find("placement.policy"), std::string::npos) << policy.status().message();
  // Without a catalog: one model, "edge", on every GPU.
  auto plain = ParseScenario(ReadAll(testing::SourceDir() + "/scenarios/highway.yaml"), "h.yaml");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(plain->edge_models, std::vector<std::string>{"edge"});
  for (const auto& site : plain->edge_sites) EXPECT_EQ(site.model_index, std::vector<int>(static_cast<size_t>(site.gpus), 0));
}

TEST(Scenario, LearningIsOffByDefaultAndItsKeysAreChecked) {
  const std::string mixed = ReadAll(testing::SourceDir() + "/scenarios/mixed.yaml");
  auto s = ParseScenario(mixed, "mixed.yaml");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_FALSE(s->learning.enabled);
  auto on = ParseScenario(mixed + "\nlearning: {enabled: true, sample_rate: 0.05, retrain_every: 80, holdout_share: 0.3, min_samples: 30, word_bits: 12}\n", "m.yaml");
  ASSERT_TRUE(on.ok()) << on.status().message();
  EXPECT_TRUE(on->learning.enabled);
  EXPECT_DOUBLE_EQ(on->learning.sample_rate, 0.05);
  EXPECT_EQ(on->learning.retrain_every, 80);
  EXPECT_DOUBLE_EQ(on->learning.holdout_share, 0.3);
  EXPECT_EQ(on->learning.min_samples, 30);
  EXPECT_EQ(on->learning.word_bits, 12);
  for (const char* bad : {"{sample_rate: 2}", "{enabled: maybe}", "{word_bits: 30}", "{rate: 0.1}"}) {
    auto b = ParseScenario(mixed + "\nlearning: " + bad + "\n", "m.yaml");
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.status().message().find("learning."), std::string::npos) << b.status().message();
  }
}

TEST(Scenario, FleetAndSlowdownsAreOffByDefaultAndChecked) {
  const std::string mixed = ReadAll(testing::SourceDir() + "/scenarios/mixed.yaml");
  auto s = ParseScenario(mixed, "mixed.yaml");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_FALSE(s->fleet.enabled);
  for (const auto& o : s->outages) EXPECT_EQ(o.slowdown, 0) << o.target;
  auto drift = ParseScenario(ReadAll(testing::SourceDir() + "/scenarios/drift.yaml"), "drift.yaml");
  ASSERT_TRUE(drift.ok()) << drift.status().message();
  EXPECT_TRUE(drift->fleet.enabled);
  EXPECT_DOUBLE_EQ(drift->fleet.interval_s, 10);
  EXPECT_DOUBLE_EQ(drift->fleet.half_life_s, 1);
  EXPECT_DOUBLE_EQ(s->fleet.half_life_s, 5);  // the default: a client's
  EXPECT_DOUBLE_EQ(s->spread, 0.10);
  EXPECT_FALSE(ParseScenario(mixed + "\nfleet: {enabled: true, half_life_s: 0}\n", "m.yaml").ok());
  ASSERT_EQ(drift->outages.size(), 1u);
  EXPECT_EQ(drift->outages[0].target, "edge-a");
  EXPECT_DOUBLE_EQ(drift->outages[0].slowdown, 2);
  auto bad = ParseScenario(mixed + "\nfleet: {enabled: true, interval_s: 0}\n", "m.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("fleet.interval_s"), std::string::npos) << bad.status().message();
  std::string text = mixed;
  const std::string outage = "{target: edge-a, from: 0.30, to: 0.40}";
  text.replace(text.find(outage), outage.size(), "{target: edge-a, from: 0.30, to: 0.40, slowdown: 0.5}");
  EXPECT_FALSE(ParseScenario(text, "m.yaml").ok()) << "a slowdown below 1 is a speed-up";
}

TEST(Scenario, PrefixCacheIsOffByDefaultAndChecked) {
  const std::string mixed = ReadAll(testing::SourceDir() + "/scenarios/mixed.yaml");
  auto s = ParseScenario(mixed, "mixed.yaml");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_FALSE(s->prefix_cache.enabled);
  auto prefix = ParseScenario(ReadAll(testing::SourceDir() + "/scenarios/prefix.yaml"), "prefix.yaml");
  ASSERT_TRUE(prefix.ok()) << prefix.status().message();
  EXPECT_TRUE(prefix->prefix_cache.enabled);
  EXPECT_TRUE(prefix->prefix_cache.affinity);
  EXPECT_FALSE(prefix->hedge);
  ASSERT_EQ(prefix->edge_sites.size(), 4u);
  for (const auto& e : prefix->edge_sites) EXPECT_EQ(e.profile.kv_capacity_tokens, 147456) << e.name;
  auto off = ParseScenario(mixed + "\nprefix_cache: {enabled: true, affinity: false}\n", "m.yaml");
  ASSERT_TRUE(off.ok()) << off.status().message();
  EXPECT_FALSE(off->prefix_cache.affinity);
  auto bad = ParseScenario(mixed + "\nprefix_cache: {enabled: sometimes}\n", "m.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("prefix_cache.enabled: true or false"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(ParseScenario(mixed + "\nprefix_cache: {size: 3}\n", "m.yaml").ok());
}

TEST(Scenario, BurstsAndEngineSignalsAreOffByDefaultAndChecked) {
  const std::string mixed = ReadAll(testing::SourceDir() + "/scenarios/mixed.yaml");
  auto s = ParseScenario(mixed, "mixed.yaml");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_TRUE(s->bursts.empty());
  EXPECT_FALSE(s->engine_signals.enabled);
  auto burst = ParseScenario(ReadAll(testing::SourceDir() + "/scenarios/burst.yaml"), "burst.yaml");
  ASSERT_TRUE(burst.ok()) << burst.status().message();
  ASSERT_EQ(burst->bursts.size(), 1u);
  EXPECT_DOUBLE_EQ(burst->bursts[0].from_s, 240);
  EXPECT_DOUBLE_EQ(burst->bursts[0].to_s, 300);
  EXPECT_DOUBLE_EQ(burst->bursts[0].factor, 3);
  EXPECT_TRUE(burst->engine_signals.enabled);
  EXPECT_DOUBLE_EQ(burst->engine_signals.poll_ms, 100);
  EXPECT_DOUBLE_EQ(burst->engine_signals.max_waiting, 5);
  std::string text = mixed;
  const std::string arrival = "arrival: {process: poisson, rate_per_s: 20}";
  text.replace(text.find(arrival), arrival.size(), "arrival: {process: poisson, rate_per_s: 20, bursts: [{from_s: 9, to_s: 3, factor: 2}]}");
  auto bad = ParseScenario(text, "m.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("to_s must be after from_s"), std::string::npos) << bad.status().message();
  auto bad_signals = ParseScenario(mixed + "\nengine_signals: {enabled: yes-please}\n", "m.yaml");
  ASSERT_FALSE(bad_signals.ok());
  EXPECT_NE(bad_signals.status().message().find("engine_signals.enabled"), std::string::npos);
}

}  // namespace
}  // namespace mec::sim
