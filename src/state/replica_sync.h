#pragma once
// Shared learning between regional replicas (DESIGN.md §1; issue "Monitor and cache agents"):
// each replica reports what it observed of every backend's latency to Redis, and enters the other
// replicas' reports into its own BackendMonitor, so what one learns about a slow backend changes
// the others' routing within about one sync period.
//
// Only a replica's OWN observations are reported (the TTFT and time-per-token samples its requests
// measured since its last report, as a count and a mean in log space), never its estimate: an
// estimate already holds the others' reports, and echoing it back would keep a recovered backend
// looking slow. Reports are Redis hash fields, `mec:obs:<backend name>` -> `<replica id>` ->
// "<seq> <unix ms> <n ttft> <mean log ttft> <n tpot> <mean log tpot>"; a report is applied once
// (by seq) and ignored when older than stale_ms (bounded staleness).
//
// Ejections travel the same way: when this replica's outlier detector ejects a backend on its
// own evidence, the next sync writes `mec:eject:<backend name>` -> `<replica id>` ->
// "<ejection count> <unix ms> <ejected until, unix ms>"; the others take the backend out until
// then (BackendMonitor::OnRemoteEjection; never beyond their max ejection, never over a probe in
// flight), once per count, ignoring reports older than stale_ms. A peer's ejection is not counted
// as this replica's own, so it is never echoed back. Recovery is not shared: each replica probes
// the backend itself when the ejection ends.
//
// Redis is never on a request's path: Note() only adds to an in-memory sum; a background thread
// talks to Redis (hiredis 0.14, blocking, with timeouts; TLS with rediss://: state/redis_connect.h).
// When Redis is unreachable the replica keeps serving on its local state, says so once on stderr,
// counts the failures, and reconnects on the next period.
//
// Thread-safety: Note() and status() from any thread; Start()/Stop() from one.

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "backend/backend_monitor.h"
#include "backend/backend_pool.h"
#include "config/options.h"
#include "core/clock.h"

struct redisContext;

namespace mec {

// One report's fields (exposed for tests).
struct ReplicaReport {
  uint64_t seq = 0;
  int64_t unix_ms = 0;
  double n_ttft = 0, mean_log_ttft = 0;
  double n_tpot = 0, mean_log_tpot = 0;
};
std::string FormatReport(const ReplicaReport& r);
std::optional<ReplicaReport> ParseReport(std::string_view s);
// A peer's ejection record: "<count> <unix ms> <until unix ms>".
struct PeerEjection {
  int64_t count = 0, unix_ms = 0, until_ms = 0;
};
std::optional<PeerEjection> ParseEjection(std::string_view s);

class ReplicaSync {
 public:
  ReplicaSync(const StateOptions& options, const BackendPool& pool, BackendMonitor& monitor, const Clock& clock,
              std::string replica_id);
  ~ReplicaSync();  // Stop()s

  void Start();
  void Stop();
  // A local attempt's observation of backend b (the gateway calls it beside the monitor's).
  void Note(int backend, std::optional<double> ttft_s, std::optional<double> tpot_s);
  // One exchange with Redis now (the thread calls it every sync period; tests may call it).
  void SyncOnce();

  struct Status {
    bool connected = false;
    uint64_t reports_sent = 0, reports_applied = 0, errors = 0;
    uint64_t ejections_sent = 0, ejections_applied = 0;
    std::string last_error;
  };
  Status status() const;
  const std::string& id() const { return id_; }

 private:
  struct Sums {
    double n_ttft = 0, sum_ttft = 0, n_tpot = 0, sum_tpot = 0;
  };
  bool Connect();
  // Shares this replica's new ejections and applies the others'. False when Redis failed.
  bool SyncEjections(int64_t now_ms, uint64_t& sent, uint64_t& applied);
  void Fail(const std::string& why);

  const StateOptions options_;
  const BackendPool& pool_;
  BackendMonitor& monitor_;
  const Clock& clock_;
  const std::string id_;

  std::mutex sums_mu_;
  std::vector<Sums> sums_;  // per backend, since the last report; guarded by sums_mu_

  // Owned by the sync thread (or the SyncOnce caller).
  redisContext* redis_ = nullptr;
  uint64_t seq_ = 0;
  std::map<std::pair<std::string, std::string>, uint64_t> applied_;  // (backend, replica) -> last seq
  std::vector<int64_t> ejections_shared_;  // per backend: own ejection count last written
  std::map<std::pair<std::string, std::string>, int64_t> ejections_applied_;  // (backend, replica) -> count

  mutable std::mutex status_mu_;
  Status status_;

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace mec
