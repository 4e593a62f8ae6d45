#include "sim/workload.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "context/learned_complexity_model.h"
#include "sim/data_dir.h"
#include "sim/sim_test_util.h"

namespace mec::sim {
namespace {

TEST(Fleet, ClassSharesAreExactAndLinksFollowTheClass) {
  const Scenario s = testing::MixedScenario();
  const auto fleet = MakeFleet(s, 1);
  ASSERT_EQ(fleet.size(), 1000u);
  std::vector<int> per_class(s.device_classes.size());
  int vehicles_on_5g = 0, laptops_on_wifi = 0, sites[2] = {0, 0};
  for (const auto& c : fleet) {
    ++per_class[c.device_class];
    const auto& cls = s.device_classes[c.device_class];
    if (cls.name == "vehicle") vehicles_on_5g += s.links[c.link].name == "5g";
    if (cls.name == "laptop") laptops_on_wifi += s.links[c.link].name == "wifi";
    ++sites[c.home_site];
  }
  EXPECT_EQ(per_class, (std::vector<int>{350, 200, 250, 200}));
  EXPECT_EQ(vehicles_on_5g, 200);
  EXPECT_EQ(laptops_on_wifi, 200);
  EXPECT_EQ(sites[0], 500);
}

TEST(Workload, SharesRatesAndTokenMeansFollowTheScenario) {
  const Scenario s = testing::MixedScenario();
  const auto fleet = MakeFleet(s, 1);
  const PromptSet prompts = testing::SyntheticPrompts();
  const int n = 50000;
  const auto reqs = MakeWorkload(s, fleet, prompts, n, 1);
  ASSERT_EQ(reqs.size(), static_cast<size_t>(n));
  // Poisson at 20/s: the span is ~n / 20 s.
  EXPECT_NEAR(reqs.back().arrival_s, n / 20.0, 0.02 * n / 20.0);
  for (size_t i = 1; i < reqs.size(); ++i) ASSERT_GE(reqs[i].arrival_s, reqs[i - 1].arrival_s);
  std::vector<int> count(s.use_cases.size());
  std::vector<double> in(s.use_cases.size()), out(s.use_cases.size());
  for (const auto& r : reqs) {
    ++count[r.use_case];
    in[r.use_case] += r.input_tokens;
    out[r.use_case] += r.output_tokens;
    // The use case comes from one of its device classes.
    const auto& cls = s.device_classes[fleet[r.client].device_class].name;
    const auto& allowed = s.use_cases[r.use_case].clients;
    ASSERT_NE(std::find(allowed.begin(), allowed.end(), cls), allowed.end());
  }
  for (size_t u = 0; u < s.use_cases.size(); ++u) {
    EXPECT_NEAR(count[u] / static_cast<double>(n), s.use_cases[u].share, 0.01) << s.use_cases[u].key;
    EXPECT_NEAR(in[u] / count[u], s.use_cases[u].input_tokens, 0.05 * s.use_cases[u].input_tokens) << s.use_cases[u].key;
    if (s.use_cases[u].output_tokens >= 20) {
      EXPECT_NEAR(out[u] / count[u], s.use_cases[u].output_tokens, 0.05 * s.use_cases[u].output_tokens) << s.use_cases[u].key;
    }
  }
}

TEST(Workload, ABurstMultipliesTheRateWithinItsWindowOnly) {
  Scenario s = testing::MixedScenario();
  const auto fleet = MakeFleet(s, 1);
  const PromptSet prompts = testing::SyntheticPrompts();
  const auto plain = MakeWorkload(s, fleet, prompts, 20000, 3);
  s.bursts.push_back({200, 300, 3});
  const auto burst = MakeWorkload(s, fleet, prompts, 20000, 3);
  auto count = [](const std::vector<SimRequest>& r, double from, double to) {
    return std::count_if(r.begin(), r.end(), [&](const SimRequest& q) { return q.arrival_s >= from && q.arrival_s < to; });
  };
  // Before the burst: the very same arrivals.
  for (size_t i = 0; i < plain.size() && plain[i].arrival_s < 200; ++i) ASSERT_EQ(plain[i].arrival_s, burst[i].arrival_s);
  // In it: ~3 x 20/s x 100 s; around it, the plain rate.
  EXPECT_NEAR(count(burst, 200, 300), 6000, 300);
  EXPECT_NEAR(count(plain, 200, 300), 2000, 200);
  EXPECT_NEAR(count(burst, 300, 400), 2000, 200);
}

TEST(Workload, DeviceIsCorrectOnlyWhereTheEdgeIsAtTheCalibratedRate) {
  const Scenario s = testing::MixedScenario();
  const auto fleet = MakeFleet(s, 2);
  const PromptSet prompts = testing::SyntheticPrompts();
  const auto reqs = MakeWorkload(s, fleet, prompts, 60000, 2);
  const int phone = s.DeviceClassIndex("phone");
  int edge_ok = 0, dev_ok = 0;
  for (const auto& r : reqs) {
    const auto& item = prompts.items[r.prompt];
    if (r.device_correct) {
      ASSERT_TRUE(item.edge_correct);
    }
    if (fleet[r.client].device_class != phone || item.gsm8k) continue;
    edge_ok += item.edge_correct;
    dev_ok += r.device_correct;
  }
  EXPECT_NEAR(static_cast<double>(dev_ok) / edge_ok, 49.3 / 69.4, 0.02);
}

TEST(Workload, SameSeedSameRequests) {
  const Scenario s = testing::MixedScenario();
  const PromptSet prompts = testing::SyntheticPrompts();
  const auto f1 = MakeFleet(s, 9), f2 = MakeFleet(s, 9);
  const auto a = MakeWorkload(s, f1, prompts, 1000, 9), b = MakeWorkload(s, f2, prompts, 1000, 9), c = MakeWorkload(s, f1, prompts, 1000, 10);
  int differ = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].arrival_s, b[i].arrival_s);
    ASSERT_EQ(a[i].prompt, b[i].prompt);
    ASSERT_EQ(a[i].input_tokens, b[i].input_tokens);
    differ += a[i].prompt != c[i].prompt;
  }
  EXPECT_GT(differ, 900);
}

TEST(Workload, HeldOutPromptsFromRealData) {
  auto dir = ResolveDataDir("");
  if (!dir) GTEST_SKIP() << "no data directory (--data, MECROUTER_DATA or ../shared/data): skipping the router_eval reader test";
  auto set = LoadHeldOutPrompts(*dir);
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_GT(set->items.size(), 4000u);
  EXPECT_GT(set->skipped_train, 10000u);
  int edge = 0, cloud = 0;
  for (const auto& it : set->items) {
    ASSERT_FALSE(IsComplexityTrainId(it.id)) << it.id;  // never a prompt the shipped model trained on
    ASSERT_FALSE(it.text.empty());
    edge += it.edge_correct;
    cloud += it.cloud_correct;
  }
  // README §2: Mixtral ~68%, GPT-4 ~81% on MMLU (GSM8K 64% / 86%).
  EXPECT_NEAR(static_cast<double>(edge) / set->items.size(), 0.68, 0.03);
  EXPECT_NEAR(static_cast<double>(cloud) / set->items.size(), 0.81, 0.03);
}

}  // namespace
}  // namespace mec::sim

#include "sim/fallback_prompts.h"

namespace mec::sim {
namespace {

// A model whose score is a fixed function of the text, for the fallback's round trip.
class LengthModel final : public ComplexityModel {
 public:
  double WeakAsGoodProbability(std::string_view p) const override { return std::fmod(static_cast<double>(p.size()) / 97.0, 1.0); }
  std::string_view Name() const override { return "length"; }
};

TEST(Fallback, FitWriteParseAndDrawKeepTheJointRates) {
  const PromptSet prompts = testing::SyntheticPrompts(2000);
  LengthModel model;
  const auto cells = FitFallback(prompts, model);
  auto parsed = ParseFallbackCsv(FallbackCsv(cells), "f.csv");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->size(), cells.size());
  int64_t total = 0;
  for (size_t i = 0; i < cells.size(); ++i) {
    EXPECT_EQ((*parsed)[i].both, cells[i].both);
    EXPECT_EQ((*parsed)[i].cloud_only, cells[i].cloud_only);
    total += cells[i].total();
  }
  EXPECT_EQ(total, 2000);
  CachedComplexityModel cache(model);
  const PromptSet fb = FallbackPrompts(*parsed, 20000, 1, cache);
  EXPECT_EQ(fb.mode, "fallback");
  double edge = 0, cloud = 0, e0 = 0, c0 = 0, high_score_edge = 0, high = 0;
  for (const auto& it : prompts.items) {
    e0 += it.edge_correct;
    c0 += it.cloud_correct;
  }
  for (const auto& it : fb.items) {
    edge += it.edge_correct;
    cloud += it.cloud_correct;
    const double s = cache.WeakAsGoodProbability(it.text);  // seeded: the model is not asked
    ASSERT_GE(s, 0);
    ASSERT_LE(s, 1);
    if (s >= 0.5) {
      ++high;
      high_score_edge += it.edge_correct;
    }
  }
  EXPECT_NEAR(edge / fb.items.size(), e0 / prompts.items.size(), 0.015);
  EXPECT_NEAR(cloud / fb.items.size(), c0 / prompts.items.size(), 0.015);
  EXPECT_GT(high, 1000);
  EXPECT_FALSE(ParseFallbackCsv("benchmark,score_lo\nmmlu,x\n", "f.csv").ok());
}

TEST(Fallback, ShippedFileParses) {
  auto f = FindShippedFile("fallback_prompts.csv", "");
  ASSERT_TRUE(f.ok()) << f.status().message();
  std::ifstream in(*f);
  std::stringstream ss;
  ss << in.rdbuf();
  auto cells = ParseFallbackCsv(ss.str(), *f);
  ASSERT_TRUE(cells.ok()) << cells.status().message();
  int64_t total = 0;
  for (const auto& c : *cells) total += c.total();
  EXPECT_GT(total, 4000);  // fitted on the ~4,600 held-out prompts
}

}  // namespace
}  // namespace mec::sim
