#pragma once
// Quality learned from feedback (DESIGN.md §2, §3 Monitor): per (backend, task class), a Beta
// posterior on "this backend's answer is as good as the strongest tier's".
//
// The prior comes from the router's own prediction q for the request: Beta(k q, k (1 - q)) with k =
// `prior_strength` pseudo-observations. Each feedback score s in [0,1] adds s to alpha and 1 - s to
// beta. The adjusted quality is the posterior mean
//     (k q + sum of s) / (k + n),
// so with k = 10 the first ten scores carry as much weight as the prediction, and later scores
// refine it. When n exceeds `max_observations`, the sums are scaled down to that many, so old
// feedback fades and the posterior can follow a backend that changes.
//
// Remote feedback (the fleet state, docs/fleet.md): sums another gateway learned for the same
// backends. SetRemote replaces them as a whole; each pair's remote count is capped (its scores
// scaled down to `max_weight`), and routing reads local + remote sums pooled. List and num_keys
// report only this gateway's own feedback, so that two gateways publishing to each other never
// echo one another's scores back.
//
// Thread-safety: every method may be called from any thread (one mutex). Memory is bounded:
// at most `max_keys` (backend, task class) pairs are kept; a new pair beyond that evicts the oldest
// pair (first in, first out); at most `max_keys` remote pairs too.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <atomic>
#include <memory>
#include <vector>

#include "core/status.h"

namespace mec {

struct QualityFeedbackOptions {
  double prior_strength = 10.0;     // k; REQUIRES: > 0
  double max_observations = 1000;   // n at most, older feedback fades beyond; REQUIRES: > 0
  size_t max_keys = 10000;          // (backend, task class) pairs kept; REQUIRES: > 0
};

// The posterior of one (backend, task class) for one predicted quality.
struct QualityPosterior {
  double alpha = 0;
  double beta = 0;
  double mean = 0;          // alpha / (alpha + beta)
  double observations = 0;  // n (after fading), 0 without feedback
};

// One (backend, task class) pair's feedback sums: `score` is the sum of the scores, `n` their
// (faded) count; 0 <= score <= n.
struct QualityCount {
  std::string backend;
  std::string task_class;
  double score = 0;
  double n = 0;
};

class QualityFeedback {
 public:
  explicit QualityFeedback(QualityFeedbackOptions options = {});

  // Records one feedback score for an answer of `backend` to a request of `task_class`.
  // InvalidArgument when the score is not in [0, 1] (or NaN).
  Status Observe(std::string_view backend, std::string_view task_class, double score);

  // The posterior mean combining the prior at predicted_q (clamped to [0,1]) with the feedback;
  // predicted_q itself (clamped) when there is no feedback for the pair. Lock-free (reads the
  // last published table), so the router may call it while deciding.
  double Adjusted(std::string_view backend, std::string_view task_class, double predicted_q) const;
  // Adjusted() for many backends and one task class at once (the router, once per decision):
  // q[i] becomes Adjusted(backends[i], task_class, q[i]), bit for bit, with one table read and
  // one class lookup for them all. Lock-free. REQUIRES: q.size() == backends.size().
  void AdjustAll(std::string_view task_class, std::span<const std::string_view> backends, std::span<double> q) const;

  QualityPosterior Posterior(std::string_view backend, std::string_view task_class, double predicted_q) const;

  size_t num_keys() const;

  // This gateway's own sums, the pairs with the most feedback first, at most `max_entries`.
  std::vector<QualityCount> List(size_t max_entries) const;
  // Replaces the remote sums by `remote` (pairs with n <= 0, a score outside [0, n] or non-finite
  // numbers are skipped), each capped at `max_weight` observations (REQUIRES: > 0). Returns how
  // many pairs were kept.
  size_t SetRemote(const std::vector<QualityCount>& remote, double max_weight);
  // Adds `counts` to this gateway's own sums, as if those scores had been observed here (a reload
  // carries the old generation's feedback over: List() there, Seed() here). Entries with n <= 0,
  // a score outside [0, n] or non-finite numbers are skipped. Returns how many were added.
  size_t Seed(const std::vector<QualityCount>& counts);
  void ClearRemote();
  size_t num_remote_keys() const;

 private:
  struct Sums {
    double score = 0;  // sum of s
    double n = 0;      // count (faded)
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using ByClass = std::unordered_map<std::string, Sums, Hash, std::equal_to<>>;

  // REQUIRES: mu_ held. Adds `score` and `n` to the pair's local sums (evicting the oldest pair
  // when it is new and max_keys are kept), then fades them to max_observations.
  void AddLocked(std::string_view backend, std::string_view task_class, double score, double n);
  // REQUIRES: mu_ held. The pair's local and remote sums pooled; nullopt when it has neither.
  std::optional<Sums> FindLocked(std::string_view backend, std::string_view task_class) const;
  QualityPosterior PosteriorOf(const Sums* s, double predicted_q) const;

  // What readers see: task class -> backend -> sums (class first, so that one decision looks its
  // class up once).
  using ByBackend = std::unordered_map<std::string, Sums, Hash, std::equal_to<>>;
  using Table = std::unordered_map<std::string, ByBackend, Hash, std::equal_to<>>;
  // REQUIRES: mu_ held. Copies the table (by class) and publishes the copy for lock-free readers.
  void PublishLocked();

  const QualityFeedbackOptions options_;
  // Readers (the router, on every decision) take no lock: they read an immutable copy of the table
  // published after each Observe. Reclamation: a reader counts itself in `readers_` around its
  // read; a writer frees replaced tables only when it sees no reader after publishing (any reader
  // arriving later sees the new table). Under constant reads the replaced tables wait for a quiet
  // moment; past kMaxRetired the writer (never a reader) spins for one.
  static constexpr size_t kMaxRetired = 256;
  std::atomic<const Table*> published_{nullptr};
  mutable std::atomic<int> readers_{0};
  std::unique_ptr<Table> current_;               // guarded by mu_
  std::vector<std::unique_ptr<Table>> retired_;  // guarded by mu_
  mutable std::mutex mu_;
  std::unordered_map<std::string, ByClass, Hash, std::equal_to<>> by_backend_;  // guarded by mu_
  std::deque<std::pair<std::string, std::string>> order_;                         // guarded by mu_
  size_t num_keys_ = 0;                                                           // guarded by mu_
  std::unordered_map<std::string, ByClass, Hash, std::equal_to<>> remote_;       // guarded by mu_
  size_t num_remote_keys_ = 0;                                                    // guarded by mu_
};

}  // namespace mec
