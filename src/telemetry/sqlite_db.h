#pragma once
// A thin RAII layer over the SQLite C API: a connection and prepared statements, errors as
// Status values. Thread-safety: none; one thread uses a connection at a time.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  // A BLOB bound without a copy; the same REQUIREMENT as BindStatic.
  void BindBlobStatic(int i, std::string_view v);
  void Bind(int i, const std::optional<double>& v);
  // Runs one step: true when a row is ready to read, false when done; errors as Status.
  Result<bool> Step();
  // Ready for another run. Bindings stay (SQLite keeps them across a reset): rebind every
  // parameter whose value changes, and every one bound with BindStatic to bytes since gone.
  void Reset();

  // Columns are 0-based.
  int ColumnCount() const;
  std::string_view ColumnName(int i) const;
  bool IsNull(int i) const;
  bool IsInteger(int i) const;
  bool IsReal(int i) const;
  bool IsBlob(int i) const;
  int64_t Int(int i) const;
  double Real(int i) const;
  std::string_view Text(int i) const;
  std::string_view Blob(int i) const;

 private:
  sqlite3_stmt* s_ = nullptr;
};

// Binds the parameters of one statement, run after run, skipping a parameter whose value is the
// one already bound (SQLite keeps bindings across a reset). Text and blobs are copied into a
// buffer per parameter, which is what gets bound (without another copy), so the caller's bytes
// need not outlive the call. For a statement run many times with mostly repeating values (the
// decision log's INSERT), most binds become a comparison. Reals compare bit for bit.
// Thread-safety: none; one binder per statement, used by the statement's thread.
class SqliteStickyBinder {
 public:
  SqliteStickyBinder() = default;
  // REQUIRES: `st` outlives the binder (or Attach is called again); parameters are 1..params.
  // Every binding goes through the binder; bind only when `st` is reset (not mid-run).
  void Attach(SqliteStatement* st, int params);
  void Null(int i);
  void Int(int i, int64_t v);
  void Real(int i, double v);
  void Real(int i, const std::optional<double>& v);
  void Text(int i, std::string_view v);
  void Blob(int i, std::string_view v);

 private:
  enum class Kind : uint8_t { kUnset, kNull, kInt, kReal, kText, kBlob };
  struct Slot {
    Kind kind = Kind::kUnset;
    uint64_t bits = 0;   // an int, or a double's bits
    std::string bytes;   // text or blob, bound from here
  };
  Slot* SlotFor(int i) { return &slots_[static_cast<size_t>(i)]; }
  void Bytes(int i, std::string_view v, Kind kind);

  SqliteStatement* st_ = nullptr;
  std::vector<Slot> slots_;  // index = parameter number (0 unused)
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
  // The rowid of the last row inserted on this connection.
  int64_t LastInsertRowid() const;
  // The first column of the first row of `sql`, as text ("" if no row).
  Result<std::string> QueryText(const std::string& sql);
  std::string LastError() const;

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace mec
