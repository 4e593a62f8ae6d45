#include "auth/key_guard.h"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

namespace mec {
namespace {

ApiError Unauthorized(std::string message) {
  return ApiError{401, "invalid_request_error", std::move(message), "", "invalid_api_key"};
}

}  // namespace

KeyGuard::KeyGuard(const AuthOptions& auth, const StateOptions& state, const Clock& clock, std::string replica_id)
    : auth_(auth), state_(state), clock_(clock), replica_id_(std::move(replica_id)), table_(std::make_shared<Table>()) {}

KeyGuard::~KeyGuard() { Stop(); }

Status KeyGuard::Start() {
  {
    std::lock_guard lock(store_mu_);
    auto store = KeyStore::Open(auth_.keys_db);
    if (!store.ok()) return Status::InvalidArgument("auth.keys_db: " + store.status().message());
    store_ = std::move(*store);
    if (Status s = Reload(); !s.ok()) return s;
  }
  if (!state_.redis_host.empty()) {
    redis_ = std::make_unique<RedisLimiter>(state_, auth_, replica_id_, clock_,
                                            [this](std::vector<KeyRecord> r) { OnRedisKeys(std::move(r)); });
    redis_->Start();
    auto all = List();  // what this replica knows goes to the others (the newest change wins)
    if (all.ok())
      for (const auto& r : *all) {
        redis_->Publish(r);
        published_upto_ms_ = std::max(published_upto_ms_, r.updated_ms);
      }
  }
  watcher_ = std::thread([this] { Watch(); });
  return Status::Ok();
}

void KeyGuard::Stop() {
  {
    std::lock_guard lock(watch_mu_);
    stop_ = true;
  }
  watch_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  if (redis_) redis_->Stop();
}

Status KeyGuard::Reload() {
  auto version = store_->DataVersion();
  auto records = store_->List();
  if (!records.ok()) return records.status();
  auto table = std::make_shared<Table>();
  for (auto& r : *records) {
    std::string id = r.id;  // named first: the record is moved in the same call
    table->emplace(std::move(id), std::make_shared<const KeyRecord>(std::move(r)));
  }
  if (version.ok()) data_version_ = *version;
  {
    std::lock_guard lock(table_mu_);
    table_ = std::move(table);
  }
  reloads_.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

void KeyGuard::Watch() {
  std::unique_lock lock(watch_mu_);
  while (!stop_) {
    watch_cv_.wait_for(lock, std::chrono::milliseconds(auth_.reload_ms));
    if (stop_) break;
    lock.unlock();
    {
      std::lock_guard store_lock(store_mu_);
      auto version = store_->DataVersion();
      if (version.ok() && *version != data_version_) {
        if (Status s = Reload(); !s.ok()) std::fprintf(stderr, "mecrouter: auth: reloading keys failed: %s\n", s.message().c_str());
        else if (redis_) PublishNewer();  // the CLI's changes reach replicas on other hosts too
      }
    }
    lock.lock();
  }
}

void KeyGuard::PublishNewer() {
  std::shared_ptr<const Table> table;
  {
    std::lock_guard lock(table_mu_);
    table = table_;
  }
  int64_t upto = published_upto_ms_;
  for (const auto& [id, r] : *table)
    if (r->updated_ms > published_upto_ms_) {
      redis_->Publish(*r);
      upto = std::max(upto, r->updated_ms);
    }
  published_upto_ms_ = upto;
}

void KeyGuard::OnRedisKeys(std::vector<KeyRecord> records) {
  std::lock_guard lock(store_mu_);
  bool changed = false;
  for (const auto& r : records) {
    auto applied = store_->Apply(r, "replica sync");
    if (!applied.ok()) std::fprintf(stderr, "mecrouter: auth: storing key '%s' from Redis failed: %s\n", r.name.c_str(), applied.status().message().c_str());
    else changed |= *applied;
  }
  if (changed) (void)Reload();  // our own writes do not move data_version: reload now
}

std::variant<KeyGuard::KeyPtr, ApiError> KeyGuard::Authenticate(std::string_view authorization) const {
  const std::string_view token = BearerToken(authorization);
  if (token.empty())
    return Unauthorized("You didn't provide an API key. Send it as 'Authorization: Bearer <key>' (mecrouter keys create; docs/security.md).");
  const auto id = KeyId(token);
  std::shared_ptr<const Table> table;
  {
    std::lock_guard lock(table_mu_);
    table = table_;
  }
  KeyPtr key;
  if (id) {
    auto it = table->find(std::string(*id));
    if (it != table->end() && KeyMatches(*it->second, token)) key = it->second;
  }
  if (!key) return Unauthorized("Incorrect API key provided. Keys are made with 'mecrouter keys create' (docs/security.md).");
  if (key->revoked) return Unauthorized("This API key has been revoked.");
  if (key->expires_unix && clock_.UnixSeconds() >= key->expires_unix) return Unauthorized("This API key has expired.");
  return key;
}

int KeyGuard::share() const {
  if (auth_.fallback_replicas > 0) return auth_.fallback_replicas;
  return redis_ ? redis_->live_replicas() : 1;
}

LimitVerdict KeyGuard::ReserveLocal(const KeyRecord& k, const Reservation& r, std::string ticket, bool fallback) {
  if (!fallback) return local_.Reserve(k, k.limits, r, clock_.UnixMillis(), std::move(ticket));
  return fallback_.Reserve(k, ShareOf(k.limits, share()), r, clock_.UnixMillis(), std::move(ticket));
}

void KeyGuard::Settle(const KeyRecord& k, Where where, const LimitVerdict& v, const Reservation& reserved, const Reservation& used) {
  {
    std::lock_guard lock(counters_mu_);
    KeyCounters& c = counters_[k.name];
    ++c.requests;
    c.spend_usd += used.usd;
  }
  switch (where) {
    case Where::kLocal: return local_.Settle(k.name, v, reserved, used);
    case Where::kFallback: return fallback_.Settle(k.name, v, reserved, used);
    case Where::kShared:
      if (redis_) redis_->Settle(k.name, v, reserved, used);
      return;
  }
}

KeyUsage KeyGuard::LocalUsage(const KeyRecord& k) const { return local_.Usage(k, clock_.UnixMillis()); }

Result<NewKey> KeyGuard::Create(const KeyRecord& base, const std::string& who) {
  std::lock_guard lock(store_mu_);
  auto k = store_->Create(base, who, clock_.UnixMillis());
  if (!k.ok()) return k;
  (void)Reload();
  if (redis_) redis_->Publish(k->record);
  return k;
}

Status KeyGuard::Revoke(const std::string& name, const std::string& who) {
  std::lock_guard lock(store_mu_);
  if (Status s = store_->Revoke(name, who, clock_.UnixMillis()); !s.ok()) return s;
  (void)Reload();
  if (redis_) {
    auto r = store_->Find(name);
    if (r.ok()) redis_->Publish(*r);
  }
  return Status::Ok();
}

Result<NewKey> KeyGuard::Rotate(const std::string& name, const std::string& who) {
  std::lock_guard lock(store_mu_);
  auto k = store_->Rotate(name, who, clock_.UnixMillis());
  if (!k.ok()) return k;
  (void)Reload();
  if (redis_) redis_->Publish(k->record);
  return k;
}

Result<std::vector<KeyRecord>> KeyGuard::List() {
  std::lock_guard lock(store_mu_);
  return store_->List();
}

Result<KeyRecord> KeyGuard::Find(const std::string& name) {
  std::lock_guard lock(store_mu_);
  return store_->Find(name);
}

Result<std::vector<AuditEntry>> KeyGuard::Audit(int limit) {
  std::lock_guard lock(store_mu_);
  return store_->Audit(limit);
}

void KeyGuard::CountRefused(const std::string& name) {
  std::lock_guard lock(counters_mu_);
  ++counters_[name].refused;
}

std::vector<KeyGuard::KeyCounters> KeyGuard::Counters() const {
  std::vector<KeyCounters> out;
  std::lock_guard lock(counters_mu_);
  out.reserve(counters_.size());
  for (const auto& [name, c] : counters_) {
    out.push_back(c);
    out.back().name = name;
  }
  return out;
}

std::string KeyGuard::MetricsText() const {
  std::string out = fmt::format(
      "# HELP mec_auth_keys API keys loaded from auth.keys_db (active, revoked and expired).\n"
      "# TYPE mec_auth_keys gauge\nmec_auth_keys {}\n"
      "# HELP mec_auth_reloads_total Times the key table was reloaded (a change by the CLI, the admin API or another replica).\n"
      "# TYPE mec_auth_reloads_total counter\nmec_auth_reloads_total {}\n"
      "# HELP mec_auth_fallback_total Admissions decided on this replica's local share of the limits because Redis did not "
      "answer within auth.redis_timeout_ms.\n"
      "# TYPE mec_auth_fallback_total counter\nmec_auth_fallback_total {}\n",
      size(), reloads_.load(std::memory_order_relaxed), fallbacks_.load(std::memory_order_relaxed));
  if (redis_) {
    const auto st = redis_->stats();
    out += fmt::format(
        "# HELP mec_auth_redis_up 1 while the shared limits in Redis are reachable.\n# TYPE mec_auth_redis_up gauge\nmec_auth_redis_up {}\n"
        "# HELP mec_auth_live_replicas Replicas Redis saw in the last 5 s (the local share's divisor unless auth.fallback_replicas).\n"
        "# TYPE mec_auth_live_replicas gauge\nmec_auth_live_replicas {}\n"
        "# HELP mec_auth_redis_errors_total Failed calls to Redis for limits and keys.\n"
        "# TYPE mec_auth_redis_errors_total counter\nmec_auth_redis_errors_total {}\n",
        redis_->up() ? 1 : 0, redis_->live_replicas(), st.errors);
  }
  auto counters = Counters();
  for (auto& c : counters) {  // label values escaped as Prometheus's text format asks
    std::string e;
    for (char ch : c.name) e += ch == '\\' ? "\\\\" : ch == '"' ? "\\\"" : ch == '\n' ? "\\n" : std::string(1, ch);
    c.name = std::move(e);
  }
  out += "# HELP mec_key_requests_total Requests admitted for an API key (by key name), through this replica.\n"
         "# TYPE mec_key_requests_total counter\n";
  for (const auto& c : counters) out += fmt::format("mec_key_requests_total{{key=\"{}\"}} {}\n", c.name, c.requests);
  out += "# HELP mec_key_refused_total Requests refused by an API key's limits (429), through this replica.\n"
         "# TYPE mec_key_refused_total counter\n";
  for (const auto& c : counters) out += fmt::format("mec_key_refused_total{{key=\"{}\"}} {}\n", c.name, c.refused);
  out += "# HELP mec_key_spend_usd_total Spend settled for an API key (USD), through this replica.\n"
         "# TYPE mec_key_spend_usd_total counter\n";
  for (const auto& c : counters) out += fmt::format("mec_key_spend_usd_total{{key=\"{}\"}} {:.6f}\n", c.name, c.spend_usd);
  return out;
}

size_t KeyGuard::size() const {
  std::lock_guard lock(table_mu_);
  return table_->size();
}

KeyGuard::Stats KeyGuard::stats() const {
  return {reloads_.load(std::memory_order_relaxed), fallbacks_.load(std::memory_order_relaxed)};
}

}  // namespace mec
