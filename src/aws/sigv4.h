#pragma once
// AWS Signature Version 4 (header-based, payload signed in a single chunk) as a pure function:
// no clock, no environment, no I/O. The algorithm is AWS's ("Create a signed AWS API request",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html; for S3,
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html, whose
// examples sigv4_test.cc checks byte for byte):
//   canonical request = method \n canonical URI \n canonical query \n canonical headers \n
//                       signed headers \n hex(SHA-256(payload))
//   string to sign    = "AWS4-HMAC-SHA256" \n amz_date \n date/region/service/aws4_request \n
//                       hex(SHA-256(canonical request))
//   signing key       = HMAC("AWS4" + secret, date) -> region -> service -> "aws4_request"
//   signature         = hex(HMAC(signing key, string to sign))
// Thread-safety: every function is pure.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mec::aws {

struct SigV4Request {
  std::string method;  // "PUT"
  std::string path;    // absolute, not yet encoded: "/bucket/decisions/a b.jsonl"
  std::string query;   // canonical query string, already encoded and sorted; "" for none
  // Every header to sign (names in any case; values trimmed when signed). Must include `host`
  // and `x-amz-date`; for S3 also `x-amz-content-sha256`, and `x-amz-security-token` with
  // temporary credentials.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_sha256;  // lowercase hex SHA-256 of the body (Sha256Hex)
};

struct SigV4Key {
  std::string access_key_id;
  std::string secret_access_key;
  std::string region;   // "us-east-1"
  std::string service;  // "s3"
};

struct SigV4Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-content-sha256;x-amz-date"
  std::string signature;       // 64 lowercase hex digits
  std::string authorization;   // the Authorization header's value
};

// REQUIRES: `amz_date` is "YYYYMMDDTHHMMSSZ" (UTC), the value of the x-amz-date header.
SigV4Signature SignV4(const SigV4Request& request, const SigV4Key& key, std::string_view amz_date);

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
// HMAC-SHA256 of `data` under `key`, raw 32 bytes.
std::string HmacSha256(std::string_view key, std::string_view data);
// S3's URI encoding of a path: every byte but A-Z a-z 0-9 - . _ ~ and '/' as %XX (uppercase hex).
std::string UriEncodePath(std::string_view path);
// "YYYYMMDDTHHMMSSZ" for a Unix time.
std::string AmzDate(int64_t unix_s);

}  // namespace mec::aws
