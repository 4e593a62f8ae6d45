#include "learn/quality_feedback.h"

#include <thread>

#include <algorithm>
#include <cmath>
#include <tuple>

namespace mec {
namespace {

double Clamp01(double x) { return std::isnan(x) ? 0.0 : std::clamp(x, 0.0, 1.0); }

}  // namespace

QualityFeedback::QualityFeedback(QualityFeedbackOptions options) : options_(options) {}

Status QualityFeedback::Observe(std::string_view backend, std::string_view task_class, double score) {
  if (!(score >= 0.0 && score <= 1.0)) return Status::InvalidArgument("feedback score must be in [0, 1]");
  std::lock_guard<std::mutex> lock(mu_);
  AddLocked(backend, task_class, score, 1);
  PublishLocked();
  return Status::Ok();
}

void QualityFeedback::AddLocked(std::string_view backend, std::string_view task_class, double score, double n) {
  auto b = by_backend_.find(backend);
  if (b == by_backend_.end()) b = by_backend_.emplace(std::string(backend), ByClass{}).first;
  auto c = b->second.find(task_class);
  if (c == b->second.end()) {
    if (num_keys_ >= options_.max_keys && !order_.empty()) {
      // Evict the oldest pair; `b` stays valid unless its map is the one emptied and erased.
      const auto [old_backend, old_class] = order_.front();
      order_.pop_front();
      if (auto ob = by_backend_.find(old_backend); ob != by_backend_.end()) {
        ob->second.erase(old_class);
        if (ob->second.empty() && ob != b) by_backend_.erase(ob);
      }
      --num_keys_;
    }
    c = b->second.emplace(std::string(task_class), Sums{}).first;
    order_.emplace_back(std::string(backend), std::string(task_class));
    ++num_keys_;
  }
  Sums& s = c->second;
  s.score += score;
  s.n += n;
  if (s.n > options_.max_observations) {
    const double f = options_.max_observations / s.n;
    s.score *= f;
    s.n = options_.max_observations;
  }
}

size_t QualityFeedback::Seed(const std::vector<QualityCount>& counts) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t added = 0;
  for (const QualityCount& c : counts) {
    if (!std::isfinite(c.n) || !std::isfinite(c.score) || !(c.n > 0) || c.score < 0 || c.score > c.n) continue;
    AddLocked(c.backend, c.task_class, c.score, c.n);
    ++added;
  }
  if (added > 0) PublishLocked();
  return added;
}

void QualityFeedback::PublishLocked() {
  auto copy = std::make_unique<Table>();
  for (const auto& [backend, by_class] : by_backend_)
    for (const auto& [task_class, sums] : by_class) (*copy)[task_class].emplace(backend, sums);
  for (const auto& [backend, by_class] : remote_)
    for (const auto& [task_class, sums] : by_class) {
      Sums& s = (*copy)[task_class][backend];  // pooled with the local sums, if any
      s.score += sums.score;
      s.n += sums.n;
    }
  published_.store(copy.get(), std::memory_order_seq_cst);
  if (current_) retired_.push_back(std::move(current_));
  current_ = std::move(copy);
  // Free the replaced tables once no reader can hold one.
  while (!retired_.empty()) {
    if (readers_.load(std::memory_order_seq_cst) == 0) {
      retired_.clear();
      break;
    }
    if (retired_.size() < kMaxRetired) break;
    std::this_thread::yield();
  }
}

std::optional<QualityFeedback::Sums> QualityFeedback::FindLocked(std::string_view backend, std::string_view task_class) const {
  std::optional<Sums> out;
  for (const auto* map : {&by_backend_, &remote_}) {
    const auto b = map->find(backend);
    if (b == map->end()) continue;
    const auto c = b->second.find(task_class);
    if (c == b->second.end()) continue;
    if (!out) out.emplace();
    out->score += c->second.score;
    out->n += c->second.n;
  }
  return out;
}

QualityPosterior QualityFeedback::PosteriorOf(const Sums* s, double predicted_q) const {
  const double q = Clamp01(predicted_q);
  QualityPosterior p;
  p.alpha = options_.prior_strength * q;
  p.beta = options_.prior_strength * (1.0 - q);
  if (s) {
    p.alpha += s->score;
    p.beta += s->n - s->score;
    p.observations = s->n;
  }
  const double total = p.alpha + p.beta;
  p.mean = total > 0 ? p.alpha / total : q;
  return p;
}

double QualityFeedback::Adjusted(std::string_view backend, std::string_view task_class, double predicted_q) const {
  readers_.fetch_add(1, std::memory_order_seq_cst);
  const Table* t = published_.load(std::memory_order_seq_cst);
  double mean = Clamp01(predicted_q);
  if (t) {
    const Sums* s = nullptr;
    if (auto c = t->find(task_class); c != t->end())
      if (auto b = c->second.find(backend); b != c->second.end()) s = &b->second;
    mean = PosteriorOf(s, predicted_q).mean;
  }
  readers_.fetch_sub(1, std::memory_order_seq_cst);
  return mean;
}

void QualityFeedback::AdjustAll(std::string_view task_class, std::span<const std::string_view> backends,
                                std::span<double> q) const {
  readers_.fetch_add(1, std::memory_order_seq_cst);
  const Table* t = published_.load(std::memory_order_seq_cst);
  const ByBackend* by_backend = nullptr;
  if (t)
    if (auto c = t->find(task_class); c != t->end()) by_backend = &c->second;
  // A class usually has feedback for few backends: comparing names beats hashing each one.
  constexpr size_t kScanAtMost = 4;
  const bool scan = by_backend && by_backend->size() <= kScanAtMost;
  for (size_t i = 0; i < backends.size(); ++i) {
    if (!t) {
      q[i] = Clamp01(q[i]);  // what Adjusted says before any feedback was published
      continue;
    }
    const Sums* s = nullptr;
    if (scan) {
      for (const auto& [name, sums] : *by_backend)
        if (name == backends[i]) {
          s = &sums;
          break;
        }
    } else if (by_backend) {
      if (auto b = by_backend->find(backends[i]); b != by_backend->end()) s = &b->second;
    }
    q[i] = PosteriorOf(s, q[i]).mean;
  }
  readers_.fetch_sub(1, std::memory_order_seq_cst);
}

QualityPosterior QualityFeedback::Posterior(std::string_view backend, std::string_view task_class,
                                            double predicted_q) const {
  std::lock_guard<std::mutex> lock(mu_);
  const std::optional<Sums> sums = FindLocked(backend, task_class);
  return PosteriorOf(sums ? &*sums : nullptr, predicted_q);
}

size_t QualityFeedback::num_keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return num_keys_;
}

std::vector<QualityCount> QualityFeedback::List(size_t max_entries) const {
  std::vector<QualityCount> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out.reserve(num_keys_);
    for (const auto& [backend, by_class] : by_backend_)
      for (const auto& [task_class, sums] : by_class) out.push_back({backend, task_class, sums.score, sums.n});
  }
  // The most observed first; names break ties, so the list is the same for the same sums.
  std::sort(out.begin(), out.end(), [](const QualityCount& a, const QualityCount& b) {
    if (a.n != b.n) return a.n > b.n;
    return std::tie(a.backend, a.task_class) < std::tie(b.backend, b.task_class);
  });
  if (out.size() > max_entries) out.resize(max_entries);
  return out;
}

size_t QualityFeedback::SetRemote(const std::vector<QualityCount>& remote, double max_weight) {
  std::lock_guard<std::mutex> lock(mu_);
  remote_.clear();
  num_remote_keys_ = 0;
  for (const QualityCount& c : remote) {
    if (num_remote_keys_ >= options_.max_keys) break;
    if (!std::isfinite(c.n) || !std::isfinite(c.score) || !(c.n > 0) || c.score < 0 || c.score > c.n) continue;
    Sums& s = remote_[c.backend][c.task_class];
    if (s.n == 0) ++num_remote_keys_;
    s.score += c.score;
    s.n += c.n;
  }
  for (auto& [backend, by_class] : remote_)
    for (auto& [task_class, s] : by_class)
      if (s.n > max_weight) {  // the same mean, as at most max_weight observations
        s.score *= max_weight / s.n;
        s.n = max_weight;
      }
  PublishLocked();
  return num_remote_keys_;
}

void QualityFeedback::ClearRemote() {
  std::lock_guard<std::mutex> lock(mu_);
  if (remote_.empty()) return;
  remote_.clear();
  num_remote_keys_ = 0;
  PublishLocked();
}

size_t QualityFeedback::num_remote_keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return num_remote_keys_;
}

}  // namespace mec
