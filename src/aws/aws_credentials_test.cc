#include "aws/aws_credentials.h"

#include <map>

#include <gtest/gtest.h>

#include "aws/blocking_http.h"
#include "aws/fake_s3_server.h"
#include "aws/s3_put.h"

namespace mec::aws {
namespace {

EnvLookup Env(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(AwsCredentials, ParsesTheContainerAnswer) {
  auto c = ParseContainerCredentials(
      R"({"RoleArn":"arn:aws:iam::1:role/x","AccessKeyId":"ASIA1","SecretAccessKey":"s","Token":"t","Expiration":"2016-02-25T06:03:31Z"})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->access_key_id, "ASIA1");
  EXPECT_EQ(c->secret_access_key, "s");
  EXPECT_EQ(c->session_token, "t");
  EXPECT_EQ(c->expires_unix, 1456380211);
  EXPECT_FALSE(ParseContainerCredentials("{}").ok());
  EXPECT_FALSE(ParseContainerCredentials("not json").ok());
  auto err = ParseContainerCredentials(R"({"code":"AccessDenied","message":"no role"})");
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.status().message().find("AccessDenied: no role"), std::string::npos);
}

TEST(AwsCredentials, Iso8601) {
  EXPECT_EQ(*ParseIso8601("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseIso8601("2013-05-24T00:00:00.123Z"), 1369353600);
  EXPECT_EQ(*ParseIso8601("2013-05-24T02:00:00+02:00"), 1369353600);
  EXPECT_FALSE(ParseIso8601("2013-05-24").ok());
  EXPECT_FALSE(ParseIso8601("2013-05-24T00:00:00").ok());
}

TEST(AwsCredentials, EnvironmentFirst) {
  CredentialChain chain(Env({{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "S"}, {"AWS_SESSION_TOKEN", "T"},
                             {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}}),
                        1000);
  auto c = chain.Get(0);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKID");
  EXPECT_EQ(c->session_token, "T");
  EXPECT_EQ(chain.Describe(), "environment (AWS_ACCESS_KEY_ID)");
  CredentialChain ecs(Env({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}}), 1000);
  EXPECT_EQ(ecs.Describe(), "container endpoint http://169.254.170.2/v2/credentials/x");
  CredentialChain none(Env({}), 1000);
  EXPECT_FALSE(none.Get(0).ok());
  CredentialChain remote(Env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.0.0.1/creds"}}), 1000);
  EXPECT_FALSE(remote.Get(0).ok());  // plain http only to loopback or the ECS / EKS addresses
}

TEST(AwsCredentials, RefreshedBeforeExpiration) {
  testing_util::FakeS3Server s;
  s.creds_json = R"({"AccessKeyId":"A","SecretAccessKey":"S","Token":"T","Expiration":"2026-12-06T05:00:00Z"})";
  const int64_t expires = *ParseIso8601("2026-12-06T05:00:00Z");
  CredentialChain chain(Env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", s.url() + "/creds"}}), 2000);
  ASSERT_TRUE(chain.Get(expires - 3600).ok());
  ASSERT_TRUE(chain.Get(expires - 1800).ok());
  EXPECT_EQ(s.creds_fetches(), 1);
  ASSERT_TRUE(chain.Get(expires - 200).ok());  // within 5 minutes: fetched again
  EXPECT_EQ(s.creds_fetches(), 2);
  s.auth_token = "secret";  // now refused (401)
  auto refused = chain.Get(expires - 100);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("HTTP 401"), std::string::npos) << refused.status().message();
}

TEST(S3Put, UrlsAndRequests) {
  auto loc = ParseS3Url("s3://mecrouter-exports/decisions");
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(loc->bucket, "mecrouter-exports");
  EXPECT_EQ(loc->prefix, "decisions/");
  EXPECT_EQ(ParseS3Url("s3://b")->prefix, "");
  EXPECT_FALSE(ParseS3Url("https://b/x").ok());
  EXPECT_FALSE(ParseS3Url("s3://Upper/x").ok());

  AwsCredentials c{"AKID", "S", "TOKEN", 0};
  auto x = BuildS3Put(S3Target{"eu-west-1", "", 1000}, "bkt", "decisions/h/1.jsonl", "{}\n", "application/x-ndjson", c, 1369353600);
  ASSERT_TRUE(x.ok());
  EXPECT_TRUE(x->url.tls);
  EXPECT_EQ(HostHeader(x->url), "bkt.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(x->url.target, "/decisions/h/1.jsonl");
  std::map<std::string, std::string> h(x->headers.begin(), x->headers.end());
  EXPECT_EQ(h["x-amz-date"], "20130524T000000Z");
  EXPECT_EQ(h["x-amz-security-token"], "TOKEN");
  EXPECT_EQ(h["x-amz-content-sha256"], Sha256Hex("{}\n"));
  EXPECT_NE(h["Authorization"].find("Credential=AKID/20130524/eu-west-1/s3/aws4_request,SignedHeaders=content-type;host;x-amz-content-sha256;"
                                    "x-amz-date;x-amz-security-token,"),
            std::string::npos)
      << h["Authorization"];

  auto p = BuildS3Put(S3Target{"us-east-1", "http://127.0.0.1:9000/base/", 1000}, "bkt", "k 1", "", "", c, 0);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->url.tls);
  EXPECT_EQ(HostHeader(p->url), "127.0.0.1:9000");
  EXPECT_EQ(p->url.target, "/base/bkt/k%201");
}

TEST(BlockingHttp, ParsesUrls) {
  auto u = ParseHttpUrl("http://169.254.170.2/v2/credentials/abc");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "169.254.170.2");
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/v2/credentials/abc");
  u = ParseHttpUrl("https://[::1]:8443");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(HostHeader(*u), "[::1]:8443");
  EXPECT_FALSE(ParseHttpUrl("ftp://x").ok());
  EXPECT_FALSE(ParseHttpUrl("http://x:0/").ok());
  EXPECT_FALSE(ParseHttpUrl("http:///x").ok());
}

}  // namespace
}  // namespace mec::aws
