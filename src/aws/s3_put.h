#pragma once
// PutObject to S3 over HTTPS, signed with SigV4 (aws/sigv4.h) from AwsCredentials: no SDK.
// Virtual-hosted style, PUT https://BUCKET.s3.REGION.amazonaws.com/KEY
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html), or path style,
// PUT ENDPOINT/BUCKET/KEY, when an endpoint is given (a local stand-in for S3 in tests, or an
// S3-compatible store). The body's SHA-256 is signed (x-amz-content-sha256).
//
// Thread-safety: pure functions, and PutS3Object blocks the calling thread (blocking_http.h).

#include <cstdint>
#include <string>
#include <string_view>

#include "aws/aws_credentials.h"
#include "aws/blocking_http.h"
#include "core/status.h"

namespace mec::aws {

struct S3Location {
  std::string bucket;
  std::string prefix;  // "" or ending in '/': "decisions/"
};
// "s3://BUCKET" or "s3://BUCKET/PREFIX" (a '/' is added to a prefix that lacks one).
Result<S3Location> ParseS3Url(std::string_view url);

struct S3Target {
  std::string region;    // REQUIRED
  std::string endpoint;  // "" = AWS; else "http(s)://host[:port]", path style
  int timeout_ms = 10000;
};

// The signed request, ready to send. Pure: `unix_s` is the signing time.
Result<HttpExchange> BuildS3Put(const S3Target& target, const std::string& bucket, const std::string& key, std::string body,
                                const std::string& content_type, const AwsCredentials& credentials, int64_t unix_s);

// Sends it: OK on a 2xx; else Unavailable with the status and S3's error code, or the transport error.
Status PutS3Object(const S3Target& target, const std::string& bucket, const std::string& key, std::string body,
                   const std::string& content_type, const AwsCredentials& credentials, int64_t unix_s);

}  // namespace mec::aws
