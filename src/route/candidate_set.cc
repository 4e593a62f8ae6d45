#include "route/candidate_set.h"

#include <algorithm>
#include <iterator>
#include <span>

#include "context/tier_quality.h"
#include "route/filters.h"
#include "route/predict.h"
#include "route/reason_text.h"

namespace mec {

namespace {
// Constant-initialized: no guard to check on every call (ViewOf runs for every candidate).
constinit const BackendView kDefaultView{};
}  // namespace

const BackendView& ViewOf(const RouteEnv& env, size_t i) {
  return i < env.snapshot.backends.size() ? env.snapshot.backends[i] : kDefaultView;
}

void AppendQualityNote(const RequestContext& ctx, std::string& out) {
  // ASCII only: this goes into a header (X-MEC-Reason). AppendFixed writes "{:.Nf}" as fmt does.
  out += "edge quality ";
  AppendFixed(out, ctx.weak_as_good, 2);
  out += " +-";
  AppendFixed(out, ctx.quality_sd, 2);
  if (ctx.familiarity >= 0 && ctx.familiarity < 0.5 && ctx.judged_support < 3) {
    out += " (unsure: unlike the prompts the model was trained on, familiarity ";
    AppendFixed(out, ctx.familiarity, 2);
    out += "; ";
    AppendFixed(out, ctx.judged_support, 0);
    out += " judged like it)";
  } else if (ctx.judged_support > 0) {
    out += " (";
    AppendFixed(out, ctx.judged_support, 0);
    out += " judged like it)";
  }
  // The model's name carries its version (logreg-stack-v1+judged.vN): every decision records it.
  if (!ctx.complexity_model.empty()) {
    out += " [";
    out += ctx.complexity_model;
    out += ']';
  }
}

double BackendQuality(const RequestContext& ctx, const Backend& b) {
  const auto& r = b.options().quality_ratio;
  if (!r || (b.tier() == Tier::kDevice && ctx.device_quality_learned)) return ctx.quality(b.tier());
  // The device's ratio is relative to the edge model; the others' to their own tier's reference.
  const double reference = b.tier() == Tier::kDevice ? ctx.quality(Tier::kEdge) : ctx.quality(b.tier());
  return DeviceQualityFromEdge(reference, DeviceQualityAssumption{*r, ctx.joint_success_share});
}

CandidateSet BuildCandidates(const RequestContext& ctx, const RouteEnv& env) {
  CandidateSet cs;
  const auto& pool = env.pool;
  const size_t n = pool.size();
  // Each backend's quality: unnormalized, computed once (the strongest normalizes them all), then
  // normalized and, when RouteEnv has the feedback table, learned for all backends in one lookup.
  double raw_quality[64];
  std::vector<double> raw_quality_heap;
  double* raw = raw_quality;
  if (n > std::size(raw_quality)) {
    raw_quality_heap.resize(n);
    raw = raw_quality_heap.data();
  }
  double strongest = 0;
  for (size_t i = 0; i < n; ++i) {
    raw[i] = BackendQuality(ctx, pool.at(i));
    strongest = std::max(strongest, raw[i]);
  }
  cs.strongest_quality = strongest > 0 ? strongest : 1;
  for (size_t i = 0; i < n; ++i) raw[i] = std::clamp(raw[i] / cs.strongest_quality, 0.0, 1.0);
  if (env.quality_feedback) env.quality_feedback->AdjustAll(ctx.task_class, pool.names(), std::span<double>(raw, n));
  cs.all.resize(n);
  cs.passing.reserve(n);
  const bool adjust = !env.quality_feedback && env.adjust_quality && *env.adjust_quality;
  const RequestTerms terms = TermsOf(ctx);
  const HardFilterTerms filter_terms = HardFilterTermsOf(ctx);
  for (size_t i = 0; i < n; ++i) {
    const Backend& b = pool.at(i);
    const BackendView& v = ViewOf(env, i);
    Candidate& c = cs.all[i];
    c.backend = static_cast<int>(i);
    c.tier = b.tier();
    bool serves = false;
    if (const Filter* f = FirstHardFilter(filter_terms, ctx, b, v, &serves)) c.filtered_by = f->Why(ctx, b, v);
    cs.model_matches += serves;
    c.passed_filters = c.filtered_by.empty();
    c.quality = raw[i];
    if (adjust) c.quality = (*env.adjust_quality)(c.backend, ctx.task_class, c.quality);
    // Its engine's reading, when it declares an engine: saturated (or silent), and fresh enough
    // to predict with (docs/engines.md).
    const EngineLoad* fresh = nullptr;
    if (b.options().engine.kind != EngineKind::kOpenAI) {
      const SaturationThresholds t = ThresholdsOf(b.options().engine);
      c.saturated = Saturated(v.engine.get(), env.now, t);
      if (!Stale(v.engine.get(), env.now, t.stale_after)) fresh = v.engine.get();
    }
    if (i < env.prefix_tokens.size()) c.prefix_tokens = std::clamp(env.prefix_tokens[i], 0.0, static_cast<double>(ctx.input_tokens));
    PredictLatencyAndCost(ctx, terms, b.options(), v, c, fresh);
    if (c.passed_filters) cs.passing.push_back(static_cast<int>(i));
  }
  return cs;
}

}  // namespace mec
