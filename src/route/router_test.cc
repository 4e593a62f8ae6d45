#include <gtest/gtest.h>

#include "route/preference_router.h"

namespace mec {
namespace {

std::vector<BackendOptions> Backends() {
  auto mk = [](std::string name, Tier t, std::vector<std::string> models) {
    BackendOptions b;
    b.name = std::move(name);
    b.tier = t;
    b.url = "http://127.0.0.1:1/v1";
    b.models = std::move(models);
    return b;
  };
  auto v = std::vector<BackendOptions>{mk("dev", Tier::kDevice, {"small"}), mk("edge-a", Tier::kEdge, {"mid"}),
                                       mk("edge-b", Tier::kEdge, {"mid"}), mk("cloud", Tier::kCloud, {"big"})};
  v[3].tools = true;
  v[3].embedding_models = {"embed"};
  v[0].context_window = 100;
  return v;
}

TEST(PreferenceRouter, AutoFollowsTierOrder) {
  BackendPool pool(Backends());
  PreferenceRouter r({Tier::kEdge, Tier::kCloud, Tier::kDevice});
  auto d = r.Decide({Endpoint::kChatCompletions, "auto"}, pool);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->chain, (std::vector<int>{1, 2, 3, 0}));
}

TEST(PreferenceRouter, PinsTierAndModel) {
  BackendPool pool(Backends());
  PreferenceRouter r({Tier::kEdge});
  EXPECT_EQ(r.Decide({Endpoint::kChatCompletions, "device"}, pool)->chain, (std::vector<int>{0}));
  EXPECT_EQ(r.Decide({Endpoint::kChatCompletions, "mid"}, pool)->chain, (std::vector<int>{1, 2}));
  EXPECT_EQ(r.Decide({Endpoint::kChatCompletions, "nope"}, pool).status().code(), StatusCode::kNotFound);
}

TEST(PreferenceRouter, HardFilters) {
  BackendPool pool(Backends());
  PreferenceRouter r({Tier::kDevice, Tier::kEdge, Tier::kCloud});
  RouteRequest tools{Endpoint::kChatCompletions, "auto", true};
  EXPECT_EQ(r.Decide(tools, pool)->chain, (std::vector<int>{3}));
  RouteRequest longreq{Endpoint::kChatCompletions, "device"};
  longreq.estimated_input_tokens = 500;
  auto d = r.Decide(longreq, pool);
  EXPECT_EQ(d.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(d.status().message().find("context window"), std::string::npos);
  EXPECT_EQ(r.Decide({Endpoint::kEmbeddings, "auto"}, pool)->chain, (std::vector<int>{3}));
}

}  // namespace
}  // namespace mec
