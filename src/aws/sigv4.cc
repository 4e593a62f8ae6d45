#include "aws/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "core/ascii.h"

namespace mec::aws {

namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  return out;
}

// Leading and trailing spaces removed, inner runs of spaces made one (canonical header values).
std::string Trimmed(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return Hex(md, sizeof md);
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
       md, &n);
  return std::string(reinterpret_cast<const char*>(md), n);
}

std::string UriEncodePath(std::string_view path) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

std::string AmzDate(int64_t unix_s) {
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

SigV4Signature SignV4(const SigV4Request& request, const SigV4Key& key, std::string_view amz_date) {
  SigV4Signature s;
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(request.headers.size());
  for (const auto& [k, v] : request.headers) headers.emplace_back(AsciiLower(k), Trimmed(v));
  std::sort(headers.begin(), headers.end());
  std::string canonical_headers;
  for (const auto& [k, v] : headers) {
    canonical_headers += k + ':' + v + '\n';
    if (!s.signed_headers.empty()) s.signed_headers += ';';
    s.signed_headers += k;
  }
  s.canonical_request = request.method + '\n' + UriEncodePath(request.path) + '\n' + request.query + '\n' + canonical_headers + '\n' +
                        s.signed_headers + '\n' + request.payload_sha256;
  const std::string date(amz_date.substr(0, 8));
  const std::string scope = date + '/' + key.region + '/' + key.service + "/aws4_request";
  s.string_to_sign = "AWS4-HMAC-SHA256\n" + std::string(amz_date) + '\n' + scope + '\n' + Sha256Hex(s.canonical_request);
  std::string k = HmacSha256("AWS4" + key.secret_access_key, date);
  k = HmacSha256(k, key.region);
  k = HmacSha256(k, key.service);
  k = HmacSha256(k, "aws4_request");
  const std::string mac = HmacSha256(k, s.string_to_sign);
  s.signature = Hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
  s.authorization = "AWS4-HMAC-SHA256 Credential=" + key.access_key_id + '/' + scope + ",SignedHeaders=" + s.signed_headers +
                    ",Signature=" + s.signature;
  return s;
}

}  // namespace mec::aws
