#pragma once
// Learning shared between replicas through Redis (docs/learning.md, "Several replicas"): every
// replica's verdicts reach every other replica, one replica at a time trains (it holds a lease),
// and what it promotes every replica loads.
//
// Keys (all under `mec:learn:`):
//   labels   a Redis stream; one entry per verdict: `r` <replica id>, `row` <one opaque line: the
//            caller's serialized sample, which must carry no prompt text>. Trimmed to about
//            `max_labels` entries (XADD MAXLEN ~).
//   lease    the trainer's lease: <replica id>, with a time to live of lease_ms. Taken with SET NX,
//            renewed only by its holder (a compare-and-PEXPIRE script), deleted by its holder on
//            ReleaseLease(); a holder that dies loses it after lease_ms.
//   model    a hash: version, name, by (replica id), text (the model's text form). Written only
//            while the writer holds the lease (checked in the same script: a trainer whose lease
//            lapsed during a long fit cannot overwrite a newer trainer's model).
//   spend:<UTC day index>  reference and judge spending of the whole fleet that day (INCRBYFLOAT,
//            kept two days), so the daily cap holds for the fleet, not per replica.
//
// Redis is never on a request's path: the learning worker's trainer thread calls every method.
// Each is blocking with the 300 ms timeouts of ConnectRedis; on failure it returns false or
// nullopt, counts the error, says so once on stderr, and reconnects on the next call.
//
// Thread-safety: one thread calls the methods below; status() may be called from any thread.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/options.h"

struct redisContext;
struct redisReply;

namespace mec {

struct SharedModel {
  int64_t version = 0;
  std::string name;
  std::string by;    // the publishing replica's id
  std::string text;
};

class LearningSync {
 public:
  LearningSync(const StateOptions& options, std::string replica_id, int64_t lease_ms, int64_t max_labels);
  ~LearningSync();
  LearningSync(const LearningSync&) = delete;
  LearningSync& operator=(const LearningSync&) = delete;

  // Appends this replica's rows to the shared stream. False (nothing or part sent: the caller
  // keeps them and tries again) when Redis failed; `*sent` says how many of the first rows went.
  bool Push(const std::vector<std::string>& rows, size_t* sent);
  // The rows other replicas appended since the last Pull (the first call reads the whole stream);
  // nullopt when Redis failed (the next call resumes where the last successful one stopped).
  std::optional<std::vector<std::string>> Pull();
  // Takes the trainer's lease, or renews it when this replica holds it; true when it does.
  bool HoldLease();
  // Gives the lease up if this replica holds it (at shutdown), so another takes over at once.
  void ReleaseLease();
  // Publishes a model; false when this replica does not hold the lease or Redis failed.
  bool Publish(int64_t version, std::string_view name, std::string_view text);
  // The published model when its version is above `have` (else, or on failure, nullopt).
  std::optional<SharedModel> FetchNewer(int64_t have);
  // The version of the published model (0: none; nullopt on failure).
  std::optional<int64_t> PublishedVersion();
  // Adds this replica's spending to the fleet's for UTC day `day`; the fleet's total, or nullopt.
  std::optional<double> AddSpend(int64_t day, double usd);

  struct Status {
    bool connected = false;
    bool trainer = false;  // this replica holds the lease
    uint64_t pushed = 0, pulled = 0, published = 0, errors = 0;
    std::string last_error;
  };
  Status status() const;
  const std::string& id() const { return id_; }

 private:
  bool Connect();
  void Fail(const std::string& why);
  // One command (binary-safe arguments); null after Fail() when Redis did not answer or answered
  // an error. The caller frees the reply.
  redisReply* Command(const std::vector<std::string_view>& args);
  void SetTrainer(bool trainer);

  const StateOptions options_;
  const std::string id_;
  const int64_t lease_ms_;
  const int64_t max_labels_;
  redisContext* redis_ = nullptr;
  std::string last_entry_ = "-";  // the stream id last read ("-": nothing yet)

  mutable std::mutex status_mu_;
  Status status_;
};

}  // namespace mec
