#include "aws/s3_put.h"

#include "aws/sigv4.h"

namespace mec::aws {

namespace {

// "<Code>AccessDenied</Code>" -> "AccessDenied"; "" when absent.
std::string S3ErrorCode(const std::string& body) {
  const size_t a = body.find("<Code>");
  const size_t b = body.find("</Code>");
  if (a == std::string::npos || b == std::string::npos || b < a) return "";
  return body.substr(a + 6, b - a - 6);
}

}  // namespace

Result<S3Location> ParseS3Url(std::string_view url) {
  if (!url.starts_with("s3://")) return Status::InvalidArgument("'" + std::string(url) + "': not an s3://BUCKET/PREFIX URL");
  url.remove_prefix(5);
  S3Location loc;
  const size_t slash = url.find('/');
  loc.bucket = std::string(url.substr(0, slash));
  if (slash != std::string_view::npos) loc.prefix = std::string(url.substr(slash + 1));
  if (loc.bucket.empty()) return Status::InvalidArgument("s3://: no bucket");
  for (char c : loc.bucket)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
      return Status::InvalidArgument("'" + loc.bucket + "': not an S3 bucket name (lowercase letters, digits, '-', '.')");
  if (!loc.prefix.empty() && loc.prefix.back() != '/') loc.prefix += '/';
  return loc;
}

Result<HttpExchange> BuildS3Put(const S3Target& target, const std::string& bucket, const std::string& key, std::string body,
                                const std::string& content_type, const AwsCredentials& credentials, int64_t unix_s) {
  if (target.region.empty()) return Status::InvalidArgument("no AWS region");
  HttpExchange x;
  x.method = "PUT";
  x.timeout_ms = target.timeout_ms;
  std::string path;
  if (target.endpoint.empty()) {
    x.url.tls = true;
    x.url.port = 443;
    x.url.host = bucket + ".s3." + target.region + ".amazonaws.com";
    path = "/" + key;
  } else {
    auto base = ParseHttpUrl(target.endpoint);
    if (!base.ok()) return base.status();
    x.url = *base;
    std::string root = x.url.target == "/" ? "" : x.url.target;
    if (!root.empty() && root.back() == '/') root.pop_back();
    path = root + "/" + bucket + "/" + key;
  }
  x.url.target = UriEncodePath(path);
  const std::string amz_date = AmzDate(unix_s);
  SigV4Request r;
  r.method = "PUT";
  r.path = path;
  r.payload_sha256 = Sha256Hex(body);
  r.headers = {{"host", HostHeader(x.url)}, {"x-amz-content-sha256", r.payload_sha256}, {"x-amz-date", amz_date}};
  if (!content_type.empty()) r.headers.emplace_back("content-type", content_type);
  if (!credentials.session_token.empty()) r.headers.emplace_back("x-amz-security-token", credentials.session_token);
  const SigV4Signature s =
      SignV4(r, SigV4Key{credentials.access_key_id, credentials.secret_access_key, target.region, "s3"}, amz_date);
  for (const auto& h : r.headers)
    if (h.first != "host") x.headers.push_back(h);
  x.headers.emplace_back("Authorization", s.authorization);
  x.body = std::move(body);
  return x;
}

Status PutS3Object(const S3Target& target, const std::string& bucket, const std::string& key, std::string body,
                   const std::string& content_type, const AwsCredentials& credentials, int64_t unix_s) {
  auto x = BuildS3Put(target, bucket, key, std::move(body), content_type, credentials, unix_s);
  if (!x.ok()) return x.status();
  const HttpReply r = BlockingHttp(*x);
  const std::string where = "PUT " + (x->url.tls ? std::string("https://") : std::string("http://")) + HostHeader(x->url) + x->url.target;
  if (r.status == 0) return Status::Unavailable(where + ": " + r.error);
  if (r.status < 200 || r.status > 299) {
    const std::string code = S3ErrorCode(r.body);
    return Status::Unavailable(where + ": HTTP " + std::to_string(r.status) + (code.empty() ? "" : " " + code));
  }
  return Status::Ok();
}

}  // namespace mec::aws
