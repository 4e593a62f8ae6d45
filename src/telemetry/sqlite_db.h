#pragma once
// A thin RAII layer over the SQLite C API: a connection and prepared statements, errors as
// Status values. Thread-safety: none; one thread uses a connection at a time.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace mec {

class SqliteStatement {
 public:
  SqliteStatement() = default;
  explicit SqliteStatement(sqlite3_stmt* s) : s_(s) {}
  ~SqliteStatement();
  SqliteStatement(SqliteStatement&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  SqliteStatement& operator=(SqliteStatement&& o) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // Parameters are 1-based, as in SQLite. Text is copied (SQLITE_TRANSIENT).
  void BindNull(int i);
  void Bind(int i, int64_t v);
  void Bind(int i, double v);
  void Bind(int i, std::string_view v);
  // Text bound without a copy. REQUIRES: the bytes stay valid until the statement has been
  // stepped for the last time with this binding (rebind before every run).
  void BindStatic(int i, std::string_view v);
  void Bind(int i, const std::optional<double>& v);
  // Runs one step: true when a row is ready to read, false when done; errors as Status.
  Result<bool> Step();
  // Ready for another run. Bindings stay: rebind every parameter before the next Step.
  void Reset();

  // Columns are 0-based.
  int ColumnCount() const;
  std::string_view ColumnName(int i) const;
  bool IsNull(int i) const;
  bool IsInteger(int i) const;
  bool IsReal(int i) const;
  int64_t Int(int i) const;
  double Real(int i) const;
  std::string_view Text(int i) const;

 private:
  sqlite3_stmt* s_ = nullptr;
};

class SqliteDb {
 public:
  // Opens (read_only) or opens-or-creates a database file.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, bool read_only);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  Status Exec(const std::string& sql);
  Result<SqliteStatement> Prepare(std::string_view sql);
  // Rows changed by the last INSERT / UPDATE / DELETE.
  int64_t Changes() const;
  // The first column of the first row of `sql`, as text ("" if no row).
  Result<std::string> QueryText(const std::string& sql);
  std::string LastError() const;

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace mec
