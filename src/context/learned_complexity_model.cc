#include "context/learned_complexity_model.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "context/model_text.h"

#include "core/rng.h"

namespace mec {
namespace {

// Version 3: type-salted hashed features in the upper half of the hashed space (v2), unigram
// hashes derived from the shared word-token hashes (v3).
constexpr std::string_view kMagic = "mecrouter-complexity-model 3";
// Quantised weights are integers in [-kQuantMax, kQuantMax].
constexpr double kQuantMax = 32767.0;

// "key value" with the given key; returns the value.
bool KeyedLine(std::string_view& text, std::string_view key, std::string_view* value) {
  std::string_view line;
  if (!NextLine(&text, &line)) return false;
  if (line.size() < key.size() + 1 || line.substr(0, key.size()) != key || line[key.size()] != ' ') return false;
  *value = line.substr(key.size() + 1);
  return true;
}

double Sigmoid(double z) { return z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z)); }

class ConstantComplexityModel : public ComplexityModel {
 public:
  explicit ConstantComplexityModel(double p) : p_(p) {}
  double WeakAsGoodProbability(std::string_view) const override { return p_; }
  std::string_view Name() const override { return "fallback-prior"; }

 private:
  double p_;
};

}  // namespace

void AppendDomainFeatures(double expected_difficulty, PromptType type, const TextFeatureOptions& o, SparseVector* x) {
  const uint32_t base = static_cast<uint32_t>(FeatureSpaceSize(o));
  const float v = static_cast<float>(expected_difficulty);
  if (v == 0.0f) return;
  x->Add(base, v);
  if (type == PromptType::kFreeForm) x->Add(base + 1, v);
}

LearnedComplexityModel::LearnedComplexityModel(std::string name, TextFeatureOptions options, std::vector<float> weights,
                                               float bias, DomainPrior domain)
    : name_(std::move(name)), options_(options), weights_(std::move(weights)), bias_(bias), domain_(std::move(domain)) {
  weights_.resize(ModelFeatureSpaceSize(options_), 0.0f);
}

std::unique_ptr<LearnedComplexityModel> LearnedComplexityModel::FromWeights(std::string name, TextFeatureOptions options,
                                                                            const std::vector<double>& weights,
                                                                            double bias, DomainPrior domain) {
  double max_abs = 0.0;
  for (double w : weights) max_abs = std::max(max_abs, std::abs(w));
  const float scale = max_abs > 0 ? static_cast<float>(max_abs / kQuantMax) : 1.0f;
  std::vector<float> q(ModelFeatureSpaceSize(options), 0.0f);
  for (size_t i = 0; i < weights.size() && i < q.size(); ++i) {
    const double k = std::round(weights[i] / scale);
    q[i] = static_cast<float>(k) * scale;
  }
  auto m = std::make_unique<LearnedComplexityModel>(std::move(name), options, std::move(q), static_cast<float>(bias),
                                                    std::move(domain));
  m->scale_ = scale;
  return m;
}

size_t LearnedComplexityModel::NonZeroWeights() const {
  size_t n = 0;
  for (float w : weights_) n += w != 0.0f;
  return n;
}

PromptType LearnedComplexityModel::Features(std::string_view prompt, SparseVector* x) const {
  return FeaturesAndDomainGain(prompt, x, nullptr);
}

PromptType LearnedComplexityModel::FeaturesAndDomainGain(std::string_view prompt, SparseVector* x,
                                                         double* domain_gain) const {
  std::vector<uint64_t> tokens;
  const PromptType type = ExtractTextFeatures(prompt, options_, x, domain_.empty() ? nullptr : &tokens);
  if (domain_.empty()) return type;
  std::vector<double> scores;
  domain_.ClassScores(tokens, &scores);
  AppendDomainFeatures(domain_.ExpectedValue(scores, domain_.temperature()), type, options_, x);
  if (domain_gain) *domain_gain = domain_.ExpectedOf(scores, domain_.temperature(), stacker_.class_gain);
  return type;
}

double LearnedComplexityModel::LinearLogit(const SparseVector& x) const {
  double z = bias_;
  for (size_t i = 0; i < x.size(); ++i) z += static_cast<double>(weights_[x.index[i]]) * x.value[i];
  return z;
}

double LearnedComplexityModel::Logit(std::string_view prompt) const {
  SparseVector x;
  x.index.reserve(2048);
  x.value.reserve(2048);
  double domain_gain = 0;
  const PromptType type = FeaturesAndDomainGain(prompt, &x, stacker_.class_gain.empty() ? nullptr : &domain_gain);
  const double z = LinearLogit(x);
  const StackStage& stage = stacker_.stage(type);
  if (!stage.enabled) return z;
  return stage.Logit(StackFeatures(x, type, z, options_, domain_gain));
}

double LearnedComplexityModel::WeakAsGoodProbability(std::string_view prompt) const { return Sigmoid(Logit(prompt)); }

ComplexityEstimate LearnedComplexityModel::Estimate(std::string_view prompt) const {
  ComplexityEstimate e;
  e.edge = WeakAsGoodProbability(prompt);
  e.familiarity = 0;
  if (!domain_.empty()) {
    std::vector<uint64_t> tokens;
    HashWordTokens(prompt, &tokens);
    e.familiarity = PromptFamiliarity(domain_.KnownShare(tokens), prompt.size());
  }
  e.sd = PredictionSd(e.edge, e.familiarity, 0);
  return e;
}

std::string LearnedComplexityModel::Serialize() const {
  // The quantisation step: the one the weights were built with, or else the smallest step that
  // represents them (they are then written as multiples of it only if they are; see below).
  float scale = scale_;
  bool quantised = scale > 0.0f;
  if (quantised) {
    for (float w : weights_) {
      const float k = std::round(w / scale);
      if (k * scale != w || std::abs(k) > kQuantMax) {
        quantised = false;
        break;
      }
    }
  }
  std::string out;
  out += kMagic;
  out += "\nname " + name_ + "\nfeatures " + FormatTextFeatureOptions(options_) + "\nbias " + FloatText(bias_) + "\n";
  out += "scale " + (quantised ? FloatText(scale) : std::string("0")) + "\n";
  out += "weights " + std::to_string(NonZeroWeights()) + "\n";
  size_t prev = 0;
  for (size_t i = 0; i < weights_.size(); ++i) {
    if (weights_[i] == 0.0f) continue;
    out += std::to_string(i - prev);
    out += ' ';
    // Unquantised weights are written as floats (scale 0 tells the reader).
    out += quantised ? std::to_string(static_cast<long>(std::round(weights_[i] / scale))) : FloatText(weights_[i]);
    out += '\n';
    prev = i;
  }
  if (!domain_.empty()) domain_.AppendTo(&out);
  if (stacker_.enabled()) stacker_.AppendTo(&out);
  out += "end\n";
  return out;
}

Result<std::unique_ptr<LearnedComplexityModel>> LearnedComplexityModel::Parse(std::string_view text) {
  auto bad = [](std::string what) { return Status::InvalidArgument("complexity model: " + what); };
  std::string_view line, value;
  if (!NextLine(&text, &line) || line != kMagic) return bad("missing header '" + std::string(kMagic) + "'");
  if (!KeyedLine(text, "name", &value)) return bad("missing 'name'");
  std::string name(value);
  TextFeatureOptions options;
  if (!KeyedLine(text, "features", &value) || !ParseTextFeatureOptions(value, &options)) return bad("bad 'features' line");
  float bias = 0, scale = 0;
  if (!KeyedLine(text, "bias", &value) || !ParseNumber(value, &bias)) return bad("bad 'bias' line");
  if (!KeyedLine(text, "scale", &value) || !ParseNumber(value, &scale) || scale < 0) return bad("bad 'scale' line");
  size_t count = 0;
  if (!KeyedLine(text, "weights", &value) || !ParseNumber(value, &count)) return bad("bad 'weights' line");
  std::vector<float> weights(ModelFeatureSpaceSize(options), 0.0f);
  size_t index = 0;
  for (size_t k = 0; k < count; ++k) {
    if (!NextLine(&text, &line)) return bad("truncated weights");
    const size_t sp = line.find(' ');
    size_t delta = 0;
    if (sp == std::string_view::npos || !ParseNumber(line.substr(0, sp), &delta)) return bad("bad weight line " + std::to_string(k));
    // index < weights.size() here, so the test cannot overflow (a huge delta used to wrap around).
    if (delta >= weights.size() - index || (k > 0 && delta == 0)) return bad("weight index out of range at line " + std::to_string(k));
    index += delta;
    float w = 0;
    if (scale > 0) {
      long q = 0;
      if (!ParseNumber(line.substr(sp + 1), &q) || std::abs(q) > static_cast<long>(kQuantMax)) return bad("bad weight " + std::to_string(k));
      w = static_cast<float>(q) * scale;
    } else if (!ParseNumber(line.substr(sp + 1), &w)) {
      return bad("bad weight " + std::to_string(k));
    }
    weights[index] = w;
  }
  DomainPrior domain;
  if (text.substr(0, 7) == "domain ") {
    auto d = DomainPrior::Parse(&text);
    if (!d.ok()) return bad(d.status().message());
    domain = std::move(d).value();
  }
  ComplexityStacker stacker;
  if (text.substr(0, 6) == "stack\n") {
    auto s = ComplexityStacker::Parse(&text);
    if (!s.ok()) return bad(s.status().message());
    stacker = std::move(s).value();
  }
  if (!stacker.class_gain.empty() && stacker.class_gain.size() != domain.classes().size())
    return bad("stack classgain has " + std::to_string(stacker.class_gain.size()) + " classes, the domain prior " +
               std::to_string(domain.classes().size()));
  if (!NextLine(&text, &line) || line != "end") return bad("missing 'end'");
  auto m = std::make_unique<LearnedComplexityModel>(std::move(name), options, std::move(weights), bias, std::move(domain));
  m->scale_ = scale;
  m->stacker_ = std::move(stacker);
  return m;
}

Result<std::unique_ptr<LearnedComplexityModel>> LearnedComplexityModel::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open complexity model " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto m = Parse(ss.str());
  if (!m.ok()) return Status::InvalidArgument(path + ": " + m.status().message());
  return m;
}

Status LearnedComplexityModel::Save(const std::string& path) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::Unavailable("cannot write " + path);
  const std::string text = Serialize();
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return Status::Unavailable("write failed: " + path);
  return Status::Ok();
}

bool IsComplexityTrainId(std::string_view item_id) { return Fnv1a64(item_id) % 10 < 7; }

std::unique_ptr<ComplexityModel> LoadDefaultComplexityModel() {
  auto m = LearnedComplexityModel::Parse(EmbeddedDefaultComplexityModelText());
  if (m.ok()) return std::move(m).value();
  // Share of decontaminated MMLU+GSM8K items where Mixtral is as good as GPT-4 (README §2).
  return std::make_unique<ConstantComplexityModel>(0.81);
}

}  // namespace mec
