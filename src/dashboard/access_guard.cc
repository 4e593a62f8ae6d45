#include "dashboard/access_guard.h"

#include "core/ascii.h"

namespace mec {

namespace {

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool Under(std::string_view path, std::string_view root) {
  return path == root || StartsWith(path, std::string(root) + "/");
}

std::string_view PathOf(std::string_view target) {
  const size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && Hex(s[i + 1]) >= 0 && Hex(s[i + 2]) >= 0) {
      out += static_cast<char>(Hex(s[i + 1]) * 16 + Hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool ConstantTimeEquals(std::string_view given, std::string_view secret) {
  if (secret.empty()) return false;
  // Runs over `given` whatever its content: no early exit where the strings first differ.
  unsigned char diff = given.size() == secret.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ secret[i % secret.size()]);
  return diff == 0;
}

}  // namespace

bool AccessGuard::Protects(std::string_view path) {
  return Under(path, "/dashboard") || Under(path, "/api") || Under(path, "/admin") || path == "/v1/feedback";
}

bool AccessGuard::Allows(std::string_view target, std::string_view authorization) const {
  if (token_.empty()) return true;
  const std::string_view path = PathOf(target);
  if (!Protects(path)) return true;
  if (BearerMatches(authorization, token_)) return true;
  if (path == "/dashboard") return ConstantTimeEquals(QueryParam(target, "token"), token_);
  return false;
}

bool BearerMatches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kScheme = "bearer ";
  if (!AsciiIEquals(authorization.substr(0, kScheme.size()), kScheme)) return false;
  std::string_view given = authorization.substr(kScheme.size());
  while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  while (!given.empty() && given.back() == ' ') given.remove_suffix(1);
  return ConstantTimeEquals(given, token);
}

std::string QueryParam(std::string_view target, std::string_view key) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return "";
  std::string_view query = target.substr(q + 1);
  const size_t hash = query.find('#');
  if (hash != std::string_view::npos) query = query.substr(0, hash);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (PercentDecode(pair.substr(0, eq)) == key) return eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
}

bool IsLoopbackListen(std::string_view host_port) {
  std::string_view host = host_port;
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    host = close == std::string_view::npos ? host.substr(1) : host.substr(1, close - 1);
    return host == "::1";
  }
  const size_t colon = host.rfind(':');
  if (colon != std::string_view::npos) host = host.substr(0, colon);
  return host == "localhost" || StartsWith(host, "127.");
}

Result<std::string> TokenFromEnv(std::string_view env_name, const char* value) {
  if (env_name.empty()) return std::string();
  if (value == nullptr || *value == '\0')
    return Status::InvalidArgument("dashboard.token_env: the environment variable " + std::string(env_name) +
                                   " is not set or empty (it must hold the bearer token)");
  return std::string(value);
}

}  // namespace mec
