#pragma once
// AWS credentials without an SDK, in the order of the SDKs' default chain for what a gateway
// process can meet (https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html):
//  1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (optional)
//     (https://docs.aws.amazon.com/sdkref/latest/guide/feature-static-credentials.html);
//  2. the container credential provider
//     (https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html):
//     AWS_CONTAINER_CREDENTIALS_RELATIVE_URI -> GET http://169.254.170.2$URI (an ECS task role),
//     else AWS_CONTAINER_CREDENTIALS_FULL_URI (https, or http to a loopback address,
//     169.254.170.2 or 169.254.170.23), with the Authorization header from the file named by
//     AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, else from AWS_CONTAINER_AUTHORIZATION_TOKEN.
//     The answer is JSON: AccessKeyId, SecretAccessKey, Token, Expiration (ISO 8601, UTC).
// Shared config and credentials files, SSO, web identity and the EC2 instance metadata service
// are not read.
//
// Thread-safety: CredentialChain is not thread-safe (one exporter thread uses it).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace mec::aws {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" for long-term keys; else sent as x-amz-security-token
  int64_t expires_unix = 0;   // 0: does not expire
};

// Reads an environment variable: nullptr when unset (std::getenv in production).
using EnvLookup = std::function<const char*(const char*)>;

// The container endpoint's JSON. InvalidArgument naming what is missing; the endpoint's own
// `code` / `message` when it answered an error object.
Result<AwsCredentials> ParseContainerCredentials(std::string_view json);
// "2016-02-25T06:03:31Z" (fractions of a second and a numeric offset accepted) -> Unix seconds.
Result<int64_t> ParseIso8601(std::string_view text);

class CredentialChain {
 public:
  // `timeout_ms` bounds one request to the container endpoint.
  CredentialChain(EnvLookup env, int timeout_ms);

  // The credentials to sign with at `now_unix`. Container credentials are cached and fetched
  // again once fewer than 5 minutes are left before their Expiration (or after a failure).
  // Unavailable when no source is configured or the endpoint fails.
  Result<AwsCredentials> Get(int64_t now_unix);
  // "environment", "container endpoint URL", or "none" (for logs; no secrets).
  std::string Describe() const;

 private:
  Result<AwsCredentials> FetchContainer();
  // The container endpoint's URL, or "" when none is configured; InvalidArgument when refused.
  Result<std::string> ContainerUrl() const;

  EnvLookup env_;
  const int timeout_ms_;
  AwsCredentials cached_;
  bool have_cached_ = false;
};

}  // namespace mec::aws
