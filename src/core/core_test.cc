#include <gtest/gtest.h>

#include "core/ascii.h"
#include "core/clock.h"
#include "core/host_port.h"
#include "core/json_writer.h"
#include "core/rng.h"
#include "core/status.h"

namespace mec {
namespace {

TEST(JsonWriter, NestsAndEscapes) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("a", "x\"y\n\x01").Key("b").BeginArray().Int(1).Number(0.5).Null().EndArray().Field("c", true).EndObject();
  EXPECT_EQ(out, R"({"a":"x\"y\n\u0001","b":[1,0.5,null],"c":true})");
}

TEST(JsonWriter, NumbersRoundTripShortest) {
  std::string out;
  AppendJsonNumber(out, 0.1);
  out += ' ';
  AppendJsonNumber(out, 1e21);
  out += ' ';
  AppendJsonNumber(out, std::nan(""));
  EXPECT_EQ(out, "0.1 1e+21 null");
}

TEST(Rng, StreamsAreIndependentAndReproducible) {
  Rng a(42, "edge"), b(42, "edge"), c(42, "cloud");
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    EXPECT_NE(x, c.Next());
  }
}

TEST(Rng, UniformAndLognormalMoments) {
  Rng r(7);
  double sum = 0, lsum = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double u = r.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    lsum += r.LognormalWithMean(200, 0.6);
  }
  EXPECT_NEAR(sum / n, 0.5, 0.01);
  EXPECT_NEAR(lsum / n, 200, 4);
}

TEST(ManualClock, AdvancesOnlyWhenTold) {
  ManualClock c;
  auto t0 = c.Now();
  c.Advance(FromMillis(250));
  EXPECT_DOUBLE_EQ(ToMillis(c.Now() - t0), 250.0);
}

TEST(HostPort, ListenPortTakesDigitsFrom0To65535AfterTheLastColon) {
  EXPECT_EQ(ListenPort("127.0.0.1:8080"), 8080);
  EXPECT_EQ(ListenPort("[::1]:0"), 0);
  EXPECT_EQ(ListenPort("localhost:65535"), 65535);
  for (const char* bad : {"127.0.0.1:65536", "127.0.0.1:99999", "h:-1", "h:+80", "h:80x", "h:", "h: 80", "8080", "h:000080"})
    EXPECT_FALSE(ListenPort(bad).has_value()) << bad;
}

TEST(Ascii, LowerAndIEqualsFoldOnlyAToZ) {
  EXPECT_EQ(AsciiLower("Content-TYPE"), "content-type");
  EXPECT_EQ(AsciiLower("\xC3\x89t\xC3\xA9"), "\xC3\x89t\xC3\xA9");  // UTF-8 bytes pass unchanged
  EXPECT_TRUE(AsciiIEquals("X-MEC-Tier", "x-mec-tier"));
  EXPECT_FALSE(AsciiIEquals("x-mec-tie", "x-mec-tier"));
  EXPECT_FALSE(AsciiIEquals("[", "{"));  // '[' is not 'A' + 26
}

TEST(Result, HoldsValueOrError) {
  Result<int> ok = 3;
  Result<int> bad = Status::InvalidArgument("nope");
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "nope");
}

}  // namespace
}  // namespace mec
