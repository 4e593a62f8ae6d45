#include "auth/key_store.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace mec {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS api_keys (
  name TEXT PRIMARY KEY,
  key_id TEXT NOT NULL UNIQUE,
  salt TEXT NOT NULL,
  hash TEXT NOT NULL,
  budget_usd REAL NOT NULL DEFAULT 0,
  budget_period TEXT NOT NULL DEFAULT '',
  rpm INTEGER NOT NULL DEFAULT 0,
  tpm INTEGER NOT NULL DEFAULT 0,
  max_parallel INTEGER NOT NULL DEFAULT 0,
  tiers INTEGER NOT NULL DEFAULT 7,
  privacy TEXT NOT NULL DEFAULT 'any',
  models TEXT NOT NULL DEFAULT '',
  expires INTEGER NOT NULL DEFAULT 0,
  revoked INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS key_audit (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  who TEXT NOT NULL,
  action TEXT NOT NULL,
  name TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);
)sql";

constexpr const char* kColumns =
    "name, key_id, salt, hash, budget_usd, budget_period, rpm, tpm, max_parallel, tiers, privacy, models, expires, revoked, "
    "created, updated_ms";

std::string JoinModels(const std::vector<std::string>& m) {
  std::string out;
  for (const auto& s : m) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

std::vector<std::string> SplitModels(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const size_t c = s.find(',');
    if (c) out.emplace_back(s.substr(0, c));
    if (c == std::string_view::npos) break;
    s.remove_prefix(c + 1);
  }
  return out;
}

KeyRecord ReadRow(const SqliteStatement& st) {
  KeyRecord r;
  r.name = std::string(st.Text(0));
  r.id = std::string(st.Text(1));
  r.salt = std::string(st.Text(2));
  r.hash = std::string(st.Text(3));
  r.limits.budget_usd = st.Real(4);
  r.limits.period = ParseBudgetPeriod(st.Text(5)).value_or(BudgetPeriod::kNone);
  r.limits.rpm = st.Int(6);
  r.limits.tpm = st.Int(7);
  r.limits.max_parallel = st.Int(8);
  r.tiers = static_cast<uint8_t>(st.Int(9) & 7);
  r.privacy = ParsePrivacyName(st.Text(10)).value_or(Privacy::kAny);
  r.models = SplitModels(st.Text(11));
  r.expires_unix = st.Int(12);
  r.revoked = st.Int(13) != 0;
  r.created_unix = st.Int(14);
  r.updated_ms = st.Int(15);
  return r;
}

}  // namespace

std::string DescribeKey(const KeyRecord& r) {
  auto lim = [](int64_t v) { return v ? std::to_string(v) : std::string("-"); };
  std::string budget = r.limits.budget_usd > 0
                           ? fmt::format("${:.4f}{}{}", r.limits.budget_usd, r.limits.period == BudgetPeriod::kNone ? "" : "/",
                                         BudgetPeriodName(r.limits.period))
                           : "-";
  return fmt::format("rpm={} tpm={} parallel={} budget={} tiers={} privacy={} models={}{}", lim(r.limits.rpm), lim(r.limits.tpm),
                     lim(r.limits.max_parallel), budget, TierListName(r.tiers), PrivacyName(r.privacy),
                     r.models.empty() ? "any" : JoinModels(r.models),
                     r.expires_unix ? fmt::format(" expires={}", r.expires_unix) : "");
}

Result<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& path) {
  auto db = SqliteDb::Open(path, false);
  if (!db.ok()) return db.status();
  auto& d = **db;
  // WAL: readers (gateways) never block the writer (the CLI); busy_timeout: writers wait their turn.
  if (Status s = d.Exec("PRAGMA busy_timeout=5000"); !s.ok()) return s;
  (void)d.Exec("PRAGMA journal_mode=WAL");  // not on every file system; the default journal works too
  if (Status s = d.Exec(kSchema); !s.ok()) return Status::Internal("keys database " + path + ": " + s.message());
  return std::unique_ptr<KeyStore>(new KeyStore(std::move(*db)));
}

Status KeyStore::Write(const KeyRecord& r) {
  auto st = db_->Prepare(std::string("INSERT OR REPLACE INTO api_keys (") + kColumns +
                         ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)");
  if (!st.ok()) return st.status();
  st->Bind(1, r.name);
  st->Bind(2, r.id);
  st->Bind(3, r.salt);
  st->Bind(4, r.hash);
  st->Bind(5, r.limits.budget_usd);
  st->Bind(6, BudgetPeriodName(r.limits.period));
  st->Bind(7, r.limits.rpm);
  st->Bind(8, r.limits.tpm);
  st->Bind(9, r.limits.max_parallel);
  st->Bind(10, static_cast<int64_t>(r.tiers));
  st->Bind(11, PrivacyName(r.privacy));
  st->Bind(12, JoinModels(r.models));
  st->Bind(13, r.expires_unix);
  st->Bind(14, static_cast<int64_t>(r.revoked));
  st->Bind(15, r.created_unix);
  st->Bind(16, r.updated_ms);
  auto done = st->Step();
  return done.ok() ? Status::Ok() : done.status();
}

Status KeyStore::Record(const std::string& who, const std::string& action, const std::string& name, const std::string& detail,
                        int64_t now_ms) {
  auto st = db_->Prepare("INSERT INTO key_audit (at, who, action, name, detail) VALUES (?1,?2,?3,?4,?5)");
  if (!st.ok()) return st.status();
  st->Bind(1, now_ms / 1000);
  st->Bind(2, who);
  st->Bind(3, action);
  st->Bind(4, name);
  st->Bind(5, detail);
  auto done = st->Step();
  return done.ok() ? Status::Ok() : done.status();
}

Result<NewKey> KeyStore::Create(const KeyRecord& base, const std::string& who, int64_t now_ms) {
  if (base.name.empty() || base.name.size() > 64) return Status::InvalidArgument("a key's name is 1 to 64 characters");
  for (char c : base.name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return Status::InvalidArgument("a key's name has only letters, digits, '-', '_' and '.': '" + base.name + "'");
  auto existing = Find(base.name);
  if (existing.ok()) return Status::InvalidArgument("a key named '" + base.name + "' exists (rotate or revoke it)");
  NewKey k = MakeKey(base);
  k.record.created_unix = now_ms / 1000;
  k.record.updated_ms = now_ms;
  k.record.revoked = false;
  if (Status s = db_->Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  Status s = Write(k.record);
  if (s.ok()) s = Record(who, "create", k.record.name, DescribeKey(k.record), now_ms);
  if (!s.ok()) {
    (void)db_->Exec("ROLLBACK");
    return s;
  }
  if (Status c = db_->Exec("COMMIT"); !c.ok()) return c;
  return k;
}

Status KeyStore::Revoke(const std::string& name, const std::string& who, int64_t now_ms) {
  auto r = Find(name);
  if (!r.ok()) return r.status();
  if (Status s = db_->Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  r->revoked = true;
  r->updated_ms = std::max(now_ms, r->updated_ms + 1);
  Status s = Write(*r);
  if (s.ok()) s = Record(who, "revoke", name, "", now_ms);
  if (!s.ok()) {
    (void)db_->Exec("ROLLBACK");
    return s;
  }
  return db_->Exec("COMMIT");
}

Result<NewKey> KeyStore::Rotate(const std::string& name, const std::string& who, int64_t now_ms) {
  auto r = Find(name);
  if (!r.ok()) return r.status();
  if (r->revoked) return Status::InvalidArgument("key '" + name + "' is revoked; create a new one");
  NewKey k = MakeKey(*r);
  k.record.updated_ms = std::max(now_ms, r->updated_ms + 1);
  if (Status s = db_->Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  Status s = Write(k.record);
  if (s.ok()) s = Record(who, "rotate", name, "", now_ms);
  if (!s.ok()) {
    (void)db_->Exec("ROLLBACK");
    return s;
  }
  if (Status c = db_->Exec("COMMIT"); !c.ok()) return c;
  return k;
}

Result<bool> KeyStore::Apply(const KeyRecord& r, const std::string& who) {
  auto mine = Find(r.name);
  if (mine.ok() && mine->updated_ms >= r.updated_ms) return false;
  if (Status s = db_->Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  // A key id belongs to one name: a stale holder of the same id (renamed elsewhere) goes first.
  auto del = db_->Prepare("DELETE FROM api_keys WHERE key_id = ?1 AND name != ?2");
  Status s = del.ok() ? Status::Ok() : del.status();
  if (s.ok()) {
    del->Bind(1, r.id);
    del->Bind(2, r.name);
    auto d = del->Step();
    if (!d.ok()) s = d.status();
  }
  if (s.ok()) s = Write(r);
  if (s.ok()) s = Record(who, r.revoked ? "revoke" : mine.ok() ? "update" : "create", r.name, DescribeKey(r), r.updated_ms);
  if (!s.ok()) {
    (void)db_->Exec("ROLLBACK");
    return s;
  }
  if (Status c = db_->Exec("COMMIT"); !c.ok()) return c;
  return true;
}

Result<std::vector<KeyRecord>> KeyStore::List() {
  auto st = db_->Prepare(std::string("SELECT ") + kColumns + " FROM api_keys ORDER BY name");
  if (!st.ok()) return st.status();
  std::vector<KeyRecord> out;
  for (;;) {
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(ReadRow(*st));
  }
  return out;
}

Result<KeyRecord> KeyStore::Find(const std::string& name) {
  auto st = db_->Prepare(std::string("SELECT ") + kColumns + " FROM api_keys WHERE name = ?1");
  if (!st.ok()) return st.status();
  st->Bind(1, name);
  auto row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::NotFound("no key named '" + name + "'");
  return ReadRow(*st);
}

Result<std::vector<AuditEntry>> KeyStore::Audit(int limit) {
  auto st = db_->Prepare("SELECT at, who, action, name, detail FROM key_audit ORDER BY id DESC LIMIT ?1");
  if (!st.ok()) return st.status();
  st->Bind(1, static_cast<int64_t>(limit));
  std::vector<AuditEntry> out;
  for (;;) {
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back({st->Int(0), std::string(st->Text(1)), std::string(st->Text(2)), std::string(st->Text(3)), std::string(st->Text(4))});
  }
  return out;
}

Result<int64_t> KeyStore::DataVersion() {
  auto v = db_->QueryText("PRAGMA data_version");
  if (!v.ok()) return v.status();
  return static_cast<int64_t>(std::stoll(v->empty() ? "0" : *v));
}

}  // namespace mec
