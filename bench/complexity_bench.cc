// Inference cost of the request-complexity model (issue 4: under 20 us for a 2 KB prompt).
//   cmake -S . -B build/release -DMEC_BENCH=ON && cmake --build build/release --target complexity_bench
//   build/release/complexity_bench
// MEC_BENCH_COMPLEXITY_MODEL=FILE measures that model file instead of the embedded default.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "context/learned_complexity_model.h"
#include "context/text_features.h"
#include "core/rng.h"

namespace mec {
namespace {

// A prompt of about `bytes` bytes, MMLU-like: a passage, a question and four options.
std::string Prompt(size_t bytes) {
  static const char* kWords[] = {"the",     "court",  "held",    "that",   "a",        "contract", "between",
                                 "two",     "parties", "is",     "void",   "when",     "one",      "of",
                                 "them",    "lacked", "capacity", "at",    "formation", "energy",  "of",
                                 "photon",  "with",   "wavelength", "500", "nm",       "equals",   "h",
                                 "c/lambda", "(2.4",  "eV)",     "which",  "statement", "best",    "explains"};
  Rng rng(1, "bench-prompt");
  std::string s;
  while (s.size() + 80 < bytes) {
    s += kWords[rng.Below(sizeof(kWords) / sizeof(kWords[0]))];
    s += rng.Below(12) == 0 ? ". " : " ";
  }
  s += "\nWhich of the following is correct?\nA. 12 J\nB. 2.4 eV\nC. 4.0e-19 J\nD. none of these\nAnswer:";
  return s;
}

// The embedded default model, or (if the build has none) a dense random model of the default
// feature options, so the cost measured is the same.
std::unique_ptr<LearnedComplexityModel> Model() {
  if (const char* path = std::getenv("MEC_BENCH_COMPLEXITY_MODEL"); path && *path) {
    auto f = LearnedComplexityModel::Load(path);
    if (f.ok()) return std::move(f).value();
    std::fprintf(stderr, "MEC_BENCH_COMPLEXITY_MODEL: %s; using the embedded model\n", f.status().message().c_str());
  }
  auto m = LearnedComplexityModel::Parse(EmbeddedDefaultComplexityModelText());
  if (m.ok()) return std::move(m).value();
  TextFeatureOptions o;
  std::vector<double> w(FeatureSpaceSize(o));
  Rng rng(2, "bench-weights");
  for (double& x : w) x = rng.Normal(0, 0.1);
  return LearnedComplexityModel::FromWeights("bench-random", o, w, 0.0);
}

void BM_WeakAsGoodProbability(benchmark::State& state) {
  const auto model = Model();
  const std::string prompt = Prompt(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(model->WeakAsGoodProbability(prompt));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(prompt.size()));
  state.SetLabel(std::string(model->Name()));
}
BENCHMARK(BM_WeakAsGoodProbability)->Arg(200)->Arg(2048)->Arg(8192);

// The second stage alone (complexity_stacker.h), from the features of a 2 KB multiple-choice
// prompt: reading its inputs and the trees. 0 ns of work when the model has no stage.
void BM_SecondStage(benchmark::State& state) {
  const auto model = Model();
  const std::string prompt = Prompt(2048);
  SparseVector x;
  const PromptType type = model->Features(prompt, &x);
  const double z = model->LinearLogit(x);
  const StackStage& stage = model->stacker().stage(type);
  for (auto _ : state) {
    if (stage.enabled) benchmark::DoNotOptimize(stage.Logit(StackFeatures(x, type, z, model->options())));
  }
  state.SetLabel(std::to_string(stage.trees.trees().size()) + " trees");
}
BENCHMARK(BM_SecondStage);

void BM_ExtractTextFeatures(benchmark::State& state) {
  const auto model = Model();
  const std::string prompt = Prompt(static_cast<size_t>(state.range(0)));
  SparseVector x;
  for (auto _ : state) {
    ExtractTextFeatures(prompt, model->options(), &x);
    benchmark::DoNotOptimize(x.index.data());
  }
}
BENCHMARK(BM_ExtractTextFeatures)->Arg(2048);

}  // namespace
}  // namespace mec

namespace mec {
namespace {

void BM_DenseTextFeatures(benchmark::State& state) {
  const std::string prompt = Prompt(2048);
  for (auto _ : state) benchmark::DoNotOptimize(DenseTextFeatures(prompt));
}
BENCHMARK(BM_DenseTextFeatures);

void BM_HashWordTokens(benchmark::State& state) {
  const std::string prompt = Prompt(2048);
  std::vector<uint64_t> t;
  for (auto _ : state) {
    t.clear();
    HashWordTokens(prompt, &t);
    benchmark::DoNotOptimize(t.data());
  }
}
BENCHMARK(BM_HashWordTokens);

void BM_DomainPrior(benchmark::State& state) {
  const auto model = Model();
  const std::string prompt = Prompt(2048);
  std::vector<uint64_t> t;
  HashWordTokens(prompt, &t);
  for (auto _ : state) benchmark::DoNotOptimize(model->domain().ExpectedValueOfTokens(t));
}
BENCHMARK(BM_DomainPrior);

}  // namespace
}  // namespace mec
