// `mecrouter complexity learn`: replays labelled items as if they were judged samples, through the
// same learning code the gateway's background trainer runs (learn/online_learner.h), and reports
// the routing quality on other items after each number of samples (docs/complexity.md, "Learning
// on the deployment's traffic").

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>

#include <simdjson.h>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/flags.h"
#include "context/learned_complexity_model.h"
#include "context/tier_quality.h"
#include "core/json_writer.h"
#include "learn/online_learner.h"
#include "telemetry/judged_sample_log.h"
#include "learn/router_eval_data.h"
#include "learn/routing_baselines.h"
#include "learn/routing_eval.h"
#include "core/rng.h"

namespace mec::cli {
namespace {

constexpr const char* kLearnUsage =
    "usage: mecrouter complexity learn --model MODEL --labels CSV --prompts JSONL --stream-ids FILE\n"
    "          --eval-ids FILE --samples N1,N2,... [--json] [--target gain|as_good] [--word-bits B]\n"
    "          [--no-topic] [--l2-grid X,Y,...] [--quality-target 0.95]\n"
    "  Starts from MODEL, feeds the labels of the first N items of --stream-ids (in the order given) as\n"
    "  judged edge samples, and reports strong-call savings at the quality target and APGR on\n"
    "  --eval-ids after each N (0: the starting model).\n";

int LearnFail(const std::string& m) {
  std::fprintf(stderr, "mecrouter complexity learn: %s\n", m.c_str());
  return 1;
}

bool ParseList(const std::string& s, std::vector<double>* out) {
  out->clear();
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    char* end = nullptr;
    const double v = std::strtod(part.c_str(), &end);
    if (part.empty() || end != part.c_str() + part.size() || !std::isfinite(v) || v < 0) return false;
    out->push_back(v);
  }
  return !out->empty();
}

JudgedSample SampleOf(const LabelledPrompt& p) {
  return LabelledVerdict(p.prompt, QualityClass::kEdge, p.item.weak_correct, p.item.strong_correct);
}

RoutingMetrics Evaluate(const std::vector<LabelledPrompt>& eval, const std::vector<double>& scores, double target) {
  std::vector<RoutedItem> items;
  for (size_t i = 0; i < eval.size(); ++i) items.push_back({scores[i], eval[i].item.weak_correct, eval[i].item.strong_correct});
  return EvaluateRouting(items, target);
}

double Num(double v) { return std::isfinite(v) ? v : 0.0; }

}  // namespace

int RunComplexityLearn(int argc, char** argv) {
  Flags f(argc, argv, {"model", "labels", "prompts", "stream-ids", "eval-ids", "samples", "target", "word-bits",
                       "l2-grid", "quality-target"});
  if (f.Has("help")) {
    std::printf("%s", kLearnUsage);
    return 0;
  }
  if (!f.ok() || !f.positional().empty()) {
    std::fprintf(stderr, "mecrouter complexity learn: %s\n%s", f.ok() ? "unexpected argument" : f.error().c_str(), kLearnUsage);
    return 2;
  }
  for (const char* k : {"model", "labels", "prompts", "stream-ids", "eval-ids", "samples"}) {
    if (!f.Has(k)) {
      std::fprintf(stderr, "mecrouter complexity learn: missing --%s\n%s", k, kLearnUsage);
      return 2;
    }
  }
  std::vector<double> ns;
  if (!ParseList(f.Get("samples", ""), &ns)) return LearnFail("--samples wants N1,N2,... (whole numbers >= 0)");
  OnlineLearnOptions o;
  const std::string target = f.Get("target", "gain");
  if (target == "gain") o.target = OnlineTarget::kGain;
  else if (target != "as_good") return LearnFail("--target is as_good or gain");
  if (f.Has("word-bits")) {
    o.word_bits = std::atoi(f.Get("word-bits", "16").c_str());
    if (o.word_bits < 8 || o.word_bits > 24) return LearnFail("--word-bits in [8, 24]");
  }
  if (f.Has("no-topic")) o.topic = false;
  if (f.Has("l2-grid") && !ParseList(f.Get("l2-grid", ""), &o.l2_grid)) return LearnFail("bad --l2-grid");
  double quality = 0.95;
  if (f.Has("quality-target")) {
    quality = std::strtod(f.Get("quality-target", "").c_str(), nullptr);
    if (!(quality > 0 && quality <= 1)) return LearnFail("--quality-target in (0, 1]");
  }

  auto model = LearnedComplexityModel::Load(f.Get("model", ""));
  if (!model.ok()) return LearnFail(model.status().message());
  std::shared_ptr<const ComplexityModel> base(std::move(*model));
  auto stream = LoadLabelledPrompts(f.Get("labels", ""), f.Get("prompts", ""), f.Get("stream-ids", ""));
  if (!stream.ok()) return LearnFail(stream.status().message());
  auto eval = LoadLabelledPrompts(f.Get("labels", ""), f.Get("prompts", ""), f.Get("eval-ids", ""));
  if (!eval.ok()) return LearnFail(eval.status().message());
  if (eval->empty()) return LearnFail("no evaluation items");
  {
    std::map<std::string, int> ids;
    for (const auto& p : *stream) ids[p.item.item_id] = 1;
    for (const auto& p : *eval)
      if (ids.count(p.item.item_id)) return LearnFail("--stream-ids and --eval-ids overlap: " + p.item.item_id);
  }
  for (double n : ns) {
    if (n != std::floor(n)) return LearnFail("--samples wants whole numbers");
    if (n > stream->size()) {
      return LearnFail("--samples " + std::to_string(static_cast<long>(n)) + " exceeds the " +
                       std::to_string(stream->size()) + " usable stream items");
    }
  }
  // The calibrated device assumption plays no part in the edge-class curve; any value will do.
  const DeviceQualityAssumption device{0.71, 0.764};

  struct Point {
    size_t samples;
    RoutingMetrics m;
    RoutingMetrics told_subject;
    double chosen_l2;
  };
  std::vector<Point> curve;
  std::vector<JudgedSample> all;
  for (const auto& p : *stream) all.push_back(SampleOf(p));
  std::vector<LabelledItem> eval_items;
  for (const auto& p : *eval) eval_items.push_back(p.item);
  for (double nd : ns) {
    const size_t n = static_cast<size_t>(nd);
    std::vector<JudgedSample> fed(all.begin(), all.begin() + n);
    OnlineFitReport rep;
    auto adapted = FitAdaptedModel(base, fed, static_cast<int>(n), device, o, &rep);
    if (!adapted.ok()) return LearnFail(adapted.status().message());
    std::vector<double> scores;
    scores.reserve(eval->size());
    for (const auto& p : *eval) scores.push_back((*adapted)->WeakAsGoodProbability(p.prompt));
    // The bar: a router *told* each item's subject, learning the subjects' gains from the same labels.
    std::vector<LabelledItem> fed_items;
    for (size_t i = 0; i < n; ++i) fed_items.push_back((*stream)[i].item);
    const auto told = BaselineScores(Baseline::kSubjectGain, fed_items, eval_items);
    curve.push_back({n, Evaluate(*eval, scores, quality), Evaluate(*eval, told, quality), rep.classes[0].chosen_l2});
    std::fprintf(stderr, "samples %6zu: calls saved %.1f%%  APGR %.3f  AUC %.3f  (l2 %.3g; told-subject %.1f%%)\n", n,
                 100 * curve.back().m.calls_saved, Num(curve.back().m.apgr), Num(curve.back().m.auc),
                 curve.back().chosen_l2, 100 * curve.back().told_subject.calls_saved);
  }
  // Baselines on the evaluation items: prompt length fitted on the whole stream, and random.
  std::vector<LabelledItem> stream_items;
  for (const auto& p : *stream) stream_items.push_back(p.item);
  const RoutingMetrics length = Evaluate(*eval, BaselineScores(Baseline::kLength, stream_items, eval_items), quality);
  const RoutingMetrics random = Evaluate(*eval, BaselineScores(Baseline::kRandom, stream_items, eval_items), quality);
  std::fprintf(stderr, "baselines: length %.1f%%  random %.1f%%  (eval items %zu, stream items %zu)\n",
               100 * length.calls_saved, 100 * random.calls_saved, eval->size(), stream->size());

  if (f.Has("json")) {
    std::string out;
    JsonWriter w(out);
    auto metrics = [&](const RoutingMetrics& m) {
      w.BeginObject().Field("calls_saved", m.calls_saved).Field("apgr", Num(m.apgr)).Field("auc", Num(m.auc)).EndObject();
    };
    w.BeginObject().Key("curve").BeginArray();
    for (const Point& p : curve) {
      w.BeginObject()
          .Field("samples", static_cast<int64_t>(p.samples))
          .Field("calls_saved", p.m.calls_saved)
          .Field("apgr", Num(p.m.apgr))
          .Field("auc", Num(p.m.auc))
          .Field("l2", p.chosen_l2)
          .EndObject();
    }
    w.EndArray().Key("baselines").BeginObject();
    w.Key("length");
    metrics(length);
    w.Key("random");
    metrics(random);
    w.Key("told_subject").BeginArray();
    for (const Point& p : curve) {
      w.BeginObject()
          .Field("samples", static_cast<int64_t>(p.samples))
          .Field("calls_saved", p.told_subject.calls_saved)
          .Field("apgr", Num(p.told_subject.apgr))
          .EndObject();
    }
    w.EndArray().EndObject();
    w.Field("eval_items", static_cast<int64_t>(eval->size())).Field("quality_target", quality).EndObject();
    std::printf("%s\n", out.c_str());
  }
  return 0;
}

// `complexity train --judged LABELS.jsonl --out FILE [--model BASE] [--until TS] [--holdout-share X]
// [--min-samples N] [--word-bits B]`: the fit the gateway's trainer runs (give it the gateway's
// learning.min_samples and learning.word_bits to reproduce its model), from an exported label file
// (`mecrouter decisions export --labels`): the rows up to --until (Unix seconds, default all), less
// the held-back share (the same id hash), in file order, on top of BASE (default: the embedded model).
int RunComplexityTrainJudged(int argc, char** argv) {
  Flags f(argc, argv, {"judged", "out", "model", "until", "holdout-share", "min-samples", "version", "word-bits"});
  if (!f.ok() || !f.Has("judged") || !f.Has("out")) {
    std::fprintf(stderr, "usage: mecrouter complexity train --judged LABELS.jsonl --out FILE [--model BASE] [--until TS]\n"
                         "          [--holdout-share 0.2] [--min-samples 20] [--version N] [--word-bits 16]\n");
    return 2;
  }
  OnlineLearnOptions o;
  if (f.Has("min-samples")) o.min_samples = std::atoi(f.Get("min-samples", "").c_str());
  if (f.Has("word-bits")) {
    o.word_bits = std::atoi(f.Get("word-bits", "16").c_str());
    if (o.word_bits < 8 || o.word_bits > 24) return LearnFail("--word-bits in [8, 24]");
  }
  std::shared_ptr<const ComplexityModel> base;
  if (f.Has("model")) {
    auto m = LearnedComplexityModel::Load(f.Get("model", ""));
    if (!m.ok()) return LearnFail(m.status().message());
    base = std::move(*m);
  } else {
    base = LoadDefaultComplexityModel();
  }
  const double until = f.Has("until") ? std::strtod(f.Get("until", "").c_str(), nullptr) : INFINITY;
  const double share = f.Has("holdout-share") ? std::strtod(f.Get("holdout-share", "").c_str(), nullptr) : 0.2;
  std::ifstream in(f.Get("judged", ""));
  if (!in) return LearnFail("cannot read " + f.Get("judged", ""));
  std::vector<JudgedSample> train;
  size_t held = 0, line_no = 0;
  std::string line;
  simdjson::dom::parser parser;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    simdjson::dom::element e;
    if (parser.parse(line).get(e)) return LearnFail("line " + std::to_string(line_no) + ": not JSON");
    StoredSample s;
    std::string_view sv;
    double d = 0;
    if (e["id"].get(sv)) return LearnFail("line " + std::to_string(line_no) + ": no id");
    s.id = std::string(sv);
    if (!e["ts"].get(d)) s.ts = d;
    if (e["tier_class"].get(sv) || !ParseQualityClass(sv, &s.tier_class))
      return LearnFail("line " + std::to_string(line_no) + ": bad tier_class");
    if (e["as_good"].get(s.as_good) || e["gain"].get(s.gain)) return LearnFail("line " + std::to_string(line_no) + ": no as_good/gain");
    if (!e["prompt"].get(sv)) s.prompt = std::string(sv);
    if (!e["features"].get(sv)) s.features = std::string(sv);
    if (s.ts > until) continue;
    if (IsHeldBack(s.id, share)) {
      ++held;
      continue;
    }
    train.push_back(ToJudgedSample(s));
  }
  OnlineFitReport rep;
  auto m = FitAdaptedModel(base, train, std::atoi(f.Get("version", "1").c_str()), DeviceQualityAssumption{0.710, 0.764}, o, &rep);
  if (!m.ok()) return LearnFail(m.status().message());
  std::ofstream out(f.Get("out", ""));
  out << (*m)->Serialize();
  if (!out) return LearnFail("cannot write " + f.Get("out", ""));
  std::fprintf(stderr, "fitted %s on %zu verdicts (%zu held back): edge %d (l2 %.3g), device %d (l2 %.3g)\n",
               std::string((*m)->Name()).c_str(), train.size(), held, rep.classes[0].samples, rep.classes[0].chosen_l2,
               rep.classes[1].samples, rep.classes[1].chosen_l2);
  return 0;
}

// `complexity predict --text T [--adapted FILE] [--model BASE]`: what a model says about one prompt.
int RunComplexityPredict(int argc, char** argv) {
  Flags f(argc, argv, {"text", "adapted", "model"});
  if (!f.ok() || !f.Has("text")) {
    std::fprintf(stderr, "usage: mecrouter complexity predict --text T [--adapted FILE] [--model BASE]\n");
    return 2;
  }
  std::shared_ptr<const ComplexityModel> model;
  if (f.Has("model")) {
    auto m = LearnedComplexityModel::Load(f.Get("model", ""));
    if (!m.ok()) return LearnFail(m.status().message());
    model = std::move(*m);
  } else {
    model = LoadDefaultComplexityModel();
  }
  if (f.Has("adapted")) {
    std::ifstream in(f.Get("adapted", ""));
    std::stringstream ss;
    ss << in.rdbuf();
    auto a = AdaptedComplexityModel::Parse(ss.str(), model);
    if (!a.ok()) return LearnFail(a.status().message());
    model = std::move(*a);
  }
  const std::string text = f.Get("text", "");
  const ComplexityEstimate e = model->Estimate(text);
  std::printf("model %s\nedge %.4f\ndevice %s\nsd %.4f\nfamiliarity %.3f\njudged_support %.0f\n", std::string(model->Name()).c_str(),
              e.edge, e.device ? fmt::format("{:.4f}", *e.device).c_str() : "(from edge)", e.sd, e.familiarity, e.judged_support);
  return 0;
}

}  // namespace mec::cli
