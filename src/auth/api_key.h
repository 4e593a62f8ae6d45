#pragma once
// API keys (docs/security.md): what a key is, how it is made and checked. A key is
// "mk-" + 16 hex digits of public id + 48 hex digits of secret (256 random bits in all, from
// OpenSSL's RAND_bytes). Only a salted SHA-256 of the whole key is stored; the id finds the
// record, the hash proves the key, compared in constant time.
//
// What a key may do travels with it (KeyRecord): limits, tiers, privacy, models, expiry.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/hints.h"
#include "config/options.h"
#include "core/status.h"

namespace mec {

enum class BudgetPeriod { kNone, kHour, kDay, kWeek, kMonth };
std::optional<BudgetPeriod> ParseBudgetPeriod(std::string_view s);  // 1h 1d 1w 1mo (and "" = none)
std::string_view BudgetPeriodName(BudgetPeriod p);                 // "1h" ... ("" for none)
// The period that holds `unix_ms` (UTC calendar: hours, days, ISO weeks from Monday, months):
// its start and end in Unix milliseconds. kNone: one period for all time [0, INT64_MAX).
struct PeriodSpan {
  int64_t start_ms = 0, end_ms = 0;
};
PeriodSpan PeriodAt(BudgetPeriod p, int64_t unix_ms);

struct KeyLimits {
  double budget_usd = 0;               // per period; 0: no budget
  BudgetPeriod period = BudgetPeriod::kNone;
  int64_t rpm = 0;                     // requests per minute; 0: no limit
  int64_t tpm = 0;                     // tokens (input + output) per minute; 0: no limit
  int64_t max_parallel = 0;            // requests in flight at once; 0: no limit
};

struct KeyRecord {
  std::string name;                    // unique; what logs, metrics and the dashboard show
  std::string id;                      // the key's public id (16 hex digits)
  std::string salt;                    // hex
  std::string hash;                    // hex SHA-256(salt bytes || key)
  KeyLimits limits;
  uint8_t tiers = 0x7;                 // bit (1 << Tier): tiers the key may use
  Privacy privacy = Privacy::kAny;     // the farthest its requests may travel
  std::vector<std::string> models;     // concrete models it may ask for; empty: any
  int64_t expires_unix = 0;            // 0: never
  bool revoked = false;
  int64_t created_unix = 0;
  int64_t updated_ms = 0;              // Unix ms of the last change (replicas keep the newest)

  bool AllowsTier(Tier t) const { return (tiers >> static_cast<int>(t)) & 1; }
};

// A new key and its record (hash and salt filled; name/limits/... from `base`).
struct NewKey {
  std::string key;  // shown once, never stored
  KeyRecord record;
};
NewKey MakeKey(const KeyRecord& base);
// True when `key` is the one `record` was made for (constant-time hash comparison).
bool KeyMatches(const KeyRecord& record, std::string_view key);
// The public id of a well-formed key ("mk-" + 64 hex digits), or nullopt.
std::optional<std::string_view> KeyId(std::string_view key);
// The token of an `Authorization: Bearer <token>` header, or "" (any other scheme, or none).
std::string_view BearerToken(std::string_view authorization);
// Constant-time equality for secrets (the admin token): the time depends only on the lengths.
bool SecretEquals(std::string_view a, std::string_view b);

// "device,edge" <-> bits. Errors name the bad word.
Result<uint8_t> ParseTierList(std::string_view csv);
std::string TierListName(uint8_t tiers);
std::optional<Privacy> ParsePrivacyName(std::string_view s);  // any, edge, device (PrivacyName: api/hints.h)
// "2027-01-31" or "2027-01-31T12:00:00Z" -> Unix seconds (UTC).
Result<int64_t> ParseExpiry(std::string_view s);

}  // namespace mec
