#include "context/live_complexity_model.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace mec {
namespace {

class Constant : public ComplexityModel {
 public:
  Constant(double p, std::string name) : p_(p), name_(std::move(name)) {}
  double WeakAsGoodProbability(std::string_view) const override { return p_; }
  std::string_view Name() const override { return name_; }

 private:
  double p_;
  std::string name_;
};

TEST(LiveComplexityModel, SwapsAtomicallyAndKeepsNamesValid) {
  LiveComplexityModel live(std::make_shared<Constant>(0.5, "base"));
  const std::string_view first = live.Name();
  EXPECT_EQ(first, "base");
  EXPECT_DOUBLE_EQ(live.WeakAsGoodProbability("x"), 0.5);
  std::shared_ptr<const ComplexityModel> held = live.Current();
  EXPECT_EQ(live.Swap(std::make_shared<Constant>(0.9, "base+judged.v1")), 1);
  EXPECT_DOUBLE_EQ(live.WeakAsGoodProbability("x"), 0.9);
  EXPECT_EQ(live.Name(), "base+judged.v1");
  EXPECT_EQ(first, "base");                              // an old view still reads
  EXPECT_DOUBLE_EQ(held->WeakAsGoodProbability("x"), 0.5);  // a request mid-way keeps its model
  EXPECT_EQ(live.Swap(nullptr), 1);                      // null is ignored
  // Readers and a writer at once (run under the sanitizers).
  std::vector<std::thread> t;
  for (int i = 0; i < 4; ++i)
    t.emplace_back([&] {
      for (int k = 0; k < 2000; ++k) {
        const double p = live.WeakAsGoodProbability("x");
        EXPECT_TRUE(p == 0.9 || p == 0.1);
        EXPECT_FALSE(live.Name().empty());
      }
    });
  for (int k = 0; k < 200; ++k) live.Swap(std::make_shared<Constant>(k % 2 ? 0.9 : 0.1, "v" + std::to_string(k)));
  for (auto& th : t) th.join();
  EXPECT_EQ(live.swaps(), 201);
}

}  // namespace
}  // namespace mec
