#pragma once
// The keys database (auth.keys_db, `mecrouter keys --db`): one SQLite file with the key records
// (salted hashes, never keys) and an audit table of every change: who (the CLI and its user, or
// the admin API), what, when. WAL mode and a busy timeout let the CLI and several gateways share
// the file; a gateway notices another connection's change through DataVersion().
//
// Thread-safety: none; one thread uses a store at a time (the gateway's keys thread, or the CLI).

#include <memory>
#include <string>
#include <vector>

#include "auth/api_key.h"
#include "core/status.h"
#include "telemetry/sqlite_db.h"

namespace mec {

struct AuditEntry {
  int64_t at_unix = 0;
  std::string who, action, name, detail;
};

class KeyStore {
 public:
  static Result<std::unique_ptr<KeyStore>> Open(const std::string& path);

  // A new key named base.name (which must be new): returns the key, shown once.
  Result<NewKey> Create(const KeyRecord& base, const std::string& who, int64_t now_ms);
  // Marks the key revoked (requests with it get 401 from then on).
  Status Revoke(const std::string& name, const std::string& who, int64_t now_ms);
  // A new key for `name` with the same limits; the old one stops working.
  Result<NewKey> Rotate(const std::string& name, const std::string& who, int64_t now_ms);
  // A record as another replica holds it (Redis sync): written when newer than ours. Audited as
  // `who` ("replica sync"). Returns true when it changed the file.
  Result<bool> Apply(const KeyRecord& r, const std::string& who);

  Result<std::vector<KeyRecord>> List();
  Result<KeyRecord> Find(const std::string& name);
  Result<std::vector<AuditEntry>> Audit(int limit);
  // Changes whenever another connection commits to the file (PRAGMA data_version).
  Result<int64_t> DataVersion();

 private:
  explicit KeyStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  Status Write(const KeyRecord& r);
  Status Record(const std::string& who, const std::string& action, const std::string& name, const std::string& detail,
                int64_t now_ms);
  std::unique_ptr<SqliteDb> db_;
};

// "rpm=60 tpm=- budget=$5.00/1d tiers=device,edge ..." for audit details and `keys show`.
std::string DescribeKey(const KeyRecord& r);

}  // namespace mec
