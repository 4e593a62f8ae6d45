#include "route/stable_order.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <utility>
#include <vector>

#include "core/rng.h"

namespace mec {
namespace {

// Both orders equal std::stable_sort's, for every size across the plain-insertion (24) and
// binary-insertion (64) limits and past them, with keys with many ties (pair keys too).
TEST(StableOrder, EqualsStableSort) {
  Rng rng(11, "stable-order");
  for (int n = 0; n <= 70; ++n) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<std::pair<int, double>> keys(n);
      for (auto& k : keys) k = {static_cast<int>(rng.Uniform() * 2), static_cast<double>(static_cast<int>(rng.Uniform() * 5))};
      auto key_of = [&](int i) { return keys[i]; };
      std::vector<int> want(n);
      std::iota(want.begin(), want.end(), 0);
      std::reverse(want.begin(), want.end());  // not already in id order
      std::vector<int> a = want, b = want;
      std::stable_sort(want.begin(), want.end(), [&](int x, int y) { return key_of(x) < key_of(y); });
      StableOrderByKey(a.begin(), a.end(), key_of);
      StableOrder(b.begin(), b.end(), [&](int x, int y) { return key_of(x) < key_of(y); });
      ASSERT_EQ(a, want) << n;
      ASSERT_EQ(b, want) << n;
    }
  }
}

// StablePartition keeps each part in its order, as std::stable_partition does, below and above
// its 64-item buffer.
TEST(StablePartition, EqualsStdStablePartition) {
  Rng rng(12, "stable-partition");
  for (int n = 0; n <= 70; ++n) {
    for (int trial = 0; trial < 10; ++trial) {
      std::vector<int> v(n);
      for (auto& x : v) x = static_cast<int>(rng.Uniform() * 100);
      auto odd = [](int x) { return x % 2 == 1; };
      std::vector<int> want = v;
      const auto want_mid = std::stable_partition(want.begin(), want.end(), odd) - want.begin();
      const auto mid = StablePartition(v.begin(), v.end(), odd) - v.begin();
      ASSERT_EQ(v, want) << n;
      ASSERT_EQ(mid, want_mid) << n;
    }
  }
}

}  // namespace
}  // namespace mec
