#include "route/reason_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/rng.h"

namespace mec {
namespace {

std::string Fixed(double v, int decimals) {
  std::string s = "x";
  AppendFixed(s, v, decimals);
  return s.substr(1);
}

// Byte for byte what fmt writes: random values over many magnitudes, exact ties (k/8, k/2^20),
// signed zeros, the extremes, infinities and NaN; then near-ties.
TEST(ReasonText, FixedEqualsFmt) {
  Rng rng(5, "reason-text");
  auto check = [](double v) {
    ASSERT_EQ(Fixed(v, 0), fmt::format("{:.0f}", v)) << v;
    ASSERT_EQ(Fixed(v, 2), fmt::format("{:.2f}", v)) << v;
    ASSERT_EQ(Fixed(v, 6), fmt::format("{:.6f}", v)) << v;
  };
  for (int i = 0; i < 100000; ++i) {
    check(rng.Uniform());
    check(-rng.Uniform());
    check(std::exp(rng.Uniform(-25, 25)));
  }
  for (int k = -3000; k <= 3000; ++k)
    for (double d : {2.0, 8.0, 16.0, 1024.0, 1048576.0, 16777216.0}) check(k / d);
  for (double v : {0.0, -0.0, 0.005, 0.015, 0.125, 2.5, 1e300, -1e300, std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()})
    check(v);
  // Around the ties of the fast path (k/2 * 10^-d, one ulp either side), where the one
  // multiplication it makes could round the other way: there it must give way to to_chars.
  for (int k = -4000; k <= 4000; ++k)
    for (double scale : {1.0, 100.0, 1e6}) {
      const double tie = (k + 0.5) / scale;
      for (double v : {tie, std::nextafter(tie, 1e300), std::nextafter(tie, -1e300)}) check(v);
    }
}

// Byte for byte fmt's "{}": whole numbers on the integer path (up to and past its 10^15 bound),
// fractions, signed zeros, negatives, huge and odd values through fmt.
TEST(ReasonText, ShortestEqualsFmt) {
  Rng rng(6, "reason-text-shortest");
  auto check = [](double v) {
    std::string s = "x";
    AppendShortest(s, v);
    ASSERT_EQ(s.substr(1), fmt::format("{}", v)) << v;
  };
  for (int i = 0; i <= 100000; ++i) check(i);
  for (int i = 0; i < 100000; ++i) {
    check(std::floor(std::exp(rng.Uniform(0, 36))));
    check(rng.Uniform(0, 1000));
    check(-std::floor(rng.Uniform(0, 1e6)));
  }
  for (double v : {0.0, -0.0, 0.5, 150.0, 150.5, 999999999999999.0, 1e15, 1e15 + 2, 1e16, 1e21, 1e300,
                   std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()})
    check(v);
}

}  // namespace
}  // namespace mec
