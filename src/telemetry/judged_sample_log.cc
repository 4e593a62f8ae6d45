#include "telemetry/judged_sample_log.h"

#include <charconv>
#include <cstdio>

#include <fmt/format.h>

namespace mec {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS judged_samples (
  id TEXT PRIMARY KEY, ts REAL NOT NULL, tier_class TEXT NOT NULL, tier TEXT, backend TEXT, model TEXT,
  source TEXT NOT NULL, as_good REAL NOT NULL, gain REAL NOT NULL, predicted REAL, model_version TEXT,
  prompt TEXT, features TEXT);
CREATE INDEX IF NOT EXISTS judged_samples_ts ON judged_samples(ts);
)sql";

constexpr const char* kColumns =
    "id, ts, tier_class, tier, backend, model, source, as_good, gain, predicted, model_version, prompt, features";

template <typename T>
bool Num(std::string_view s, T* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(sep, i);
    if (j == std::string_view::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

Result<std::vector<StoredSample>> ReadRows(SqliteDb& db) {
  auto st = db.Prepare(std::string("SELECT ") + kColumns + " FROM judged_samples ORDER BY ts, id");
  if (!st.ok()) return st.status();
  std::vector<StoredSample> rows;
  for (;;) {
    auto more = st->Step();
    if (!more.ok()) return more.status();
    if (!*more) break;
    StoredSample s;
    s.id = std::string(st->Text(0));
    s.ts = st->Real(1);
    if (!ParseQualityClass(st->Text(2), &s.tier_class)) continue;
    s.tier = std::string(st->Text(3));
    s.backend = std::string(st->Text(4));
    s.model = std::string(st->Text(5));
    s.source = std::string(st->Text(6));
    s.as_good = st->Real(7);
    s.gain = st->Real(8);
    s.predicted = st->IsNull(9) ? -1 : st->Real(9);
    s.model_version = std::string(st->Text(10));
    s.prompt = std::string(st->Text(11));
    s.features = std::string(st->Text(12));
    rows.push_back(std::move(s));
  }
  return rows;
}

}  // namespace

std::string FormatAdaptFeatures(const AdaptFeatures& f) {
  std::string s = fmt::format("{} {} {}|", f.base_logit, f.familiarity, f.key);
  for (size_t i = 0; i < f.words.size(); ++i) s += fmt::format("{}{}:{}", i ? " " : "", f.words[i].first, f.words[i].second);
  s += "|";
  for (size_t i = 0; i < f.topic.size(); ++i) s += fmt::format("{}{}", i ? " " : "", f.topic[i]);
  s += "|";
  for (size_t i = 0; i < f.dense.size(); ++i) s += fmt::format("{}{}", i ? " " : "", f.dense[i]);
  return s;
}

bool ParseAdaptFeatures(std::string_view s, AdaptFeatures* out) {
  const size_t a = s.find('|');
  const size_t b = a == std::string_view::npos ? a : s.find('|', a + 1);
  const size_t c = b == std::string_view::npos ? b : s.find('|', b + 1);
  if (c == std::string_view::npos) return false;
  AdaptFeatures f;
  auto head = Split(s.substr(0, a), ' ');
  if (head.size() != 3 || !Num(head[0], &f.base_logit) || !Num(head[1], &f.familiarity) || !Num(head[2], &f.key)) return false;
  for (std::string_view w : Split(s.substr(a + 1, b - a - 1), ' ')) {
    const size_t c = w.find(':');
    std::pair<uint32_t, float> e;
    if (c == std::string_view::npos || !Num(w.substr(0, c), &e.first) || !Num(w.substr(c + 1), &e.second)) return false;
    if (!f.words.empty() && f.words.back().first >= e.first) return false;  // buckets increase
    f.words.push_back(e);
  }
  for (std::string_view t : Split(s.substr(b + 1, c - b - 1), ' ')) {
    double v;
    if (!Num(t, &v)) return false;
    f.topic.push_back(v);
  }
  for (std::string_view t : Split(s.substr(c + 1), ' ')) {
    float v;
    if (!Num(t, &v)) return false;
    f.dense.push_back(v);
  }
  *out = std::move(f);
  return true;
}

namespace {
constexpr int kSharedFields = 13;
std::string NoTabs(std::string_view v) {
  std::string out(v);
  for (char& c : out)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return out;
}
}  // namespace

std::string FormatSharedSample(const StoredSample& s, std::string_view space) {
  return fmt::format("{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}", NoTabs(space), NoTabs(s.id), s.ts,
                     QualityClassName(s.tier_class), NoTabs(s.tier), NoTabs(s.backend), NoTabs(s.model), NoTabs(s.source),
                     s.as_good, s.gain, s.predicted, NoTabs(s.model_version), NoTabs(s.features));
}

bool ParseSharedSample(std::string_view line, StoredSample* out, std::string* space) {
  std::vector<std::string_view> f;
  size_t i = 0;
  for (;;) {  // empty fields kept
    const size_t j = line.find('\t', i);
    f.push_back(line.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  if (f.size() != kSharedFields) return false;
  StoredSample s;
  AdaptFeatures features;
  if (f[1].empty() || !Num(f[2], &s.ts) || !ParseQualityClass(f[3], &s.tier_class) || !Num(f[8], &s.as_good) ||
      !Num(f[9], &s.gain) || !Num(f[10], &s.predicted) || !ParseAdaptFeatures(f[12], &features))
    return false;
  if (!(s.as_good >= 0 && s.as_good <= 1 && s.gain >= 0 && s.gain <= 1)) return false;
  s.id = f[1];
  s.tier = f[4];
  s.backend = f[5];
  s.model = f[6];
  s.source = f[7];
  s.model_version = f[11];
  s.features = f[12];
  *space = f[0];
  *out = std::move(s);
  return true;
}

JudgedSample ToJudgedSample(const StoredSample& s) {
  JudgedSample j;
  j.prompt = s.prompt;
  j.tier_class = s.tier_class;
  j.as_good = s.as_good;
  j.gain = s.gain;
  if (s.prompt.empty()) {
    AdaptFeatures f;
    if (ParseAdaptFeatures(s.features, &f)) j.features = std::move(f);
  }
  return j;
}

Result<std::unique_ptr<JudgedSampleLog>> JudgedSampleLog::Open(const std::string& path) {
  const std::string file = path.empty() ? ":memory:" : path;
  auto db = SqliteDb::Open(file, false);
  if (!db.ok()) return db.status();
  std::unique_ptr<JudgedSampleLog> log(new JudgedSampleLog());
  log->path_ = file;
  log->db_ = std::move(*db);
  if (file != ":memory:") {
    auto mode = log->db_->QueryText("PRAGMA journal_mode=WAL");
    if (!mode.ok()) return mode.status();
  }
  if (Status s = log->db_->Exec(kSchema); !s.ok()) return s;
  auto insert = log->db_->Prepare(std::string("INSERT OR REPLACE INTO judged_samples (") + kColumns +
                                  ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
  if (!insert.ok()) return insert.status();
  log->insert_ = std::move(*insert);
  return log;
}

Status JudgedSampleLog::Append(const StoredSample& s) {
  insert_.Reset();
  insert_.Bind(1, std::string_view(s.id));
  insert_.Bind(2, s.ts);
  insert_.Bind(3, QualityClassName(s.tier_class));
  insert_.Bind(4, std::string_view(s.tier));
  insert_.Bind(5, std::string_view(s.backend));
  insert_.Bind(6, std::string_view(s.model));
  insert_.Bind(7, std::string_view(s.source));
  insert_.Bind(8, s.as_good);
  insert_.Bind(9, s.gain);
  if (s.predicted < 0) insert_.BindNull(10);
  else insert_.Bind(10, s.predicted);
  insert_.Bind(11, std::string_view(s.model_version));
  insert_.Bind(12, std::string_view(s.prompt));
  insert_.Bind(13, std::string_view(s.features));
  auto r = insert_.Step();
  insert_.Reset();
  return r.ok() ? Status::Ok() : r.status();
}

Result<std::vector<StoredSample>> JudgedSampleLog::LoadAll() { return ReadRows(*db_); }

Result<int64_t> JudgedSampleLog::ApplyRetention(double now_unix, double days) {
  if (days <= 0) return int64_t{0};
  if (Status s = db_->Exec(fmt::format("UPDATE judged_samples SET prompt = '' WHERE prompt != '' AND ts < {:.3f}",
                                       now_unix - days * 86400.0));
      !s.ok())
    return s;
  return db_->Changes();
}

Result<std::vector<StoredSample>> ReadJudgedSamples(const std::string& path) {
  auto db = SqliteDb::Open(path, true);
  if (!db.ok()) return db.status();
  auto has = (*db)->QueryText("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'judged_samples'");
  if (!has.ok()) return has.status();
  if (has->empty()) return std::vector<StoredSample>{};
  return ReadRows(**db);
}

}  // namespace mec
