// SignV4 against AWS's published examples: "Examples: Signature Calculations" (GET Object, PUT
// Object) in https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html.
// Every input (key, secret, region, date, headers, body) and every expected output below is the
// page's own.
#include "aws/sigv4.h"

#include <gtest/gtest.h>

namespace mec::aws {
namespace {

const SigV4Key kExampleKey{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3"};
constexpr const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(SigV4, AwsExampleGetObject) {
  SigV4Request r;
  r.method = "GET";
  r.path = "/test.txt";
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Range", "bytes=0-9"},
               {"x-amz-content-sha256", kEmptySha256},
               {"x-amz-date", "20130524T000000Z"}};
  r.payload_sha256 = Sha256Hex("");
  EXPECT_EQ(r.payload_sha256, kEmptySha256);
  const SigV4Signature s = SignV4(r, kExampleKey, "20130524T000000Z");
  EXPECT_EQ(s.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, AwsExamplePutObject) {
  const std::string body = "Welcome to Amazon S3.";
  SigV4Request r;
  r.method = "PUT";
  r.path = "/test$file.text";  // the canonical URI encodes '$'
  r.payload_sha256 = Sha256Hex(body);
  EXPECT_EQ(r.payload_sha256, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-date", "20130524T000000Z"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
               {"x-amz-content-sha256", r.payload_sha256}};
  const SigV4Signature s = SignV4(r, kExampleKey, "20130524T000000Z");
  EXPECT_EQ(s.canonical_request,
            "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\nhost:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
            "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(s.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, ChangingAnythingSignedChangesTheSignature) {
  SigV4Request r;
  r.method = "PUT";
  r.path = "/b/k";
  r.payload_sha256 = Sha256Hex("x");
  r.headers = {{"host", "h"}, {"x-amz-date", "20130524T000000Z"}, {"x-amz-content-sha256", r.payload_sha256}};
  const std::string base = SignV4(r, kExampleKey, "20130524T000000Z").signature;
  SigV4Request other = r;
  other.path = "/b/k2";
  EXPECT_NE(SignV4(other, kExampleKey, "20130524T000000Z").signature, base);
  SigV4Key key = kExampleKey;
  key.secret_access_key += "x";
  EXPECT_NE(SignV4(r, key, "20130524T000000Z").signature, base);
  key = kExampleKey;
  key.region = "eu-west-1";
  EXPECT_NE(SignV4(r, key, "20130524T000000Z").signature, base);
}

TEST(SigV4, Helpers) {
  EXPECT_EQ(UriEncodePath("/decisions/host-1/2026-12-06T04:50:00Z a~b.jsonl"), "/decisions/host-1/2026-12-06T04%3A50%3A00Z%20a~b.jsonl");
  EXPECT_EQ(AmzDate(1369353600), "20130524T000000Z");
}

}  // namespace
}  // namespace mec::aws
