#include "aws/aws_credentials.h"

#include <ctime>
#include <fstream>
#include <sstream>

#include <simdjson.h>

#include "aws/blocking_http.h"

namespace mec::aws {

namespace {

constexpr int64_t kRefreshBefore_s = 300;
constexpr const char* kEcsHost = "http://169.254.170.2";

std::string Env(const EnvLookup& env, const char* name) {
  const char* v = env(name);
  return v ? std::string(v) : std::string();
}

bool AllowedPlainHost(const std::string& host) {
  return host == "localhost" || host.starts_with("127.") || host == "::1" || host == "169.254.170.2" || host == "169.254.170.23" ||
         host == "fd00:ec2::23";
}

int Digits(std::string_view s, size_t at, size_t n, bool& ok) {
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') {
      ok = false;
      return 0;
    }
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

Result<int64_t> ParseIso8601(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)
  bool ok = t.size() >= 19 && t[4] == '-' && t[7] == '-' && (t[10] == 'T' || t[10] == ' ') && t[13] == ':' && t[16] == ':';
  std::tm tm{};
  tm.tm_year = Digits(t, 0, 4, ok) - 1900;
  tm.tm_mon = Digits(t, 5, 2, ok) - 1;
  tm.tm_mday = Digits(t, 8, 2, ok);
  tm.tm_hour = Digits(t, 11, 2, ok);
  tm.tm_min = Digits(t, 14, 2, ok);
  tm.tm_sec = Digits(t, 17, 2, ok);
  size_t i = 19;
  if (ok && i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  }
  int64_t offset_s = 0;
  if (ok && i < t.size() && t[i] == 'Z') {
    ++i;
  } else if (ok && i + 6 == t.size() && (t[i] == '+' || t[i] == '-') && t[i + 3] == ':') {
    const int sign = t[i] == '+' ? 1 : -1;
    offset_s = sign * (Digits(t, i + 1, 2, ok) * 3600 + Digits(t, i + 4, 2, ok) * 60);
    i += 6;
  } else {
    ok = false;
  }
  if (!ok || i != t.size()) return Status::InvalidArgument("'" + std::string(t) + "' is not an ISO 8601 UTC time");
  return static_cast<int64_t>(timegm(&tm)) - offset_s;
}

Result<AwsCredentials> ParseContainerCredentials(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) || !doc.is_object())
    return Status::InvalidArgument("credentials endpoint: not a JSON object");
  auto text = [&](const char* key) -> std::string {
    std::string_view v;
    if (doc[key].get_string().get(v)) return "";
    return std::string(v);
  };
  AwsCredentials c;
  c.access_key_id = text("AccessKeyId");
  c.secret_access_key = text("SecretAccessKey");
  c.session_token = text("Token");
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    const std::string code = text("code"), message = text("message");
    if (!code.empty() || !message.empty()) return Status::Unavailable("credentials endpoint: " + code + ": " + message);
    return Status::InvalidArgument("credentials endpoint: no AccessKeyId or SecretAccessKey");
  }
  if (const std::string exp = text("Expiration"); !exp.empty()) {
    auto t = ParseIso8601(exp);
    if (!t.ok()) return Status::InvalidArgument("credentials endpoint: Expiration " + t.status().message());
    c.expires_unix = *t;
  }
  return c;
}

CredentialChain::CredentialChain(EnvLookup env, int timeout_ms) : env_(std::move(env)), timeout_ms_(timeout_ms) {}

Result<std::string> CredentialChain::ContainerUrl() const {
  if (const std::string rel = Env(env_, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); !rel.empty()) return kEcsHost + rel;
  const std::string full = Env(env_, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (full.empty()) return std::string();
  auto url = ParseHttpUrl(full);
  if (!url.ok()) return Status::InvalidArgument("AWS_CONTAINER_CREDENTIALS_FULL_URI: " + url.status().message());
  if (!url->tls && !AllowedPlainHost(url->host))
    return Status::InvalidArgument("AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http only to a loopback address, 169.254.170.2 or 169.254.170.23, not " +
                                   url->host);
  return full;
}

std::string CredentialChain::Describe() const {
  if (!Env(env_, "AWS_ACCESS_KEY_ID").empty()) return "environment (AWS_ACCESS_KEY_ID)";
  auto url = ContainerUrl();
  if (!url.ok()) return url.status().message();
  if (!url->empty()) return "container endpoint " + *url;
  return "none";
}

Result<AwsCredentials> CredentialChain::Get(int64_t now_unix) {
  const std::string id = Env(env_, "AWS_ACCESS_KEY_ID");
  if (!id.empty()) {
    AwsCredentials c;
    c.access_key_id = id;
    c.secret_access_key = Env(env_, "AWS_SECRET_ACCESS_KEY");
    c.session_token = Env(env_, "AWS_SESSION_TOKEN");
    if (c.secret_access_key.empty()) return Status::Unavailable("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    return c;
  }
  if (have_cached_ && (cached_.expires_unix == 0 || now_unix < cached_.expires_unix - kRefreshBefore_s)) return cached_;
  auto fresh = FetchContainer();
  if (!fresh.ok()) {
    have_cached_ = false;
    return fresh.status();
  }
  cached_ = *fresh;
  have_cached_ = true;
  return cached_;
}

Result<AwsCredentials> CredentialChain::FetchContainer() {
  auto url = ContainerUrl();
  if (!url.ok()) return url.status();
  if (url->empty())
    return Status::Unavailable(
        "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with a task role "
        "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / AWS_CONTAINER_CREDENTIALS_FULL_URI)");
  auto parsed = ParseHttpUrl(*url);
  if (!parsed.ok()) return parsed.status();
  HttpExchange x;
  x.url = *parsed;
  x.timeout_ms = timeout_ms_;
  std::string token;
  if (const std::string file = Env(env_, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); !file.empty()) {
    std::ifstream in(file);
    if (!in) return Status::Unavailable("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: cannot read " + file);
    std::stringstream ss;
    ss << in.rdbuf();
    token = ss.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  } else {
    token = Env(env_, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }
  if (!token.empty()) x.headers.emplace_back("Authorization", token);
  x.headers.emplace_back("Accept", "application/json");
  const HttpReply r = BlockingHttp(x);
  if (r.status == 0) return Status::Unavailable("credentials endpoint " + *url + ": " + r.error);
  if (r.status != 200) return Status::Unavailable("credentials endpoint " + *url + ": HTTP " + std::to_string(r.status));
  return ParseContainerCredentials(r.body);
}

}  // namespace mec::aws
