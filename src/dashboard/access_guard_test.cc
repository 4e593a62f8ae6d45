#include "dashboard/access_guard.h"

#include <gtest/gtest.h>

namespace mec {
namespace {

TEST(AccessGuard, NoTokenAllowsEverything) {
  AccessGuard open("");
  EXPECT_FALSE(open.enabled());
  for (const char* t : {"/dashboard", "/api/dashboard", "/api/stats", "/admin/fault", "/v1/feedback"})
    EXPECT_TRUE(open.Allows(t, "")) << t;
}

TEST(AccessGuard, TokenProtectsTheOperatorEndpointsOnly) {
  AccessGuard g("s3cret-token");
  EXPECT_TRUE(g.enabled());
  for (const char* t : {"/dashboard", "/dashboard/", "/api/dashboard", "/api/stats", "/api/decisions?n=5", "/admin/fault",
                        "/admin", "/v1/feedback"}) {
    EXPECT_FALSE(g.Allows(t, "")) << t;
    EXPECT_FALSE(g.Allows(t, "Bearer wrong")) << t;
    EXPECT_FALSE(g.Allows(t, "Bearer s3cret-toke")) << t;
    EXPECT_FALSE(g.Allows(t, "Bearer s3cret-tokenX")) << t;
    EXPECT_FALSE(g.Allows(t, "Basic s3cret-token")) << t;
    EXPECT_TRUE(g.Allows(t, "Bearer s3cret-token")) << t;
    EXPECT_TRUE(g.Allows(t, "bearer  s3cret-token ")) << t;
  }
  for (const char* t : {"/v1/chat/completions", "/v1/completions", "/v1/models", "/healthz", "/readyz", "/metrics",
                        "/dashboards", "/apix", "/administrator"})
    EXPECT_TRUE(g.Allows(t, "")) << t;
}

TEST(AccessGuard, QueryTokenOpensThePageButNotItsData) {
  AccessGuard g("a b&c");
  EXPECT_TRUE(g.Allows("/dashboard?token=a%20b%26c", ""));
  EXPECT_TRUE(g.Allows("/dashboard?x=1&token=a+b%26c", ""));
  EXPECT_FALSE(g.Allows("/dashboard?token=a%20b", ""));
  EXPECT_FALSE(g.Allows("/dashboard?tokenx=a%20b%26c", ""));
  EXPECT_FALSE(g.Allows("/api/dashboard?token=a%20b%26c", ""));
  EXPECT_FALSE(g.Allows("/v1/feedback?token=a%20b%26c", ""));
}

TEST(AccessGuard, BearerAndQueryParsing) {
  EXPECT_TRUE(BearerMatches("Bearer abc", "abc"));
  EXPECT_TRUE(BearerMatches("BEARER abc", "abc"));
  EXPECT_FALSE(BearerMatches("Bearer", "abc"));
  EXPECT_FALSE(BearerMatches("Bearerabc", "abc"));
  EXPECT_FALSE(BearerMatches("Bearer ", "abc"));
  EXPECT_FALSE(BearerMatches("Bearer abc", ""));
  EXPECT_EQ(QueryParam("/x?a=1&b=two%2F2&c", "b"), "two/2");
  EXPECT_EQ(QueryParam("/x?a=1&b=2#frag", "b"), "2");
  EXPECT_EQ(QueryParam("/x?a=1", "b"), "");
  EXPECT_EQ(QueryParam("/x", "a"), "");
  EXPECT_EQ(QueryParam("/x?a=%zz", "a"), "%zz");
}

TEST(AccessGuard, LoopbackListenAddresses) {
  EXPECT_TRUE(IsLoopbackListen("127.0.0.1:8080"));
  EXPECT_TRUE(IsLoopbackListen("127.1.2.3:0"));
  EXPECT_TRUE(IsLoopbackListen("localhost:8080"));
  EXPECT_TRUE(IsLoopbackListen("[::1]:8080"));
  EXPECT_FALSE(IsLoopbackListen("0.0.0.0:8080"));
  EXPECT_FALSE(IsLoopbackListen("[::]:8080"));
  EXPECT_FALSE(IsLoopbackListen("10.0.0.5:8080"));
  EXPECT_FALSE(IsLoopbackListen(":8080"));
  EXPECT_FALSE(IsLoopbackListen("128.0.0.1:80"));
}

TEST(AccessGuard, TokenFromEnvironment) {
  auto none = TokenFromEnv("", nullptr);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, "");
  auto set = TokenFromEnv("MEC_TOKEN", "xyz");
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(*set, "xyz");
  auto unset = TokenFromEnv("MEC_TOKEN", nullptr);
  ASSERT_FALSE(unset.ok());
  EXPECT_NE(unset.status().message().find("dashboard.token_env"), std::string::npos);
  EXPECT_NE(unset.status().message().find("MEC_TOKEN"), std::string::npos);
  EXPECT_FALSE(TokenFromEnv("MEC_TOKEN", "").ok());
}

}  // namespace
}  // namespace mec
