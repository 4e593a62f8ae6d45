#include "state/replica_sync.h"

#include <hiredis/hiredis.h>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "state/redis_connect.h"

namespace mec {

std::string FormatReport(const ReplicaReport& r) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%llu %lld %.6g %.9g %.6g %.9g", static_cast<unsigned long long>(r.seq),
                static_cast<long long>(r.unix_ms), r.n_ttft, r.mean_log_ttft, r.n_tpot, r.mean_log_tpot);
  return buf;
}

std::optional<ReplicaReport> ParseReport(std::string_view s) {
  std::istringstream in{std::string(s)};
  ReplicaReport r;
  unsigned long long seq = 0;
  long long ms = 0;
  if (!(in >> seq >> ms >> r.n_ttft >> r.mean_log_ttft >> r.n_tpot >> r.mean_log_tpot)) return std::nullopt;
  if (!std::isfinite(r.n_ttft) || !std::isfinite(r.mean_log_ttft) || !std::isfinite(r.n_tpot) || !std::isfinite(r.mean_log_tpot) ||
      r.n_ttft < 0 || r.n_tpot < 0)
    return std::nullopt;
  r.seq = seq;
  r.unix_ms = ms;
  return r;
}

std::optional<PeerEjection> ParseEjection(std::string_view s) {
  std::istringstream in{std::string(s)};
  long long count = 0, ms = 0, until = 0;
  if (!(in >> count >> ms >> until) || count < 1 || until < ms) return std::nullopt;
  return PeerEjection{count, ms, until};
}

ReplicaSync::ReplicaSync(const StateOptions& options, const BackendPool& pool, BackendMonitor& monitor, const Clock& clock,
                         std::string replica_id)
    : options_(options), pool_(pool), monitor_(monitor), clock_(clock), id_(std::move(replica_id)), sums_(pool.size()),
      ejections_shared_(pool.size(), 0) {}

ReplicaSync::~ReplicaSync() {
  Stop();
  if (redis_) redisFree(redis_);
}

void ReplicaSync::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(run_mu_);
    while (!stop_) {
      lock.unlock();
      SyncOnce();
      lock.lock();
      run_cv_.wait_for(lock, std::chrono::milliseconds(options_.sync_ms), [this] { return stop_; });
    }
  });
}

void ReplicaSync::Stop() {
  {
    std::lock_guard lock(run_mu_);
    stop_ = true;
  }
  run_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ReplicaSync::Note(int backend, std::optional<double> ttft_s, std::optional<double> tpot_s) {
  if (backend < 0 || static_cast<size_t>(backend) >= sums_.size()) return;
  std::lock_guard lock(sums_mu_);
  Sums& s = sums_[backend];
  if (ttft_s && *ttft_s > 0) {
    s.n_ttft += 1;
    s.sum_ttft += std::log(*ttft_s);
  }
  if (tpot_s && *tpot_s > 0) {
    s.n_tpot += 1;
    s.sum_tpot += std::log(*tpot_s);
  }
}

void ReplicaSync::Fail(const std::string& why) {
  bool was_connected;
  {
    std::lock_guard lock(status_mu_);
    was_connected = status_.connected || status_.errors == 0;
    status_.connected = false;
    ++status_.errors;
    status_.last_error = why;
  }
  if (was_connected)
    std::fprintf(stderr, "mecrouter: shared state: Redis %s:%d unreachable (%s); serving on local state, retrying\n",
                 options_.redis_host.c_str(), options_.redis_port, why.c_str());
  if (redis_) {
    redisFree(redis_);
    redis_ = nullptr;
  }
}

bool ReplicaSync::Connect() {
  if (redis_) return true;
  std::string error;
  redis_ = ConnectRedis(options_, error);
  if (!redis_) {
    Fail(error);
    return false;
  }
  bool was_down;
  {
    std::lock_guard lock(status_mu_);
    was_down = !status_.connected && status_.errors > 0;
    status_.connected = true;
  }
  if (was_down) std::fprintf(stderr, "mecrouter: shared state: Redis %s:%d reachable again\n", options_.redis_host.c_str(), options_.redis_port);
  return true;
}

void ReplicaSync::SyncOnce() {
  // Take what was observed since the last report, whether or not Redis answers (a report that
  // cannot be sent is dropped: the local estimators already have it).
  std::vector<Sums> taken(pool_.size());
  {
    std::lock_guard lock(sums_mu_);
    taken.swap(sums_);
  }
  if (!Connect()) return;
  // Replicas are other processes: reports carry wall-clock time (second resolution is enough
  // against a staleness bound of seconds).
  const int64_t now_ms = clock_.UnixMillis();
  ++seq_;
  uint64_t sent = 0, applied = 0;
  for (size_t b = 0; b < pool_.size(); ++b) {
    const std::string key = "mec:obs:" + pool_.at(b).name();
    const Sums& s = taken[b];
    if (s.n_ttft > 0 || s.n_tpot > 0) {
      ReplicaReport r;
      r.seq = seq_;
      r.unix_ms = now_ms;
      r.n_ttft = s.n_ttft;
      r.mean_log_ttft = s.n_ttft > 0 ? s.sum_ttft / s.n_ttft : 0;
      r.n_tpot = s.n_tpot;
      r.mean_log_tpot = s.n_tpot > 0 ? s.sum_tpot / s.n_tpot : 0;
      const std::string v = FormatReport(r);
      auto* reply = static_cast<redisReply*>(redisCommand(redis_, "HSET %b %b %b", key.data(), key.size(), id_.data(), id_.size(), v.data(), v.size()));
      if (!reply) return Fail(redis_->errstr);
      freeReplyObject(reply);
      reply = static_cast<redisReply*>(redisCommand(redis_, "PEXPIRE %b %lld", key.data(), key.size(), static_cast<long long>(options_.stale_ms * 6)));
      if (!reply) return Fail(redis_->errstr);
      freeReplyObject(reply);
      ++sent;
    }
    auto* reply = static_cast<redisReply*>(redisCommand(redis_, "HGETALL %b", key.data(), key.size()));
    if (!reply) return Fail(redis_->errstr);
    if (reply->type == REDIS_REPLY_ARRAY) {
      for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const std::string who(reply->element[i]->str, reply->element[i]->len);
        if (who == id_) continue;
        auto r = ParseReport(std::string_view(reply->element[i + 1]->str, reply->element[i + 1]->len));
        if (!r || now_ms - r->unix_ms > options_.stale_ms) continue;
        uint64_t& last = applied_[{pool_.at(b).name(), who}];
        if (r->seq <= last) continue;
        last = r->seq;
        // A report weighs as much as the samples it summarizes, at most 5 (one replica's burst
        // must not swamp what this one measured itself).
        std::optional<double> ttft, tpot;
        if (r->n_ttft > 0) ttft = std::exp(r->mean_log_ttft);
        if (r->n_tpot > 0) tpot = std::exp(r->mean_log_tpot);
        const double weight = std::min(5.0, std::max(r->n_ttft, r->n_tpot));
        monitor_.OnRemoteObservation(static_cast<int>(b), ttft, tpot, weight, clock_.Now());
        ++applied;
      }
    }
    freeReplyObject(reply);
  }
  uint64_t ej_sent = 0, ej_applied = 0;
  const bool ok = options_.share_ejections ? SyncEjections(now_ms, ej_sent, ej_applied) : true;
  std::lock_guard lock(status_mu_);
  status_.reports_sent += sent;
  status_.reports_applied += applied;
  status_.ejections_sent += ej_sent;
  status_.ejections_applied += ej_applied;
  (void)ok;  // a failure was already counted by Fail()
}

bool ReplicaSync::SyncEjections(int64_t now_ms, uint64_t& sent, uint64_t& applied) {
  bool changed = false;
  const TimePoint now = clock_.Now();
  for (size_t b = 0; b < pool_.size(); ++b) {
    const std::string key = "mec:eject:" + pool_.at(b).name();
    const BackendView v = monitor_.View(static_cast<int>(b), now);
    if (v.ejections > ejections_shared_[b]) {
      if (v.ejected_for_s > 0) {
        const std::string value = std::to_string(v.ejections) + " " + std::to_string(now_ms) + " " +
                                  std::to_string(now_ms + static_cast<int64_t>(v.ejected_for_s * 1000));
        auto* reply = static_cast<redisReply*>(redisCommand(redis_, "HSET %b %b %b", key.data(), key.size(), id_.data(), id_.size(), value.data(), value.size()));
        if (!reply) return Fail(redis_->errstr), false;
        freeReplyObject(reply);
        reply = static_cast<redisReply*>(redisCommand(redis_, "PEXPIRE %b %lld", key.data(), key.size(), static_cast<long long>(options_.stale_ms * 6)));
        if (!reply) return Fail(redis_->errstr), false;
        freeReplyObject(reply);
        ++sent;
      }
      ejections_shared_[b] = v.ejections;  // an ejection already over by now is not worth sharing
    }
    auto* reply = static_cast<redisReply*>(redisCommand(redis_, "HGETALL %b", key.data(), key.size()));
    if (!reply) return Fail(redis_->errstr), false;
    if (reply->type == REDIS_REPLY_ARRAY) {
      for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const std::string who(reply->element[i]->str, reply->element[i]->len);
        if (who == id_) continue;
        auto e = ParseEjection(std::string_view(reply->element[i + 1]->str, reply->element[i + 1]->len));
        if (!e || now_ms - e->unix_ms > options_.stale_ms || e->until_ms <= now_ms) continue;
        int64_t& last = ejections_applied_[{pool_.at(b).name(), who}];
        if (e->count <= last) continue;
        last = e->count;
        if (monitor_.OnRemoteEjection(static_cast<int>(b), std::chrono::milliseconds(e->until_ms - now_ms), now)) {
          changed = true;
          ++applied;
        }
      }
    }
    freeReplyObject(reply);
  }
  if (changed) monitor_.Publish(now);  // route around it now, not at the next timer
  return true;
}

ReplicaSync::Status ReplicaSync::status() const {
  std::lock_guard lock(status_mu_);
  return status_;
}

}  // namespace mec
