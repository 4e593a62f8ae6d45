#include "state/learning_sync.h"

#include <hiredis/hiredis.h>

#include <cstdio>
#include <cstdlib>

#include "state/redis_connect.h"

namespace mec {
namespace {

constexpr std::string_view kLabels = "mec:learn:labels";
constexpr std::string_view kLease = "mec:learn:lease";
constexpr std::string_view kModel = "mec:learn:model";
constexpr int kPullBatch = 1000;

// Takes the lease, or renews it for its holder: 1 when ARGV[1] holds it afterwards.
constexpr std::string_view kHoldScript =
    "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) return 1 end "
    "if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end return 0";
constexpr std::string_view kReleaseScript =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";
// Writes the model only for the lease's holder.
constexpr std::string_view kPublishScript =
    "if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end "
    "redis.call('hset', KEYS[2], 'version', ARGV[2], 'name', ARGV[3], 'by', ARGV[1], 'text', ARGV[4]) return 1";

std::string_view Str(const redisReply* r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) ? std::string_view(r->str, r->len) : std::string_view();
}

}  // namespace

LearningSync::LearningSync(const StateOptions& options, std::string replica_id, int64_t lease_ms, int64_t max_labels)
    : options_(options), id_(std::move(replica_id)), lease_ms_(lease_ms), max_labels_(max_labels) {}

LearningSync::~LearningSync() {
  if (redis_) redisFree(redis_);
}

void LearningSync::Fail(const std::string& why) {
  bool was_connected;
  {
    std::lock_guard lock(status_mu_);
    was_connected = status_.connected || status_.errors == 0;
    status_.connected = false;
    status_.trainer = false;
    ++status_.errors;
    status_.last_error = why;
  }
  if (was_connected)
    std::fprintf(stderr, "mecrouter: learning: Redis %s:%d unreachable (%s); verdicts kept locally, no refits until it is back\n",
                 options_.redis_host.c_str(), options_.redis_port, why.c_str());
  if (redis_) {
    redisFree(redis_);
    redis_ = nullptr;
  }
}

bool LearningSync::Connect() {
  if (redis_) return true;
  std::string error;
  redis_ = ConnectRedis(options_, error);
  if (!redis_) {
    Fail(error);
    return false;
  }
  std::lock_guard lock(status_mu_);
  status_.connected = true;
  return true;
}

redisReply* LearningSync::Command(const std::vector<std::string_view>& args) {
  if (!Connect()) return nullptr;
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (auto a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(redisCommandArgv(redis_, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (!r) {
    Fail(redis_->errstr);
    return nullptr;
  }
  if (r->type == REDIS_REPLY_ERROR) {
    const std::string why(r->str, r->len);
    freeReplyObject(r);
    Fail(why);
    return nullptr;
  }
  return r;
}

bool LearningSync::Push(const std::vector<std::string>& rows, size_t* sent) {
  *sent = 0;
  if (rows.empty()) return true;
  if (!Connect()) return false;
  // Pipelined: all appends, then all replies.
  const std::string maxlen = std::to_string(max_labels_);
  for (const std::string& row : rows) {
    const char* argv[] = {"XADD", kLabels.data(), "MAXLEN", "~", maxlen.c_str(), "*", "r", id_.c_str(), "row", row.data()};
    const size_t lens[] = {4, kLabels.size(), 6, 1, maxlen.size(), 1, 1, id_.size(), 3, row.size()};
    redisAppendCommandArgv(redis_, 10, argv, lens);
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    void* out = nullptr;
    if (redisGetReply(redis_, &out) != REDIS_OK || !out) {
      Fail(redis_->errstr);
      return false;
    }
    auto* r = static_cast<redisReply*>(out);
    const bool ok = r->type == REDIS_REPLY_STRING;
    const std::string why = ok ? "" : std::string(Str(r));
    freeReplyObject(r);
    if (!ok) {
      Fail("XADD: " + why);
      return false;
    }
    ++*sent;
  }
  std::lock_guard lock(status_mu_);
  status_.pushed += *sent;
  return true;
}

std::optional<std::vector<std::string>> LearningSync::Pull() {
  std::vector<std::string> rows;
  for (;;) {
    const std::string from = last_entry_ == "-" ? "-" : "(" + last_entry_;
    const std::string count = std::to_string(kPullBatch);
    redisReply* r = Command({"XRANGE", kLabels, from, "+", "COUNT", count});
    if (!r) return std::nullopt;
    size_t n = 0;
    if (r->type == REDIS_REPLY_ARRAY) {
      n = r->elements;
      for (size_t i = 0; i < r->elements; ++i) {
        const redisReply* e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2) continue;
        last_entry_ = std::string(Str(e->element[0]));
        const redisReply* f = e->element[1];
        std::string_view who, row;
        for (size_t k = 0; f->type == REDIS_REPLY_ARRAY && k + 1 < f->elements; k += 2) {
          if (Str(f->element[k]) == "r") who = Str(f->element[k + 1]);
          else if (Str(f->element[k]) == "row") row = Str(f->element[k + 1]);
        }
        if (who != id_ && !row.empty()) rows.emplace_back(row);
      }
    }
    freeReplyObject(r);
    if (n < static_cast<size_t>(kPullBatch)) break;
  }
  std::lock_guard lock(status_mu_);
  status_.pulled += rows.size();
  return rows;
}

void LearningSync::SetTrainer(bool trainer) {
  std::lock_guard lock(status_mu_);
  status_.trainer = trainer;
}

bool LearningSync::HoldLease() {
  const std::string ms = std::to_string(lease_ms_);
  redisReply* r = Command({"EVAL", kHoldScript, "1", kLease, id_, ms});
  if (!r) return false;
  const bool held = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
  freeReplyObject(r);
  SetTrainer(held);
  return held;
}

void LearningSync::ReleaseLease() {
  if (redisReply* r = Command({"EVAL", kReleaseScript, "1", kLease, id_})) freeReplyObject(r);
  SetTrainer(false);
}

bool LearningSync::Publish(int64_t version, std::string_view name, std::string_view text) {
  const std::string v = std::to_string(version);
  redisReply* r = Command({"EVAL", kPublishScript, "2", kLease, kModel, id_, v, name, text});
  if (!r) return false;
  const bool ok = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
  freeReplyObject(r);
  std::lock_guard lock(status_mu_);
  if (ok) ++status_.published;
  else status_.trainer = false;
  return ok;
}

std::optional<int64_t> LearningSync::PublishedVersion() {
  redisReply* r = Command({"HGET", kModel, "version"});
  if (!r) return std::nullopt;
  const std::string v(Str(r));
  freeReplyObject(r);
  return v.empty() ? 0 : std::strtoll(v.c_str(), nullptr, 10);
}

std::optional<SharedModel> LearningSync::FetchNewer(int64_t have) {
  auto version = PublishedVersion();
  if (!version || *version <= have) return std::nullopt;
  redisReply* r = Command({"HGETALL", kModel});
  if (!r) return std::nullopt;
  SharedModel m;
  for (size_t k = 0; r->type == REDIS_REPLY_ARRAY && k + 1 < r->elements; k += 2) {
    const std::string_view key = Str(r->element[k]), value = Str(r->element[k + 1]);
    if (key == "version") m.version = std::strtoll(std::string(value).c_str(), nullptr, 10);
    else if (key == "name") m.name = value;
    else if (key == "by") m.by = value;
    else if (key == "text") m.text = value;
  }
  freeReplyObject(r);
  if (m.version <= have || m.text.empty()) return std::nullopt;
  return m;
}

std::optional<double> LearningSync::AddSpend(int64_t day, double usd) {
  const std::string key = "mec:learn:spend:" + std::to_string(day);
  char amount[64];
  std::snprintf(amount, sizeof amount, "%.9f", usd);
  redisReply* r = Command({"INCRBYFLOAT", key, amount});
  if (!r) return std::nullopt;
  const double total = std::strtod(std::string(Str(r)).c_str(), nullptr);
  freeReplyObject(r);
  if (redisReply* e = Command({"EXPIRE", key, "172800"})) freeReplyObject(e);
  return total;
}

LearningSync::Status LearningSync::status() const {
  std::lock_guard lock(status_mu_);
  return status_;
}

}  // namespace mec
