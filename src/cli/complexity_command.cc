// `mecrouter complexity train|eval|split`: trains and evaluates the request-complexity model on
// labelled prompts (docs/complexity.md).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "context/learned_complexity_model.h"
#include "core/json_writer.h"
#include "core/rng.h"
#include "learn/complexity_trainer.h"
#include "learn/router_eval_data.h"
#include "learn/routing_baselines.h"
#include "learn/routing_eval.h"

namespace mec::cli {
namespace {

constexpr const char* kComplexityUsage =
    "usage:\n"
    "  mecrouter complexity train --labels CSV --prompts JSONL --ids FILE --out MODEL\n"
    "      [--l2 X | --l2-grid X,Y,...] [--subject-smoothing S,...] [--conjoined-l2-factor F,...]\n"
    "      [--dense-l2-factor F] [--cv-folds K] [--max-iterations N] [--max-weights N]\n"
    "      [--hash-bits B] [--char-ngrams MIN,MAX] [--no-unigrams] [--no-bigrams] [--no-conjoin] [--no-shape]\n"
    "      [--no-freeform-hashed]\n"
    "      [--no-domain] [--temperature T,...] [--domain-min-pair N] [--domain-min-token N] [--domain-alpha A]\n"
    "      [--domain-max-domains N] [--domain-classifier nb|logreg] [--subject-l2 X] [--subject-max-entries N]\n"
    "      [--subject-iterations N] [--name NAME]\n"
    "      [--target label,gain] [--cv-metric auc|apgr]\n"
    "      [--stack] [--stack-targets label,gain] [--stack-depths D,...] [--stack-trees N,...]\n"
    "      [--stack-learning-rate X] [--stack-min-leaf N] [--stack-domain-gain]\n"
    "      [--stack-folds K] [--stack-average-folds]\n"
    "  mecrouter complexity eval --model MODEL --labels CSV --prompts JSONL --ids FILE\n"
    "      [--train-ids FILE] [--target 0.95] [--bootstrap N] [--json] [--scores CSV]\n"
    "  mecrouter complexity split --labels CSV --scheme default|random|subject|subject-random [--seed S]\n"
    "      [--fold F] [--held-out-subjects K] --train OUT --test OUT [--stream OUT --eval OUT]\n"
    "  mecrouter complexity learn --model MODEL --labels CSV --prompts JSONL --stream-ids FILE --eval-ids FILE\n"
    "      --samples N1,N2,... [--json]   (its usage: `mecrouter complexity learn --help`)\n"
    "  mecrouter complexity train --judged LABELS.jsonl --out FILE   (a live model from exported verdicts)\n"
    "  mecrouter complexity predict --text T [--adapted FILE] [--model BASE]\n";

// --key value pairs and bare --flags.
struct Args {
  std::map<std::string, std::string> values;
  std::set<std::string> flags;
  std::string error;

  bool Has(const std::string& k) const { return values.count(k) > 0; }
  std::string Get(const std::string& k, const std::string& def = "") const {
    auto it = values.find(k);
    return it == values.end() ? def : it->second;
  }
};

Args ParseArgs(int argc, char** argv, const std::set<std::string>& flag_names) {
  Args a;
  for (int i = 0; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) {
      a.error = "unexpected argument '" + k + "'";
      return a;
    }
    k = k.substr(2);
    if (flag_names.count(k)) {
      a.flags.insert(k);
    } else if (i + 1 < argc) {
      a.values[k] = argv[++i];
    } else {
      a.error = "--" + k + " needs a value";
      return a;
    }
  }
  return a;
}

bool Require(const Args& a, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    if (!a.Has(k)) {
      std::fprintf(stderr, "mecrouter complexity: missing --%s\n%s", k, kComplexityUsage);
      return false;
    }
  }
  return true;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "mecrouter complexity: %s\n", s.message().c_str());
  return 1;
}

bool ParseDouble(const std::string& s, double* out) {
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && std::isfinite(*out);
}

bool ParseDoubleList(const std::string& s, std::vector<double>* out) {
  out->clear();
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    double v;
    if (!ParseDouble(part, &v) || v < 0) return false;
    out->push_back(v);
  }
  return !out->empty();
}

int RunTrain(int argc, char** argv) {
  Args a = ParseArgs(argc, argv, {"no-unigrams", "no-bigrams", "no-conjoin", "no-shape", "no-domain", "no-freeform-hashed", "stack", "stack-domain-gain", "stack-average-folds"});
  if (!a.error.empty()) {
    std::fprintf(stderr, "mecrouter complexity train: %s\n%s", a.error.c_str(), kComplexityUsage);
    return 2;
  }
  if (!Require(a, {"labels", "prompts", "ids", "out"})) return 2;
  ComplexityTrainOptions o;
  o.name = a.Get("name", o.name);
  if (a.Has("l2") && !ParseDoubleList(a.Get("l2"), &o.l2_grid)) return Fail(Status::InvalidArgument("bad --l2"));
  if (a.Has("l2-grid") && !ParseDoubleList(a.Get("l2-grid"), &o.l2_grid)) return Fail(Status::InvalidArgument("bad --l2-grid"));
  if (a.Has("subject-smoothing") && !ParseDoubleList(a.Get("subject-smoothing"), &o.subject_smoothing_grid))
    return Fail(Status::InvalidArgument("bad --subject-smoothing"));
  if (a.Has("cv-folds")) o.cv_folds = std::atoi(a.Get("cv-folds").c_str());
  if (a.Has("max-iterations")) o.max_iterations = std::atoi(a.Get("max-iterations").c_str());
  if (a.Has("max-weights")) o.max_weights = static_cast<size_t>(std::atol(a.Get("max-weights").c_str()));
  if (a.Has("hash-bits")) o.features.hash_bits = std::atoi(a.Get("hash-bits").c_str());
  if (a.Has("char-ngrams")) {
    const std::string v = a.Get("char-ngrams");
    if (std::sscanf(v.c_str(), "%d,%d", &o.features.char_ngram_min, &o.features.char_ngram_max) != 2)
      return Fail(Status::InvalidArgument("bad --char-ngrams (want MIN,MAX; MIN > MAX turns them off)"));
  }
  if (a.flags.count("no-domain")) o.domain_prior = false;
  if (a.Has("conjoined-l2-factor") && !ParseDoubleList(a.Get("conjoined-l2-factor"), &o.conjoined_l2_factor_grid))
    return Fail(Status::InvalidArgument("bad --conjoined-l2-factor"));
  if (a.Has("dense-l2-factor") && !ParseDouble(a.Get("dense-l2-factor"), &o.dense_l2_factor))
    return Fail(Status::InvalidArgument("bad --dense-l2-factor"));
  if (a.Has("domain-max-domains")) o.domain.max_domains_per_token = std::atoi(a.Get("domain-max-domains").c_str());
  if (a.Has("domain-min-pair")) o.domain.min_pair_count = std::atoi(a.Get("domain-min-pair").c_str());
  if (a.Has("domain-min-token")) o.domain.min_token_count = std::atoi(a.Get("domain-min-token").c_str());
  if (a.Has("domain-alpha") && !ParseDouble(a.Get("domain-alpha"), &o.domain.alpha)) return Fail(Status::InvalidArgument("bad --domain-alpha"));
  if (a.Has("temperature") && !ParseDoubleList(a.Get("temperature"), &o.temperature_grid))
    return Fail(Status::InvalidArgument("bad --temperature"));
  if (a.Has("domain-classifier")) {
    const std::string v = a.Get("domain-classifier");
    if (v != "nb" && v != "logreg") return Fail(Status::InvalidArgument("bad --domain-classifier (want nb or logreg)"));
    o.discriminative_domain = v == "logreg";
  }
  if (a.Has("subject-l2") && !ParseDouble(a.Get("subject-l2"), &o.subject.l2)) return Fail(Status::InvalidArgument("bad --subject-l2"));
  if (a.Has("subject-max-entries")) o.subject.max_entries = static_cast<size_t>(std::atol(a.Get("subject-max-entries").c_str()));
  if (a.Has("subject-iterations")) o.subject.max_iterations = std::atoi(a.Get("subject-iterations").c_str());
  if (a.flags.count("no-unigrams")) o.features.word_unigrams = false;
  if (a.flags.count("no-bigrams")) o.features.word_bigrams = false;
  if (a.flags.count("no-conjoin")) o.features.conjoin_type = false;
  if (a.flags.count("no-shape")) o.features.shape_tokens = false;
  if (a.flags.count("no-freeform-hashed")) o.features.freeform_hashed = false;
  if (a.flags.count("stack")) o.stack.enabled = true;
  if (a.flags.count("stack-domain-gain")) o.stack.domain_gain = true;
  if (a.flags.count("stack-average-folds")) o.stack.average_fold_models = true;
  if (a.Has("stack-folds")) o.stack.first_stage_folds = std::atoi(a.Get("stack-folds").c_str());
  auto target_list = [](const std::string& v, std::vector<ComplexityTarget>* out) {
    out->clear();
    std::stringstream ss(v);
    std::string part;
    while (std::getline(ss, part, ',')) {
      if (part == "label") out->push_back(ComplexityTarget::kLabel);
      else if (part == "gain") out->push_back(ComplexityTarget::kGain);
      else return false;
    }
    return !out->empty();
  };
  if (a.Has("stack-targets") && !target_list(a.Get("stack-targets"), &o.stack.targets))
    return Fail(Status::InvalidArgument("bad --stack-targets (want label and/or gain)"));
  if (a.Has("target") && !target_list(a.Get("target"), &o.target_grid))
    return Fail(Status::InvalidArgument("bad --target (want label and/or gain)"));
  if (a.Has("cv-metric")) {
    const std::string v = a.Get("cv-metric");
    if (v != "auc" && v != "apgr") return Fail(Status::InvalidArgument("bad --cv-metric (want auc or apgr)"));
    o.cv_metric = v == "auc" ? CvMetric::kAuc : CvMetric::kApgr;
  }
  auto int_list = [](const std::string& v, std::vector<int>* out) {
    std::vector<double> d;
    if (!ParseDoubleList(v, &d)) return false;
    out->clear();
    for (double x : d) out->push_back(static_cast<int>(x));
    return true;
  };
  if (a.Has("stack-depths") && !int_list(a.Get("stack-depths"), &o.stack.depths)) return Fail(Status::InvalidArgument("bad --stack-depths"));
  if (a.Has("stack-trees") && !int_list(a.Get("stack-trees"), &o.stack.tree_counts)) return Fail(Status::InvalidArgument("bad --stack-trees"));
  if (a.Has("stack-learning-rate") && !ParseDouble(a.Get("stack-learning-rate"), &o.stack.gbdt.learning_rate))
    return Fail(Status::InvalidArgument("bad --stack-learning-rate"));
  if (a.Has("stack-min-leaf")) o.stack.gbdt.min_leaf = std::atoi(a.Get("stack-min-leaf").c_str());
  TextFeatureOptions check;
  if (!ParseTextFeatureOptions(FormatTextFeatureOptions(o.features), &check)) return Fail(Status::InvalidArgument("feature options out of range"));

  JoinStats js;
  auto items = LoadLabelledPrompts(a.Get("labels"), a.Get("prompts"), a.Get("ids"), &js);
  if (!items.ok()) return Fail(items.status());
  std::fprintf(stderr, "training on %zu items (%zu ids listed, %zu contaminated dropped)\n", items->size(), js.requested,
               js.dropped_contaminated);
  ComplexityTrainReport rep;
  auto model = TrainComplexityModel(*items, o, &rep);
  if (!model.ok()) return Fail(model.status());
  for (const auto& [t, auc] : rep.temperature_auc)
    std::fprintf(stderr, "  domain prior temperature %g: out-of-fold AUC of E[D] %.4f\n", t, auc);
  if (o.domain_prior)
    std::fprintf(stderr, "chosen temperature %g; out-of-fold domain accuracy %.5f\n", rep.chosen_temperature,
                 rep.domain_oof_accuracy);
  for (const auto& p : rep.cv) {
    std::fprintf(stderr, "  cv target=%s l2=%g smoothing=%g conjoined-factor=%g  mean per-benchmark AUC=%.4f APGR=%.4f  log loss=%.4f",
                 p.target == ComplexityTarget::kLabel ? "label" : "gain", p.l2, p.subject_smoothing, p.conjoined_l2_factor,
                 p.mean_auc, p.mean_apgr, p.mean_log_loss);
    for (const auto& [bench, m] : p.benchmarks)
      std::fprintf(stderr, "  | %s saved %.1f%% AUC %.3f", bench.c_str(), 100 * m.calls_saved, m.auc);
    std::fprintf(stderr, "\n");
  }
  std::fprintf(stderr, "chosen target=%s l2=%g subject smoothing=%g conjoined factor=%g, %d L-BFGS iterations%s, %zu non-zero weights\n",
               rep.chosen_target == ComplexityTarget::kLabel ? "label" : "gain", rep.chosen_l2, rep.chosen_subject_smoothing,
               rep.chosen_conjoined_l2_factor, rep.iterations,
               rep.converged ? "" : " (iteration limit)", rep.non_zero_weights);
  for (size_t c = 0; c < rep.stack_cv.size(); ++c) {
    const StackCandidate& p = rep.stack_cv[c];
    const char* type = p.type == 0 ? "multiple-choice" : "free-form";
    if (p.none) std::fprintf(stderr, "  stack cv %s: none (regression alone)", type);
    else
      std::fprintf(stderr, "  stack cv %s: target=%s depth=%d trees=%d", type,
                   p.target == ComplexityTarget::kLabel ? "label" : "gain", p.depth, p.trees);
    std::fprintf(stderr, "  mean APGR=%.4f AUC=%.4f", p.mean_apgr, p.mean_auc);
    for (const auto& [bench, m] : p.benchmarks)
      std::fprintf(stderr, "  | %s saved %.1f%% APGR %.3f AUC %.3f", bench.c_str(), 100 * m.calls_saved, m.apgr, m.auc);
    std::fprintf(stderr, "%s\n", static_cast<int>(c) == rep.chosen_stack[p.type] ? "  <- chosen" : "");
  }
  if (Status s = (*model)->Save(a.Get("out")); !s.ok()) return Fail(s);
  std::fprintf(stderr, "wrote %s\n", a.Get("out").c_str());
  return 0;
}

void WriteMetrics(JsonWriter& w, const RoutingMetrics& m, double within_subject_auc) {
  w.BeginObject();
  w.Field("calls_saved", m.calls_saved);
  w.Field("strong_fraction", m.strong_fraction);
  w.Field("apgr", m.apgr);
  w.Field("auc", m.auc);
  w.Field("within_subject_auc", within_subject_auc);
  w.EndObject();
}

void WriteDifference(JsonWriter& w, const PairedDifference& d) {
  w.BeginObject();
  w.Field("observed", d.observed);
  w.Field("bootstrap_mean", d.mean);
  w.Field("bootstrap_sd", d.sd);
  w.Field("reps", static_cast<int64_t>(d.reps));
  w.EndObject();
}

// One scored router of the eval table (subject_oracle is a bound that reads the evaluated labels).
struct ScoredRouter {
  const char* key;    // JSON key
  const char* label;  // table label
  std::vector<double> scores;
};

int RunEval(int argc, char** argv) {
  Args a = ParseArgs(argc, argv, {"json"});
  if (!a.error.empty()) {
    std::fprintf(stderr, "mecrouter complexity eval: %s\n%s", a.error.c_str(), kComplexityUsage);
    return 2;
  }
  if (!Require(a, {"model", "labels", "prompts", "ids"})) return 2;
  double target = 0.95;
  if (a.Has("target") && (!ParseDouble(a.Get("target"), &target) || target <= 0 || target > 1))
    return Fail(Status::InvalidArgument("bad --target (want 0 < t <= 1)"));
  double bootstrap_reps = 200;
  if (a.Has("bootstrap") && (!ParseDouble(a.Get("bootstrap"), &bootstrap_reps) || bootstrap_reps < 0 ||
                             bootstrap_reps > 100000 || bootstrap_reps == 1 || bootstrap_reps != std::floor(bootstrap_reps)))
    return Fail(Status::InvalidArgument("bad --bootstrap (want 0 or a whole number 2..100000)"));
  auto model = LearnedComplexityModel::Load(a.Get("model"));
  if (!model.ok()) return Fail(model.status());
  auto labels = ReadCorrectnessCsv(a.Get("labels"));
  if (!labels.ok()) return Fail(labels.status());
  auto prompts = ReadPromptsJsonl(a.Get("prompts"));
  if (!prompts.ok()) return Fail(prompts.status());
  auto ids = ReadIdList(a.Get("ids"));
  if (!ids.ok()) return Fail(ids.status());
  JoinStats js;
  auto test = JoinLabelledPrompts(*labels, *prompts, *ids, &js);
  if (!test.ok()) return Fail(test.status());
  std::vector<LabelledItem> train_items;
  const bool have_train = a.Has("train-ids");
  if (have_train) {
    auto tids = ReadIdList(a.Get("train-ids"));
    if (!tids.ok()) return Fail(tids.status());
    auto train = JoinLabelledPrompts(*labels, *prompts, *tids);
    if (!train.ok()) return Fail(train.status());
    std::set<std::string> test_ids;
    for (const auto& t : *test) test_ids.insert(t.item.item_id);
    for (const auto& t : *train) {
      if (test_ids.count(t.item.item_id)) return Fail(Status::InvalidArgument("--train-ids overlaps --ids: " + t.item.item_id));
      train_items.push_back(t.item);
    }
  }

  std::vector<LabelledItem> test_items;
  std::vector<double> model_scores;
  for (const auto& t : *test) {
    test_items.push_back(t.item);
    model_scores.push_back((*model)->WeakAsGoodProbability(t.prompt));
  }
  // Index 0 is the model; the differences below are against indexes 2, 3 and 4.
  const std::vector<ScoredRouter> routers = {
      {"model", "model", model_scores},
      {"random", "random", BaselineScores(Baseline::kRandom, train_items, test_items)},
      {"length", "length", BaselineScores(Baseline::kLength, train_items, test_items)},
      {"subject_length", "subject+length", BaselineScores(Baseline::kSubjectLength, train_items, test_items)},
      {"subject_gain", "subject gain", BaselineScores(Baseline::kSubjectGain, train_items, test_items)},
      {"subject_oracle", "subject oracle*", SubjectOracleScores(test_items)},
  };

  if (a.Has("scores")) {  // per-item scores, for analysis
    std::FILE* f = std::fopen(a.Get("scores").c_str(), "w");
    if (!f) return Fail(Status::Unavailable("cannot write " + a.Get("scores")));
    std::fprintf(f, "item_id,benchmark,subject,weak_correct,strong_correct");
    for (const ScoredRouter& r : routers) std::fprintf(f, ",%s", r.key);
    std::fprintf(f, "\n");
    for (size_t i = 0; i < test_items.size(); ++i) {
      const auto& t = test_items[i];
      std::fprintf(f, "%s,%s,%s,%d,%d", t.item_id.c_str(), t.benchmark.c_str(), t.subject.c_str(), t.weak_correct,
                   t.strong_correct);
      for (const ScoredRouter& r : routers) std::fprintf(f, ",%.17g", r.scores[i]);  // round-trips
      std::fprintf(f, "\n");
    }
    std::fclose(f);
  }
  std::map<std::string, std::vector<size_t>> by_bench;
  for (size_t i = 0; i < test_items.size(); ++i) by_bench[test_items[i].benchmark].push_back(i);
  auto routed_of = [&](const std::vector<size_t>& idx, const std::vector<double>& scores) {
    std::vector<RoutedItem> r;
    for (size_t i : idx) r.push_back({scores[i], test_items[i].weak_correct, test_items[i].strong_correct});
    return r;
  };
  auto subjects_of = [&](const std::vector<size_t>& idx) {
    std::vector<std::string> s;
    for (size_t i : idx) s.push_back(test_items[i].subject);
    return s;
  };
  // Paired bootstrap differences model - baseline of calls saved, one fixed stream per benchmark.
  auto differences = [&](const std::string& bench, const std::vector<size_t>& idx) {
    std::vector<std::pair<std::string, PairedDifference>> out;
    if (bootstrap_reps < 2) return out;
    Rng rng(1, "complexity-eval/bootstrap/" + bench);
    const std::vector<RoutedItem> m = routed_of(idx, routers[0].scores);
    for (size_t b : {3, 2, 4})
      out.emplace_back(std::string("model_minus_") + routers[b].key,
                       BootstrapCallsSavedDifference(m, routed_of(idx, routers[b].scores),
                                                     static_cast<int>(bootstrap_reps), target, rng));
    return out;
  };

  if (a.flags.count("json")) {
    std::string out;
    JsonWriter w(out);
    w.BeginObject();
    w.Field("model", (*model)->Name());
    w.Field("items", static_cast<uint64_t>(test_items.size()));
    w.Field("dropped_contaminated", static_cast<uint64_t>(js.dropped_contaminated));
    w.Field("quality_target", target);
    w.Key("baselines_fitted_on");
    if (have_train) w.String(a.Get("train-ids"));
    else w.Null();
    w.Key("benchmarks").BeginObject();
    for (const auto& [bench, idx] : by_bench) {
      const RoutingMetrics mm = EvaluateRouting(routed_of(idx, model_scores), target);
      const std::vector<std::string> subjects = subjects_of(idx);
      w.Key(bench).BeginObject();
      w.Field("n", static_cast<uint64_t>(mm.n));
      w.Field("weak_accuracy", mm.weak_accuracy);
      w.Field("strong_accuracy", mm.strong_accuracy);
      for (const ScoredRouter& r : routers) {
        const std::vector<RoutedItem> routed = routed_of(idx, r.scores);
        w.Key(r.key);
        WriteMetrics(w, EvaluateRouting(routed, target), WithinGroupAuc(routed, subjects));
      }
      w.Key("bootstrap").BeginObject();
      for (const auto& [key, d] : differences(bench, idx)) {
        w.Key(key);
        WriteDifference(w, d);
      }
      w.EndObject();
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
    std::printf("%s\n", out.c_str());
    return 0;
  }

  std::printf("model %s on %zu items (%zu contaminated dropped); quality target %.0f%% of strong-only accuracy\n",
              std::string((*model)->Name()).c_str(), test_items.size(), js.dropped_contaminated, target * 100);
  if (!have_train)
    std::printf("note: no --train-ids: length baselines assume 'longer is harder' and subject is not used\n");
  for (const auto& [bench, idx] : by_bench) {
    const RoutingMetrics mm = EvaluateRouting(routed_of(idx, model_scores), target);
    const std::vector<std::string> subjects = subjects_of(idx);
    std::printf("\n%s: n=%zu  weak acc %.1f%%  strong acc %.1f%%\n", bench.c_str(), mm.n, 100 * mm.weak_accuracy,
                100 * mm.strong_accuracy);
    std::printf("  %-16s %12s %8s %8s %12s\n", "router", "calls saved", "APGR", "AUC", "AUC in subj.");
    for (const ScoredRouter& r : routers) {
      const std::vector<RoutedItem> routed = routed_of(idx, r.scores);
      const RoutingMetrics m = EvaluateRouting(routed, target);
      std::printf("  %-16s %11.1f%% %8.3f %8.3f %12.3f\n", r.label, 100 * m.calls_saved, m.apgr, m.auc,
                  WithinGroupAuc(routed, subjects));
    }
    for (const auto& [key, d] : differences(bench, idx))
      std::printf("  %s: %+.1f points (bootstrap sd %.1f over %d resamples)\n", key.c_str(), 100 * d.observed,
                  100 * d.sd, d.reps);
  }
  std::printf("\n* subject oracle reads the evaluated items' labels (each subject's own mean gain): a ceiling for\n"
              "  routers that know only the subject, not a router\n");
  return 0;
}

// Test share of the random split, in thousandths.
constexpr uint64_t kRandomTestPerMille = 300;
constexpr int kSubjectFolds = 5;

int RunSplit(int argc, char** argv) {
  Args a = ParseArgs(argc, argv, {});
  if (!a.error.empty()) {
    std::fprintf(stderr, "mecrouter complexity split: %s\n%s", a.error.c_str(), kComplexityUsage);
    return 2;
  }
  if (!Require(a, {"labels", "scheme", "train", "test"})) return 2;
  auto labels = ReadCorrectnessCsv(a.Get("labels"));
  if (!labels.ok()) return Fail(labels.status());
  const std::string scheme = a.Get("scheme");
  const uint64_t seed = std::strtoull(a.Get("seed", "0").c_str(), nullptr, 10);
  const int fold = std::atoi(a.Get("fold", "0").c_str());
  std::vector<std::string> mmlu_subjects;
  for (const auto& it : *labels)
    if (it.benchmark == "mmlu") mmlu_subjects.push_back(it.subject);
  std::sort(mmlu_subjects.begin(), mmlu_subjects.end());
  mmlu_subjects.erase(std::unique(mmlu_subjects.begin(), mmlu_subjects.end()), mmlu_subjects.end());
  std::set<std::string> held_out_subjects;
  if (scheme == "subject-random") {
    // `--held-out-subjects K` subjects drawn by the seed (learning on unseen subjects, issue 13).
    const int k = std::atoi(a.Get("held-out-subjects", "17").c_str());
    if (k < 1 || k >= static_cast<int>(mmlu_subjects.size()))
      return Fail(Status::InvalidArgument("--held-out-subjects must be in 1.." + std::to_string(mmlu_subjects.size() - 1)));
    std::vector<std::pair<uint64_t, std::string>> order;
    for (const auto& sub : mmlu_subjects)
      order.emplace_back(Fnv1a64(sub, Fnv1a64("complexity-split/subjects/" + std::to_string(seed))), sub);
    std::sort(order.begin(), order.end());
    for (int i = 0; i < k; ++i) held_out_subjects.insert(order[i].second);
  } else if (scheme == "subject") {
    if (fold < 0 || fold >= kSubjectFolds) return Fail(Status::InvalidArgument("--fold must be in 0..4"));
    // Subjects in alphabetical order, dealt round-robin into 5 partitions.
    for (size_t i = 0; i < mmlu_subjects.size(); ++i)
      if (static_cast<int>(i % kSubjectFolds) == fold) held_out_subjects.insert(mmlu_subjects[i]);
  } else if (scheme != "default" && scheme != "random" && scheme != "subject-random") {
    return Fail(Status::InvalidArgument("unknown --scheme " + scheme));
  }
  const uint64_t seed_hash = Fnv1a64("complexity-split/" + std::to_string(seed));
  std::vector<std::string> train, test;
  for (const auto& it : *labels) {
    if (it.contaminated) continue;
    bool is_test = false;
    if (scheme == "default") is_test = !IsComplexityTrainId(it.item_id);
    else if (scheme == "random") is_test = Fnv1a64(it.item_id, seed_hash) % 1000 < kRandomTestPerMille;
    else is_test = it.benchmark == "mmlu" && held_out_subjects.count(it.subject) > 0;
    (is_test ? test : train).push_back(it.item_id);
  }
  // Optionally the test ids again, as a stream of judged samples (in a random order of the seed)
  // and the items to evaluate on (30% by id hash): `complexity learn --stream-ids --eval-ids`.
  if (a.Has("stream") || a.Has("eval")) {
    if (!a.Has("stream") || !a.Has("eval")) return Fail(Status::InvalidArgument("--stream and --eval go together"));
    const uint64_t h = Fnv1a64("complexity-split/stream/" + std::to_string(seed));
    std::vector<std::pair<uint64_t, std::string>> stream;
    std::vector<std::string> eval;
    for (const auto& id : test) {
      if (Fnv1a64(id, h) % 1000 < kRandomTestPerMille) eval.push_back(id);
      else stream.emplace_back(Fnv1a64(id, h ^ 0x5bd1e995ull), id);
    }
    std::sort(stream.begin(), stream.end());
    std::vector<std::string> stream_ids;
    for (auto& [key, id] : stream) stream_ids.push_back(std::move(id));
    if (Status s = WriteIdList(a.Get("stream"), stream_ids); !s.ok()) return Fail(s);
    if (Status s = WriteIdList(a.Get("eval"), eval); !s.ok()) return Fail(s);
    std::fprintf(stderr, "test ids as %zu stream (random order) and %zu eval ids\n", stream_ids.size(), eval.size());
  }
  if (Status s = WriteIdList(a.Get("train"), train); !s.ok()) return Fail(s);
  if (Status s = WriteIdList(a.Get("test"), test); !s.ok()) return Fail(s);
  std::fprintf(stderr, "split %s: %zu train, %zu test ids\n", scheme.c_str(), train.size(), test.size());
  if (scheme == "subject" || scheme == "subject-random") {
    std::string names;
    for (const auto& s : held_out_subjects) names += (names.empty() ? "" : " ") + s;
    std::fprintf(stderr, "held-out subjects: %s\n", names.c_str());
  }
  return 0;
}

}  // namespace

int RunComplexity(int argc, char** argv) {
  if (argc < 1) {
    std::fprintf(stderr, "%s", kComplexityUsage);
    return 2;
  }
  const std::string_view sub = argv[0];
  if (sub == "train") {
    for (int i = 1; i < argc; ++i)
      if (std::string_view(argv[i]) == "--judged" || std::string_view(argv[i]).rfind("--judged=", 0) == 0)
        return RunComplexityTrainJudged(argc - 1, argv + 1);
    return RunTrain(argc - 1, argv + 1);
  }
  if (sub == "eval") return RunEval(argc - 1, argv + 1);
  if (sub == "split") return RunSplit(argc - 1, argv + 1);
  if (sub == "learn") return RunComplexityLearn(argc - 1, argv + 1);
  if (sub == "predict") return RunComplexityPredict(argc - 1, argv + 1);
  std::fprintf(stderr, "mecrouter complexity: unknown subcommand '%s'\n%s", std::string(sub).c_str(), kComplexityUsage);
  return 2;
}

}  // namespace mec::cli
