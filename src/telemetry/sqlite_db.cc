#include "telemetry/sqlite_db.h"

#include <sqlite3.h>

#include <bit>

namespace mec {

SqliteStatement::~SqliteStatement() {
  if (s_) sqlite3_finalize(s_);
}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& o) noexcept {
  if (this != &o) {
    if (s_) sqlite3_finalize(s_);
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}

void SqliteStatement::BindNull(int i) { sqlite3_bind_null(s_, i); }
void SqliteStatement::Bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
void SqliteStatement::Bind(int i, double v) { sqlite3_bind_double(s_, i, v); }
void SqliteStatement::Bind(int i, std::string_view v) {
  sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
void SqliteStatement::BindStatic(int i, std::string_view v) {
  sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
void SqliteStatement::BindBlobStatic(int i, std::string_view v) {
  sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
void SqliteStatement::Bind(int i, const std::optional<double>& v) {
  if (v) Bind(i, *v);
  else BindNull(i);
}

Result<bool> SqliteStatement::Step() {
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Status::Internal(std::string("sqlite: ") + sqlite3_errmsg(sqlite3_db_handle(s_)));
}

void SqliteStatement::Reset() {
  sqlite3_reset(s_);
}

int SqliteStatement::ColumnCount() const { return sqlite3_column_count(s_); }
std::string_view SqliteStatement::ColumnName(int i) const { return sqlite3_column_name(s_, i); }
bool SqliteStatement::IsNull(int i) const { return sqlite3_column_type(s_, i) == SQLITE_NULL; }
bool SqliteStatement::IsInteger(int i) const { return sqlite3_column_type(s_, i) == SQLITE_INTEGER; }
bool SqliteStatement::IsReal(int i) const { return sqlite3_column_type(s_, i) == SQLITE_FLOAT; }
bool SqliteStatement::IsBlob(int i) const { return sqlite3_column_type(s_, i) == SQLITE_BLOB; }
int64_t SqliteStatement::Int(int i) const { return sqlite3_column_int64(s_, i); }
double SqliteStatement::Real(int i) const { return sqlite3_column_double(s_, i); }
std::string_view SqliteStatement::Text(int i) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, i));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(s_, i))) : std::string_view();
}

std::string_view SqliteStatement::Blob(int i) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, i));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(s_, i))) : std::string_view();
}

void SqliteStickyBinder::Attach(SqliteStatement* st, int params) {
  st_ = st;
  slots_.assign(static_cast<size_t>(params) + 1, Slot{});
}

void SqliteStickyBinder::Null(int i) {
  Slot* s = SlotFor(i);
  if (s->kind == Kind::kNull) return;
  s->kind = Kind::kNull;
  st_->BindNull(i);
}

void SqliteStickyBinder::Int(int i, int64_t v) {
  Slot* s = SlotFor(i);
  const auto bits = static_cast<uint64_t>(v);
  if (s->kind == Kind::kInt && s->bits == bits) return;
  s->kind = Kind::kInt;
  s->bits = bits;
  st_->Bind(i, v);
}

void SqliteStickyBinder::Real(int i, double v) {
  Slot* s = SlotFor(i);
  const auto bits = std::bit_cast<uint64_t>(v);
  if (s->kind == Kind::kReal && s->bits == bits) return;
  s->kind = Kind::kReal;
  s->bits = bits;
  st_->Bind(i, v);
}

void SqliteStickyBinder::Real(int i, const std::optional<double>& v) {
  if (v) Real(i, *v);
  else Null(i);
}

void SqliteStickyBinder::Text(int i, std::string_view v) { Bytes(i, v, Kind::kText); }
void SqliteStickyBinder::Blob(int i, std::string_view v) { Bytes(i, v, Kind::kBlob); }

void SqliteStickyBinder::Bytes(int i, std::string_view v, Kind kind) {
  Slot* s = SlotFor(i);
  if (s->kind == kind && std::string_view(s->bytes) == v) return;
  s->kind = kind;
  if (v.empty()) s->bytes.clear();
  else s->bytes.assign(v.data(), v.size());
  if (kind == Kind::kText) st_->BindStatic(i, s->bytes);
  else st_->BindBlobStatic(i, s->bytes);
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, bool read_only) {
  sqlite3* db = nullptr;
  const int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::Unavailable("cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 2000);
  return std::unique_ptr<SqliteDb>(new SqliteDb(db));
}

SqliteDb::~SqliteDb() { sqlite3_close(db_); }

Status SqliteDb::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::Internal("sqlite: " + msg);
  }
  return Status::Ok();
}

Result<SqliteStatement> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr) != SQLITE_OK)
    return Status::Internal(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return SqliteStatement(s);
}

int64_t SqliteDb::Changes() const { return sqlite3_changes(db_); }
int64_t SqliteDb::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

Result<std::string> SqliteDb::QueryText(const std::string& sql) {
  auto st = Prepare(sql);
  if (!st.ok()) return st.status();
  auto row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::string();
  return std::string(st->Text(0));
}

std::string SqliteDb::LastError() const { return sqlite3_errmsg(db_); }

}  // namespace mec
