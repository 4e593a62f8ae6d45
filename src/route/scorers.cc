#include "route/scorers.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <fmt/compile.h>
#include <fmt/format.h>

namespace mec {
namespace {

// (max - x) / (max - min) over the survivors' finite values; 1 when they are all equal.
template <typename Value>
void LowerIsBetter(const CandidateSet& cs, std::span<const int> ids, std::span<double> out, Value value) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (int i : ids) {
    const double x = value(cs.all[i]);
    if (!std::isfinite(x)) continue;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  const double range = hi - lo;
  for (size_t k = 0; k < ids.size(); ++k) {
    const double x = value(cs.all[ids[k]]);
    out[k] = !std::isfinite(x) ? 0.0 : range > 0 ? (hi - x) / range : 1.0;
  }
}

double Clamp01(double x) { return std::isfinite(x) ? std::clamp(x, 0.0, 1.0) : 0.0; }

class LatencyScorer final : public Scorer {
 public:
  std::string_view name() const override { return "latency"; }
  double Key(const RequestContext&, const Candidate& c) const override {
    return c.latency_s;
  }
  void Score(const RequestContext&, const CandidateSet& cs, std::span<const int> ids, std::span<double> out) const override {
    LowerIsBetter(cs, ids, out, [](const Candidate& c) { return c.latency_s; });
  }
  void Detail(const RequestContext&, const Candidate& p, std::string& reason) const override {
    fmt::format_to(std::back_inserter(reason), FMT_COMPILE("{:.0f}ms expected"), p.latency_s * 1000);
  }
};

class CostScorer final : public Scorer {
 public:
  std::string_view name() const override { return "cost"; }
  double Key(const RequestContext&, const Candidate& c) const override {
    return c.cost_usd;
  }
  void Score(const RequestContext&, const CandidateSet& cs, std::span<const int> ids, std::span<double> out) const override {
    LowerIsBetter(cs, ids, out, [](const Candidate& c) { return c.cost_usd; });
  }
  void Detail(const RequestContext&, const Candidate& p, std::string& reason) const override {
    fmt::format_to(std::back_inserter(reason), FMT_COMPILE("${:.6f}"), p.cost_usd);
  }
};

class LoadScorer final : public Scorer {
 public:
  std::string_view name() const override { return "load"; }
  double Key(const RequestContext&, const Candidate& c) const override {
    return c.load;
  }
  void Score(const RequestContext&, const CandidateSet& cs, std::span<const int> ids, std::span<double> out) const override {
    LowerIsBetter(cs, ids, out, [](const Candidate& c) { return c.load; });
  }
};

// Lower is better over the candidates that report a value; one that does not (NaN: its engine
// says nothing of it, or it has no engine) gets the mean of the others' scores, neither favoured
// nor punished; 1 when none reports.
template <typename Value>
void LowerIsBetterWhereReported(const CandidateSet& cs, std::span<const int> ids, std::span<double> out, Value value) {
  LowerIsBetter(cs, ids, out, value);
  double sum = 0;
  int known = 0;
  for (size_t k = 0; k < ids.size(); ++k) {
    if (std::isnan(value(cs.all[ids[k]]))) continue;
    sum += out[k];
    ++known;
  }
  const double neutral = known > 0 ? sum / known : 1.0;
  for (size_t k = 0; k < ids.size(); ++k)
    if (std::isnan(value(cs.all[ids[k]]))) out[k] = neutral;
}

class QueueScorer final : public Scorer {
 public:
  std::string_view name() const override { return "queue"; }
  double Key(const RequestContext&, const Candidate& c) const override { return c.queue; }
  void Score(const RequestContext&, const CandidateSet& cs, std::span<const int> ids, std::span<double> out) const override {
    LowerIsBetter(cs, ids, out, [](const Candidate& c) { return c.queue; });
  }
  void Detail(const RequestContext&, const Candidate& p, std::string& reason) const override {
    fmt::format_to(std::back_inserter(reason), FMT_COMPILE("{:g} waiting"), p.queue);
  }
};

class KvCacheScorer final : public Scorer {
 public:
  std::string_view name() const override { return "kv-cache"; }
  double Key(const RequestContext&, const Candidate& c) const override {
    return std::isnan(c.kv_usage) ? 0.5 : c.kv_usage;
  }
  void Score(const RequestContext&, const CandidateSet& cs, std::span<const int> ids, std::span<double> out) const override {
    LowerIsBetterWhereReported(cs, ids, out, [](const Candidate& c) { return c.kv_usage; });
  }
  void Detail(const RequestContext&, const Candidate& p, std::string& reason) const override {
    if (!std::isnan(p.kv_usage)) fmt::format_to(std::back_inserter(reason), FMT_COMPILE("KV cache {:.2f}"), p.kv_usage);
  }
};

// The share of the prompt a candidate's KV cache probably holds (the inference extension's prefix
// scorer: matched blocks / the prompt's blocks).
class PrefixScorer final : public Scorer {
 public:
  std::string_view name() const override { return "prefix"; }
  double Key(const RequestContext&, const Candidate& c) const override { return -c.prefix_tokens; }
  void Score(const RequestContext& ctx, const CandidateSet& cs, std::span<const int> ids, std::span<double> out) const override {
    const double whole = static_cast<double>(ctx.prompt_blocks.size()) * ctx.prompt_block_tokens;
    for (size_t k = 0; k < ids.size(); ++k) out[k] = whole > 0 ? Clamp01(cs.all[ids[k]].prefix_tokens / whole) : 0.0;
  }
  void Detail(const RequestContext&, const Candidate& p, std::string& reason) const override {
    if (p.prefix_tokens > 0) fmt::format_to(std::back_inserter(reason), FMT_COMPILE("~{:.0f} prompt tokens cached"), p.prefix_tokens);
  }
};

class QualityScorer final : public Scorer {
 public:
  std::string_view name() const override { return "quality"; }
  double Key(const RequestContext&, const Candidate& c) const override {
    return -c.quality;
  }
  void Score(const RequestContext&, const CandidateSet& cs, std::span<const int> ids, std::span<double> out) const override {
    for (size_t k = 0; k < ids.size(); ++k) out[k] = Clamp01(cs.all[ids[k]].quality);
  }
  void Detail(const RequestContext&, const Candidate& p, std::string& reason) const override {
    fmt::format_to(std::back_inserter(reason), FMT_COMPILE("quality {:.2f}"), p.quality);
  }
};

class PMeetScorer final : public Scorer {
 public:
  std::string_view name() const override { return "p-meet"; }
  double Key(const RequestContext&, const Candidate& c) const override {
    return -c.p_meet;
  }
  void Score(const RequestContext&, const CandidateSet& cs, std::span<const int> ids, std::span<double> out) const override {
    for (size_t k = 0; k < ids.size(); ++k) out[k] = Clamp01(cs.all[ids[k]].p_meet);
  }
  void Detail(const RequestContext&, const Candidate& p, std::string& reason) const override {
    fmt::format_to(std::back_inserter(reason), FMT_COMPILE("p(meet)={:.2f}"), p.p_meet);
  }
};

// The original design's use-case table names a tier per use case (RequestContext::static_tier).
Tier HomeTier(const RequestContext& ctx) { return ParseTier(ctx.static_tier).value_or(Tier::kCloud); }

class TierDistanceScorer final : public Scorer {
 public:
  std::string_view name() const override { return "tier-distance"; }
  double Key(const RequestContext& ctx, const Candidate& c) const override {
    return std::abs(static_cast<int>(c.tier) - static_cast<int>(HomeTier(ctx)));
  }
  void Score(const RequestContext& ctx, const CandidateSet& cs, std::span<const int> ids, std::span<double> out) const override {
    const int home = static_cast<int>(HomeTier(ctx));
    for (size_t k = 0; k < ids.size(); ++k) out[k] = 1.0 - std::abs(static_cast<int>(cs.all[ids[k]].tier) - home) / 2.0;
  }
  void Detail(const RequestContext& ctx, const Candidate&, std::string& reason) const override {
    if (ctx.use_case.empty()) {
      reason += "no use case, ";
    } else {
      reason += ctx.use_case;
      reason += " -> ";
    }
    reason += TierName(HomeTier(ctx));
  }
};

class TierOrderScorer final : public Scorer {
 public:
  explicit TierOrderScorer(std::vector<Tier> order) : order_(std::move(order)) {}
  std::string_view name() const override { return "tier-order"; }
  double Key(const RequestContext&, const Candidate& c) const override {
    auto it = std::find(order_.begin(), order_.end(), c.tier);
    return it == order_.end() ? 99.0 : static_cast<double>(it - order_.begin());
  }
  void Score(const RequestContext&, const CandidateSet& cs, std::span<const int> ids, std::span<double> out) const override {
    const double n = static_cast<double>(order_.size());
    for (size_t k = 0; k < ids.size(); ++k) {
      auto it = std::find(order_.begin(), order_.end(), cs.all[ids[k]].tier);
      out[k] = it == order_.end() ? 0.0 : (n - static_cast<double>(it - order_.begin())) / n;
    }
  }

 private:
  std::vector<Tier> order_;
};

}  // namespace

std::unique_ptr<Scorer> MakeScorer(std::string_view name, const PolicyOptions& o) {
  if (name == "latency") return std::make_unique<LatencyScorer>();
  if (name == "cost") return std::make_unique<CostScorer>();
  if (name == "load") return std::make_unique<LoadScorer>();
  if (name == "quality") return std::make_unique<QualityScorer>();
  if (name == "queue") return std::make_unique<QueueScorer>();
  if (name == "kv-cache") return std::make_unique<KvCacheScorer>();
  if (name == "prefix") return std::make_unique<PrefixScorer>();
  if (name == "p-meet") return std::make_unique<PMeetScorer>();
  if (name == "tier-distance") return std::make_unique<TierDistanceScorer>();
  if (name == "tier-order") return std::make_unique<TierOrderScorer>(o.auto_order);
  return nullptr;
}

}  // namespace mec
