#include "auth/redis_limiter.h"

#include <hiredis/hiredis.h>

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "state/redis_connect.h"

namespace mec {
namespace {

// KEYS: minute hash, in-flight set, spend. ARGV: rpm tpm parallel budget tokens usd now ticket
// ticket_expiry spend_ttl_ms. Returns {code, requests, tokens, in_flight, spend}; code 0 admitted,
// else the LimitKind that refused. Counts are those after the reservation (admitted) or as found.
constexpr const char* kReserveScript = R"lua(
local r = tonumber(redis.call('HGET', KEYS[1], 'r') or '0')
local t = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[7])
local p = redis.call('ZCARD', KEYS[2])
local s = tonumber(redis.call('GET', KEYS[3]) or '0')
local rpm, tpm, par, budget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local tokens = tonumber(ARGV[5])
local code = 0
if rpm > 0 and r >= rpm then code = 1
elseif tpm > 0 and t + tokens > tpm then code = 2
elseif par > 0 and p >= par then code = 3
elseif budget > 0 and s >= budget then code = 4
else
  r = redis.call('HINCRBY', KEYS[1], 'r', 1)
  t = redis.call('HINCRBY', KEYS[1], 't', tokens)
  redis.call('PEXPIRE', KEYS[1], 120000)
  redis.call('ZADD', KEYS[2], ARGV[9], ARGV[8])
  redis.call('PEXPIRE', KEYS[2], 3600000)
  p = p + 1
  if tonumber(ARGV[6]) > 0 then s = tonumber(redis.call('INCRBYFLOAT', KEYS[3], ARGV[6])) end
  if tonumber(ARGV[10]) > 0 then redis.call('PEXPIRE', KEYS[3], ARGV[10]) end
end
return {code, r, t, p, tostring(s)}
)lua";

// KEYS as above. ARGV: token delta, usd delta, ticket.
constexpr const char* kSettleScript = R"lua(
redis.call('ZREM', KEYS[2], ARGV[3])
if tonumber(ARGV[1]) ~= 0 and redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HINCRBY', KEYS[1], 't', ARGV[1]) end
if tonumber(ARGV[2]) ~= 0 and redis.call('EXISTS', KEYS[3]) == 1 then redis.call('INCRBYFLOAT', KEYS[3], ARGV[2]) end
return 1
)lua";

// KEYS: minute hash, in-flight set, spend. ARGV: now. Returns {requests, tokens, in_flight, spend}.
constexpr const char* kUsageScript = R"lua(
local r = tonumber(redis.call('HGET', KEYS[1], 'r') or '0')
local t = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
local p = redis.call('ZCOUNT', KEYS[2], ARGV[1], '+inf')
return {r, t, p, redis.call('GET', KEYS[3]) or '0'}
)lua";

// KEYS: the records hash, the version counter. ARGV: name, record, its updated_ms. A record older
// than the one Redis holds is not written (the newest change wins, whichever replica made it).
constexpr const char* kPublishScript = R"lua(
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local u = tonumber(string.match(old, '([^\t]+)$'))
  if u and u >= tonumber(ARGV[3]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return redis.call('INCR', KEYS[2])
)lua";

struct Keys {
  std::string minute, inflight, spend;
};

Keys KeysFor(const std::string& name, int64_t minute, int64_t period_start_ms) {
  return {fmt::format("mec:auth:{}:m:{}", name, minute), fmt::format("mec:auth:{}:inflight", name),
          fmt::format("mec:auth:{}:spend:{}", name, period_start_ms)};
}

int64_t Int(const redisReply* r) {
  if (!r) return 0;
  if (r->type == REDIS_REPLY_INTEGER) return r->integer;
  if (r->type == REDIS_REPLY_STRING) return std::strtoll(r->str, nullptr, 10);
  return 0;
}

double Real(const redisReply* r) {
  if (r && r->type == REDIS_REPLY_STRING) return std::strtod(r->str, nullptr);
  return static_cast<double>(Int(r));
}

std::vector<std::string_view> SplitTabs(std::string_view s) {
  std::vector<std::string_view> out;
  for (;;) {
    const size_t t = s.find('\t');
    out.push_back(s.substr(0, t));
    if (t == std::string_view::npos) return out;
    s.remove_prefix(t + 1);
  }
}

}  // namespace

std::string EncodeKeyRecord(const KeyRecord& r) {
  std::string models;
  for (const auto& m : r.models) {
    if (!models.empty()) models += ',';
    models += m;
  }
  return fmt::format("v1\t{}\t{}\t{}\t{}\t{:.9f}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}", r.name, r.id, r.salt, r.hash,
                     r.limits.budget_usd, BudgetPeriodName(r.limits.period), r.limits.rpm, r.limits.tpm, r.limits.max_parallel,
                     static_cast<int>(r.tiers), PrivacyName(r.privacy), models, r.expires_unix, r.revoked ? 1 : 0, r.created_unix,
                     r.updated_ms);
}

std::optional<KeyRecord> DecodeKeyRecord(std::string_view s) {
  const auto f = SplitTabs(s);
  if (f.size() != 17 || f[0] != "v1") return std::nullopt;
  auto num = [](std::string_view v) { return std::strtoll(std::string(v).c_str(), nullptr, 10); };
  KeyRecord r;
  r.name = std::string(f[1]);
  r.id = std::string(f[2]);
  r.salt = std::string(f[3]);
  r.hash = std::string(f[4]);
  r.limits.budget_usd = std::strtod(std::string(f[5]).c_str(), nullptr);
  auto period = ParseBudgetPeriod(f[6]);
  auto privacy = ParsePrivacyName(f[11]);
  if (!period || !privacy || r.name.empty() || r.id.size() != 16 || r.hash.size() != 64) return std::nullopt;
  r.limits.period = *period;
  r.limits.rpm = num(f[7]);
  r.limits.tpm = num(f[8]);
  r.limits.max_parallel = num(f[9]);
  r.tiers = static_cast<uint8_t>(num(f[10]) & 7);
  r.privacy = *privacy;
  for (std::string_view m = f[12]; !m.empty();) {
    const size_t c = m.find(',');
    if (c) r.models.emplace_back(m.substr(0, c));
    if (c == std::string_view::npos) break;
    m.remove_prefix(c + 1);
  }
  r.expires_unix = num(f[13]);
  r.revoked = num(f[14]) != 0;
  r.created_unix = num(f[15]);
  r.updated_ms = num(f[16]);
  return r;
}

RedisLimiter::RedisLimiter(const StateOptions& state, const AuthOptions& auth, std::string replica_id, const Clock& clock,
                           KeysChanged on_keys)
    : state_(state), auth_(auth), replica_id_(std::move(replica_id)), clock_(clock), on_keys_(std::move(on_keys)) {}

RedisLimiter::~RedisLimiter() {
  Stop();
  if (redis_) redisFree(redis_);
}

void RedisLimiter::Start() { thread_ = std::thread([this] { Run(); }); }

void RedisLimiter::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::deque<Op> left;
  {
    std::lock_guard lock(mu_);
    left.swap(ops_);
  }
  for (auto& op : left) {
    if (op.reserved) op.reserved(std::nullopt);
    if (op.usage) op.usage(std::nullopt);
  }
}

bool RedisLimiter::Enqueue(Op op) {
  {
    std::unique_lock lock(mu_);
    // While Redis is down a reservation is answered at once (the caller uses its local share) and
    // a settlement is dropped (its reservation expires with its window); a publication waits.
    if (!stop_ && (up_ || op.kind == Op::kPublish) && ops_.size() < kMaxQueued) {
      ops_.push_back(std::move(op));
      lock.unlock();
      cv_.notify_one();
      return true;
    }
    ++stats_.dropped;
  }
  if (op.reserved) op.reserved(std::nullopt);
  if (op.usage) op.usage(std::nullopt);
  return false;
}

void RedisLimiter::Reserve(const KeyRecord& k, const KeyLimits& limits, const Reservation& r, int64_t now_ms, std::string ticket,
                           Reserved done) {
  Op op{Op::kReserve, k, limits, r, {}, {}, now_ms, std::move(done), nullptr};
  op.verdict.ticket = std::move(ticket);
  Enqueue(std::move(op));
}

void RedisLimiter::Settle(const std::string& name, const LimitVerdict& v, const Reservation& reserved, const Reservation& used) {
  Op op{Op::kSettle, {}, {}, reserved, used, v, 0, nullptr, nullptr};
  op.key.name = name;
  Enqueue(std::move(op));
}

void RedisLimiter::Usage(const KeyRecord& k, int64_t now_ms, UsageDone done) {
  Enqueue(Op{Op::kUsage, k, k.limits, {}, {}, {}, now_ms, nullptr, std::move(done)});
}

void RedisLimiter::Publish(const KeyRecord& r) { Enqueue(Op{Op::kPublish, r, {}, {}, {}, {}, 0, nullptr, nullptr}); }

bool RedisLimiter::up() const {
  std::lock_guard lock(mu_);
  return up_;
}

int RedisLimiter::live_replicas() const {
  std::lock_guard lock(mu_);
  return std::max(1, live_);
}

RedisLimiter::Stats RedisLimiter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void RedisLimiter::Fail(const char* why) {
  bool was_up;
  {
    std::lock_guard lock(mu_);
    was_up = up_;
    up_ = false;
    ++stats_.errors;
  }
  if (was_up)
    std::fprintf(stderr, "mecrouter: auth: Redis %s:%d unreachable (%s); each key gets this replica's share of its limits, retrying\n",
                 state_.redis_host.c_str(), state_.redis_port, why);
  if (redis_) {
    redisFree(redis_);
    redis_ = nullptr;
  }
  retry_at_ = clock_.Now() + std::chrono::seconds(1);
}

bool RedisLimiter::Connect() {
  if (redis_) return true;
  if (clock_.Now() < retry_at_) return false;
  std::string error;
  redis_ = ConnectRedis(state_, error);
  if (!redis_) {
    Fail(error.c_str());
    return false;
  }
  bool was_down;
  {
    std::lock_guard lock(mu_);
    was_down = !up_;
    up_ = true;
  }
  if (was_down && stats().errors > 0)
    std::fprintf(stderr, "mecrouter: auth: Redis %s:%d reachable again; limits are shared\n", state_.redis_host.c_str(), state_.redis_port);
  keys_version_.clear();  // re-read every key record after a reconnect
  return true;
}

void RedisLimiter::Run() {
  Connect();
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (ops_.empty()) cv_.wait_for(lock, std::chrono::milliseconds(std::min<int64_t>(auth_.reload_ms, 250)));
    if (stop_) break;
    std::deque<Op> batch;
    batch.swap(ops_);
    lock.unlock();
    const bool connected = Connect();
    for (auto& op : batch) {
      if (connected && redis_) Execute(op);
      else if (op.kind == Op::kPublish) unpublished_.push_back(op.key);
      else {
        if (op.reserved) op.reserved(std::nullopt);
        if (op.usage) op.usage(std::nullopt);
      }
    }
    if (clock_.Now() >= next_tick_ && Connect() && redis_) {
      Tick();
      next_tick_ = clock_.Now() + std::chrono::milliseconds(std::min<int64_t>(auth_.reload_ms, 250));
    }
    lock.lock();
  }
}

void RedisLimiter::Execute(Op& op) {
  const int64_t minute = op.kind == Op::kSettle ? op.verdict.minute : op.now_ms / 60000;
  const PeriodSpan period = PeriodAt(op.limits.period, op.now_ms);
  const int64_t period_start = op.kind == Op::kSettle ? op.verdict.period_start_ms : period.start_ms;
  const Keys keys = KeysFor(op.key.name, minute, period_start);
  redisReply* reply = nullptr;
  switch (op.kind) {
    case Op::kReserve: {
      const std::string budget = fmt::format("{:.9f}", op.limits.budget_usd), usd = fmt::format("{:.9f}", op.r.usd);
      const int64_t spend_ttl = period.end_ms == INT64_MAX ? 0 : period.end_ms - op.now_ms + 86400000;
      reply = static_cast<redisReply*>(redisCommand(
          redis_, "EVAL %s 3 %s %s %s %lld %lld %lld %s %lld %s %lld %s %lld %lld", kReserveScript, keys.minute.c_str(),
          keys.inflight.c_str(), keys.spend.c_str(), static_cast<long long>(op.limits.rpm), static_cast<long long>(op.limits.tpm),
          static_cast<long long>(op.limits.max_parallel), budget.c_str(), static_cast<long long>(op.r.tokens), usd.c_str(),
          static_cast<long long>(op.now_ms), op.verdict.ticket.c_str(), static_cast<long long>(op.now_ms + kTicketTtlMs),
          static_cast<long long>(spend_ttl)));
      if (!reply) {
        Fail(redis_->errstr);
        op.reserved(std::nullopt);
        return;
      }
      if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 5) {
        std::fprintf(stderr, "mecrouter: auth: unexpected reply to the reservation script (%s)\n",
                     reply->type == REDIS_REPLY_ERROR ? reply->str : "not an array");
        freeReplyObject(reply);
        {
          std::lock_guard lock(mu_);
          ++stats_.errors;
        }
        op.reserved(std::nullopt);
        return;
      }
      LimitVerdict v = op.verdict;
      const int64_t code = Int(reply->element[0]);
      const int64_t requests = Int(reply->element[1]), tokens = Int(reply->element[2]);
      freeReplyObject(reply);
      v.minute = minute;
      v.period_start_ms = period.start_ms;
      const double window_left_s = static_cast<double>((minute + 1) * 60000 - op.now_ms) / 1000.0;
      v.state = {op.limits.rpm, std::max<int64_t>(0, op.limits.rpm - requests), op.limits.tpm,
                 std::max<int64_t>(0, op.limits.tpm - tokens), window_left_s};
      v.refused = static_cast<LimitKind>(std::clamp<int64_t>(code, 0, 4));
      if (v.refused == LimitKind::kRpm || v.refused == LimitKind::kTpm) v.retry_after_s = window_left_s;
      else if (v.refused == LimitKind::kParallel) v.retry_after_s = 1;
      else if (v.refused == LimitKind::kBudget)
        v.retry_after_s = period.end_ms == INT64_MAX ? 0 : static_cast<double>(period.end_ms - op.now_ms) / 1000.0;
      {
        std::lock_guard lock(mu_);
        ++stats_.reserves;
      }
      op.reserved(std::move(v));
      return;
    }
    case Op::kSettle: {
      const std::string dusd = fmt::format("{:.9f}", op.used.usd - op.r.usd);
      reply = static_cast<redisReply*>(redisCommand(redis_, "EVAL %s 3 %s %s %s %lld %s %s", kSettleScript, keys.minute.c_str(),
                                                    keys.inflight.c_str(), keys.spend.c_str(),
                                                    static_cast<long long>(op.used.tokens - op.r.tokens), dusd.c_str(),
                                                    op.verdict.ticket.c_str()));
      if (!reply) return Fail(redis_->errstr);
      freeReplyObject(reply);
      std::lock_guard lock(mu_);
      ++stats_.settles;
      return;
    }
    case Op::kUsage: {
      reply = static_cast<redisReply*>(redisCommand(redis_, "EVAL %s 3 %s %s %s %lld", kUsageScript, keys.minute.c_str(),
                                                    keys.inflight.c_str(), keys.spend.c_str(), static_cast<long long>(op.now_ms)));
      if (!reply) {
        Fail(redis_->errstr);
        op.usage(std::nullopt);
        return;
      }
      std::optional<KeyUsage> u;
      if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 4) {
        u.emplace();
        u->requests_this_minute = Int(reply->element[0]);
        u->tokens_this_minute = Int(reply->element[1]);
        u->in_flight = Int(reply->element[2]);
        u->spend_usd = Real(reply->element[3]);
        u->period = period;
      }
      freeReplyObject(reply);
      op.usage(std::move(u));
      return;
    }
    case Op::kPublish: {
      unpublished_.push_back(op.key);
      return;  // Tick sends it now
    }
  }
}

void RedisLimiter::Tick() {
  // Publications first, so that our own change is in the hash before we read it back.
  while (!unpublished_.empty() && redis_) {
    const std::string value = EncodeKeyRecord(unpublished_.front());
    auto* reply = static_cast<redisReply*>(redisCommand(redis_, "EVAL %s 2 mec:auth:keys mec:auth:keys:version %s %b %lld", kPublishScript,
                                                        unpublished_.front().name.c_str(), value.data(), value.size(),
                                                        static_cast<long long>(unpublished_.front().updated_ms)));
    if (!reply) return Fail(redis_->errstr);
    freeReplyObject(reply);
    unpublished_.erase(unpublished_.begin());
  }
  const int64_t now_ms = clock_.UnixMillis();
  auto* reply = static_cast<redisReply*>(redisCommand(redis_, "ZADD mec:auth:replicas %lld %s", static_cast<long long>(now_ms),
                                                      replica_id_.c_str()));
  if (!reply) return Fail(redis_->errstr);
  freeReplyObject(reply);
  reply = static_cast<redisReply*>(redisCommand(redis_, "ZCOUNT mec:auth:replicas %lld +inf", static_cast<long long>(now_ms - 5000)));
  if (!reply) return Fail(redis_->errstr);
  {
    std::lock_guard lock(mu_);
    live_ = static_cast<int>(std::max<int64_t>(1, Int(reply)));
  }
  freeReplyObject(reply);
  reply = static_cast<redisReply*>(redisCommand(redis_, "GET mec:auth:keys:version"));
  if (!reply) return Fail(redis_->errstr);
  const std::string version = reply->type == REDIS_REPLY_STRING ? std::string(reply->str, reply->len) : "0";
  freeReplyObject(reply);
  if (version == keys_version_) return;
  reply = static_cast<redisReply*>(redisCommand(redis_, "HGETALL mec:auth:keys"));
  if (!reply) return Fail(redis_->errstr);
  std::vector<KeyRecord> records;
  if (reply->type == REDIS_REPLY_ARRAY)
    for (size_t i = 1; i < reply->elements; i += 2)
      if (auto r = DecodeKeyRecord(std::string_view(reply->element[i]->str, reply->element[i]->len))) records.push_back(std::move(*r));
  freeReplyObject(reply);
  keys_version_ = version;
  {
    std::lock_guard lock(mu_);
    ++stats_.key_updates;
  }
  if (on_keys_) on_keys_(std::move(records));
}

}  // namespace mec
