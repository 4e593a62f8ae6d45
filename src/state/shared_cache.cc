#include "state/shared_cache.h"

#include <hiredis/hiredis.h>

#include <charconv>
#include <cstdio>

#include "state/redis_connect.h"

namespace mec {
namespace {

constexpr std::string_view kMagic = "MECA1\n";

// "<decimal length>:<bytes>"
void AppendField(std::string& out, std::string_view v) {
  out += std::to_string(v.size());
  out.push_back(':');
  out.append(v);
}

struct Reader {
  std::string_view in;
  bool ok = true;
  std::string_view Field() {
    const size_t colon = in.find(':');
    size_t n = 0;
    if (!ok || colon == std::string_view::npos || colon == 0 ||
        std::from_chars(in.data(), in.data() + colon, n).ptr != in.data() + colon || n > in.size() - colon - 1) {
      ok = false;
      return {};
    }
    std::string_view v = in.substr(colon + 1, n);
    in.remove_prefix(colon + 1 + n);
    return v;
  }
  int64_t Number() {
    const std::string_view v = Field();
    int64_t x = 0;
    if (!ok || v.empty() || std::from_chars(v.data(), v.data() + v.size(), x).ptr != v.data() + v.size() || x < 0) ok = false;
    return x;
  }
};

std::string CacheRedisKey(const std::string& key) { return "mec:cache:" + key; }

}  // namespace

std::string EncodeAnswer(const CachedAnswer& a, const BackendPool& pool) {
  std::string out(kMagic);
  AppendField(out, a.backend >= 0 && static_cast<size_t>(a.backend) < pool.size() ? pool.at(a.backend).name() : "");
  AppendField(out, a.model);
  AppendField(out, a.stream ? "1" : "0");
  AppendField(out, a.content_type);
  AppendField(out, a.body);
  AppendField(out, std::to_string(a.output_tokens));
  AppendField(out, std::to_string(a.events.size()));
  for (const auto& e : a.events) AppendField(out, e);
  return out;
}

std::optional<CachedAnswer> DecodeAnswer(std::string_view bytes, const BackendPool& pool) {
  if (bytes.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  Reader r{bytes.substr(kMagic.size())};
  CachedAnswer a;
  const std::string_view backend = r.Field();
  a.model = r.Field();
  const std::string_view stream = r.Field();
  a.content_type = r.Field();
  a.body = r.Field();
  a.output_tokens = r.Number();
  const int64_t events = r.Number();
  if (!r.ok || (stream != "0" && stream != "1") || events > static_cast<int64_t>(bytes.size())) return std::nullopt;
  a.stream = stream == "1";
  a.events.reserve(static_cast<size_t>(events));
  for (int64_t i = 0; i < events && r.ok; ++i) a.events.emplace_back(r.Field());
  if (!r.ok || !r.in.empty()) return std::nullopt;
  for (size_t b = 0; b < pool.size(); ++b)
    if (pool.at(b).name() == backend) a.backend = static_cast<int>(b);
  if (a.backend < 0) return std::nullopt;
  return a;
}

SharedCache::SharedCache(const StateOptions& options, const BackendPool& pool, Duration ttl, const Clock& clock)
    : options_(options), pool_(pool), ttl_ms_(std::max<int64_t>(1, static_cast<int64_t>(ToMillis(ttl)))), clock_(clock) {}

SharedCache::~SharedCache() {
  Stop();
  if (redis_) redisFree(redis_);
}

void SharedCache::Start() { thread_ = std::thread([this] { Run(); }); }

void SharedCache::Stop() {
  std::deque<Op> gets;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(mu_);
    gets.swap(gets_);
    puts_.clear();
  }
  for (auto& op : gets) op.done(nullptr);
}

void SharedCache::Get(const std::string& key, Done done) {
  {
    std::unique_lock lock(mu_);
    ++stats_.lookups;
    if (up_ && !stop_ && gets_.size() + puts_.size() < kMaxQueued) {
      gets_.push_back(Op{key, {}, std::move(done)});
      lock.unlock();
      cv_.notify_one();
      return;
    }
    ++stats_.dropped;
    ++stats_.dropped_lookups;
  }
  done(nullptr);
}

void SharedCache::Put(const std::string& key, const CachedAnswer& answer) {
  std::string value = EncodeAnswer(answer, pool_);
  if (value.size() > kMaxEntryBytes) return;
  {
    std::lock_guard lock(mu_);
    if (!up_ || stop_ || gets_.size() + puts_.size() >= kMaxQueued) {
      ++stats_.dropped;
      return;
    }
    puts_.push_back(Op{key, std::move(value), nullptr});
  }
  cv_.notify_one();
}

SharedCache::Stats SharedCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void SharedCache::Fail(const char* why) {
  bool was_up;
  {
    std::lock_guard lock(mu_);
    was_up = up_;
    up_ = false;
    stats_.connected = false;
    ++stats_.errors;
  }
  if (was_up)
    std::fprintf(stderr, "mecrouter: shared cache: Redis %s:%d unreachable (%s); local cache only, retrying\n",
                 options_.redis_host.c_str(), options_.redis_port, why);
  if (redis_) {
    redisFree(redis_);
    redis_ = nullptr;
  }
  retry_at_ = clock_.Now() + std::chrono::seconds(1);
}

bool SharedCache::Connect() {
  if (redis_) return true;
  std::string error;
  redis_ = ConnectRedis(options_, error);
  if (!redis_) {
    Fail(error.c_str());
    return false;
  }
  bool was_down;
  {
    std::lock_guard lock(mu_);
    was_down = !up_;
    up_ = true;
    stats_.connected = true;
  }
  if (was_down) std::fprintf(stderr, "mecrouter: shared cache: Redis %s:%d reachable again\n", options_.redis_host.c_str(), options_.redis_port);
  return true;
}

void SharedCache::Execute(Op& op) {
  const std::string key = CacheRedisKey(op.key);
  if (!op.done) {  // a store
    auto* reply = static_cast<redisReply*>(redisCommand(redis_, "SET %b %b PX %lld", key.data(), key.size(), op.value.data(),
                                                        op.value.size(), static_cast<long long>(ttl_ms_)));
    if (!reply) return Fail(redis_->errstr);
    freeReplyObject(reply);
    std::lock_guard lock(mu_);
    ++stats_.stores;
    return;
  }
  auto* reply = static_cast<redisReply*>(redisCommand(redis_, "GET %b", key.data(), key.size()));
  if (!reply) {
    Fail(redis_->errstr);
    op.done(nullptr);
    return;
  }
  std::shared_ptr<const CachedAnswer> found;
  if (reply->type == REDIS_REPLY_STRING) {
    if (auto a = DecodeAnswer(std::string_view(reply->str, reply->len), pool_)) found = std::make_shared<const CachedAnswer>(std::move(*a));
  }
  freeReplyObject(reply);
  if (found) {
    std::lock_guard lock(mu_);
    ++stats_.hits;
  }
  op.done(std::move(found));
}

void SharedCache::Run() {
  Connect();  // at once, so that lookups find Redis from the start when it is there
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (!up_) {
      // Down: what waits would only fail too; new lookups are refused at the door until the
      // reconnect (once per second) succeeds.
      std::deque<Op> gets;
      gets.swap(gets_);
      puts_.clear();
      lock.unlock();
      for (auto& g : gets) g.done(nullptr);
      lock.lock();
      cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_; });
      if (stop_ || clock_.Now() < retry_at_) continue;
      lock.unlock();
      Connect();
      lock.lock();
      continue;
    }
    const bool work = cv_.wait_for(lock, std::chrono::milliseconds(options_.sync_ms),
                                   [this] { return stop_ || !up_ || !gets_.empty() || !puts_.empty(); });
    if (stop_ || !up_) continue;
    if (!work) {  // idle for a sync period: PING, so that a Redis gone away is noticed (and said) while idle
      lock.unlock();
      if (Connect()) {
        if (auto* reply = static_cast<redisReply*>(redisCommand(redis_, "PING"))) freeReplyObject(reply);
        else Fail(redis_->errstr);
      }
      lock.lock();
      continue;
    }
    const bool lookup = !gets_.empty();  // lookups go first: a request waits on them
    Op op = std::move(lookup ? gets_.front() : puts_.front());
    if (lookup) gets_.pop_front();
    else puts_.pop_front();
    lock.unlock();
    if (Connect()) Execute(op);
    else if (op.done) op.done(nullptr);
    lock.lock();
  }
}

}  // namespace mec
