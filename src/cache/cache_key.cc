#include "cache/cache_key.h"

#include <openssl/evp.h>

#include <algorithm>
#include <vector>

namespace mec {

bool Repeatable(const ParsedRequest& req) {
  if (req.endpoint == Endpoint::kEmbeddings) return true;  // embeddings are deterministic
  if (req.n != 1) return false;
  return (req.temperature && *req.temperature == 0.0) || req.seed.has_value();
}

std::string CacheKey(const ParsedRequest& req) { return CacheKeyFor(req, req.stream); }

std::string CacheKeyFor(const ParsedRequest& req, bool stream) {
  std::vector<const std::pair<std::string, std::string>*> fields;
  fields.reserve(req.fields.size());
  for (const auto& f : req.fields)
    if (f.first != "stream_options" && f.first != "stream") fields.push_back(&f);
  std::sort(fields.begin(), fields.end(), [](auto* a, auto* b) { return a->first < b->first; });

  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, EVP_sha256(), nullptr);
  // Length-prefixed parts, so no two different field lists hash the same bytes.
  auto part = [md](std::string_view s) {
    const uint64_t n = s.size();
    EVP_DigestUpdate(md, &n, sizeof n);
    EVP_DigestUpdate(md, s.data(), s.size());
  };
  part(EndpointPath(req.endpoint));
  part(req.model);
  part(stream ? "stream" : "whole");
  for (const auto* f : fields) {
    part(f->first);
    part(f->second);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md, digest, &len);
  EVP_MD_CTX_free(md);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

}  // namespace mec
