#include "auth/api_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <chrono>
#include <cstring>

namespace mec {
namespace {

constexpr std::string_view kPrefix = "mk-";
constexpr size_t kIdHex = 16, kSecretHex = 48;

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) std::abort();  // no entropy: never make a weak key
  return Hex(reinterpret_cast<const unsigned char*>(raw.data()), bytes);
}

std::string SaltedHash(std::string_view salt_hex, std::string_view key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, salt_hex.data(), salt_hex.size());
  EVP_DigestUpdate(ctx, key.data(), key.size());
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  return Hex(digest, len);
}

bool IsHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// Days since 1970-01-01 -> (year, month 1..12, day); Howard Hinnant's civil_from_days.
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

std::optional<BudgetPeriod> ParseBudgetPeriod(std::string_view s) {
  if (s.empty()) return BudgetPeriod::kNone;
  if (s == "1h") return BudgetPeriod::kHour;
  if (s == "1d") return BudgetPeriod::kDay;
  if (s == "1w") return BudgetPeriod::kWeek;
  if (s == "1mo") return BudgetPeriod::kMonth;
  return std::nullopt;
}

std::string_view BudgetPeriodName(BudgetPeriod p) {
  switch (p) {
    case BudgetPeriod::kHour: return "1h";
    case BudgetPeriod::kDay: return "1d";
    case BudgetPeriod::kWeek: return "1w";
    case BudgetPeriod::kMonth: return "1mo";
    case BudgetPeriod::kNone: break;
  }
  return "";
}

PeriodSpan PeriodAt(BudgetPeriod p, int64_t unix_ms) {
  constexpr int64_t kHour = 3600000, kDay = 24 * kHour;
  switch (p) {
    case BudgetPeriod::kHour: {
      const int64_t s = FloorDiv(unix_ms, kHour) * kHour;
      return {s, s + kHour};
    }
    case BudgetPeriod::kDay: {
      const int64_t s = FloorDiv(unix_ms, kDay) * kDay;
      return {s, s + kDay};
    }
    case BudgetPeriod::kWeek: {  // 1970-01-01 was a Thursday: Monday-based weeks start 3 days later
      const int64_t days = FloorDiv(unix_ms, kDay);
      const int64_t monday = days - ((days + 3) % 7 + 7) % 7;
      return {monday * kDay, (monday + 7) * kDay};
    }
    case BudgetPeriod::kMonth: {
      int64_t y = 0;
      unsigned m = 0, d = 0;
      CivilFromDays(FloorDiv(unix_ms, kDay), y, m, d);
      const int64_t start = DaysFromCivil(y, m, 1);
      const int64_t end = m == 12 ? DaysFromCivil(y + 1, 1, 1) : DaysFromCivil(y, m + 1, 1);
      return {start * kDay, end * kDay};
    }
    case BudgetPeriod::kNone: break;
  }
  return {0, INT64_MAX};
}

NewKey MakeKey(const KeyRecord& base) {
  NewKey k;
  k.record = base;
  k.record.id = RandomHex(kIdHex / 2);
  k.key = std::string(kPrefix) + k.record.id + RandomHex(kSecretHex / 2);
  k.record.salt = RandomHex(16);
  k.record.hash = SaltedHash(k.record.salt, k.key);
  return k;
}

bool KeyMatches(const KeyRecord& record, std::string_view key) {
  const std::string h = SaltedHash(record.salt, key);
  return h.size() == record.hash.size() && CRYPTO_memcmp(h.data(), record.hash.data(), h.size()) == 0;
}

std::optional<std::string_view> KeyId(std::string_view key) {
  if (key.size() != kPrefix.size() + kIdHex + kSecretHex || key.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  if (!IsHex(key.substr(kPrefix.size()))) return std::nullopt;
  return key.substr(kPrefix.size(), kIdHex);
}

std::string_view BearerToken(std::string_view h) {
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  if (h.size() < 7 || !(h[0] == 'B' || h[0] == 'b') || h.substr(1, 5) != "earer" || h[6] != ' ') return {};
  h.remove_prefix(7);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
  return h;
}

bool SecretEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<uint8_t> ParseTierList(std::string_view csv) {
  uint8_t bits = 0;
  while (!csv.empty()) {
    const size_t comma = csv.find(',');
    std::string_view w = csv.substr(0, comma);
    while (!w.empty() && w.front() == ' ') w.remove_prefix(1);
    while (!w.empty() && w.back() == ' ') w.remove_suffix(1);
    const auto t = ParseTier(w);
    if (!t) return Status::InvalidArgument("unknown tier '" + std::string(w) + "' (known: device, edge, cloud)");
    bits |= static_cast<uint8_t>(1 << static_cast<int>(*t));
    if (comma == std::string_view::npos) break;
    csv.remove_prefix(comma + 1);
  }
  if (!bits) return Status::InvalidArgument("no tier given (device, edge, cloud)");
  return bits;
}

std::string TierListName(uint8_t tiers) {
  std::string out;
  for (Tier t : {Tier::kDevice, Tier::kEdge, Tier::kCloud})
    if ((tiers >> static_cast<int>(t)) & 1) {
      if (!out.empty()) out += ',';
      out += TierName(t);
    }
  return out;
}

std::optional<Privacy> ParsePrivacyName(std::string_view s) {
  if (s == "any") return Privacy::kAny;
  if (s == "edge") return Privacy::kEdge;
  if (s == "device") return Privacy::kDevice;
  return std::nullopt;
}

Result<int64_t> ParseExpiry(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  const std::string str(s);
  char tail = 0;
  const bool date_only = std::sscanf(str.c_str(), "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 3;
  const bool full = !date_only && std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%c", &y, &mo, &d, &h, &mi, &se, &tail) == 6;
  if ((!date_only && !full) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
    return Status::InvalidArgument("bad date '" + str + "' (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC)");
  return DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 + mi * 60 + se;
}

}  // namespace mec
