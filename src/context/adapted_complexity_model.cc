#include "context/adapted_complexity_model.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <unordered_map>

#include "context/model_text.h"
#include "context/text_features.h"

namespace mec {
namespace {

double Logit(double p) {
  p = std::clamp(p, 1e-6, 1 - 1e-6);
  return std::log(p / (1 - p));
}
double Sigm(double z) { return z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z)); }

uint32_t WordBucket(uint64_t h, int bits) { return static_cast<uint32_t>((h * 0x9E3779B97F4A7C15ull) >> (64 - bits)); }

}  // namespace

uint64_t PromptKey(std::string_view prompt) {
  uint64_t h = 0xcbf29ce484222325ull;
  bool in_word = false;
  for (char ch : prompt) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c >= 0x80) {
      h = (h ^ static_cast<unsigned char>(std::tolower(c))) * 0x100000001b3ull;
      in_word = true;
    } else if (in_word) {
      h = (h ^ ' ') * 0x100000001b3ull;  // one separator per gap, whatever it held
      in_word = false;
    }
  }
  if (in_word) h = (h ^ ' ') * 0x100000001b3ull;
  return h;
}

std::string_view QualityClassName(QualityClass c) { return c == QualityClass::kEdge ? "edge" : "device"; }

bool ParseQualityClass(std::string_view s, QualityClass* out) {
  if (s == "edge") *out = QualityClass::kEdge;
  else if (s == "device") *out = QualityClass::kDevice;
  else return false;
  return true;
}

double BaseFamiliarity(const ComplexityModel& base, std::string_view prompt) {
  const auto* learned = dynamic_cast<const LearnedComplexityModel*>(&base);
  if (learned == nullptr || learned->domain().empty()) return 0.0;
  std::vector<uint64_t> tokens;
  HashWordTokens(prompt, &tokens);
  return PromptFamiliarity(learned->domain().KnownShare(tokens), prompt.size());
}

AdaptedComplexityModel::AdaptedComplexityModel(std::shared_ptr<const ComplexityModel> base, int version, int word_bits,
                                               DeviceQualityAssumption device,
                                               std::array<QualityCorrection, kQualityClasses> corrections)
    : base_(std::move(base)), version_(version), word_bits_(word_bits), device_(device), corrections_(std::move(corrections)) {
  // The text form keeps floats: hold the assumption at that precision, so a parsed model predicts
  // exactly what the original did.
  // (Through a volatile float: g++ 12 -O3 was seen to drop a plain double -> float -> double here.)
  auto at_float = [](double v) {
    volatile float f = static_cast<float>(v);
    return static_cast<double>(f);
  };
  device_.accuracy_ratio = at_float(device_.accuracy_ratio);
  device_.joint_success_share = at_float(device_.joint_success_share);
  name_ = std::string(base_->Name()) + "+judged.v" + std::to_string(version_);
}

AdaptFeatures AdaptedComplexityModel::Features(const ComplexityModel& base, std::string_view prompt, int word_bits) {
  AdaptFeatures f;
  const auto* learned = dynamic_cast<const LearnedComplexityModel*>(&base);
  f.base_logit = learned != nullptr ? learned->Logit(prompt) : Logit(base.WeakAsGoodProbability(prompt));
  std::vector<uint64_t> tokens;
  tokens.reserve(prompt.size() / 4 + 8);
  HashWordTokens(prompt, &tokens);
  f.key = PromptKey(prompt);
  if (!tokens.empty()) {
    // Presence (1 per distinct word): a word's weight is its whole say in the logit, on the same
    // footing as the standardised dense features under one L2 strength.
    f.words.reserve(tokens.size());
    for (uint64_t h : tokens) f.words.emplace_back(WordBucket(h, word_bits), 1.0f);
    std::sort(f.words.begin(), f.words.end());
    f.words.erase(std::unique(f.words.begin(), f.words.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
                  f.words.end());
  }
  {
    const auto d = DenseTextFeatures(prompt);
    f.dense.assign(d.begin(), d.end());
  }
  if (learned != nullptr && !learned->domain().empty()) {
    learned->domain().Posterior(tokens, &f.topic);
    f.familiarity = PromptFamiliarity(learned->domain().KnownShare(tokens), prompt.size());
  }
  return f;
}

double AdaptedComplexityModel::CorrectionLogit(const QualityCorrection& c, const AdaptFeatures& f) {
  if (c.samples == 0) return 0.0;
  double z = c.bias + c.base_slope * f.base_logit;
  if (!c.topic.empty() && c.topic.size() == f.topic.size()) {
    for (size_t k = 0; k < f.topic.size(); ++k) z += c.topic[k] * f.topic[k];
  }
  if (!c.dense.empty() && c.dense.size() == f.dense.size()) {
    const bool ranged = c.dense_lo.size() == c.dense.size() && c.dense_hi.size() == c.dense.size();
    for (size_t k = 0; k < f.dense.size(); ++k)
      z += static_cast<double>(c.dense[k]) * (ranged ? std::clamp(f.dense[k], c.dense_lo[k], c.dense_hi[k]) : f.dense[k]);
  }
  // Both lists are sorted by bucket: merge.
  size_t i = 0, j = 0;
  while (i < c.words.size() && j < f.words.size()) {
    if (c.words[i].first < f.words[j].first) ++i;
    else if (c.words[i].first > f.words[j].first) ++j;
    else z += static_cast<double>(c.words[i++].second) * f.words[j++].second;
  }
  return z;
}

double AdaptedComplexityModel::CorrectedQuality(const QualityCorrection& c, const AdaptFeatures& f, double offset) {
  if (c.samples == 0) return Sigm(offset);
  const double q = Sigm(c.calib_a + c.calib_b * (offset + CorrectionLogit(c, f)));
  auto it = std::lower_bound(c.memo.begin(), c.memo.end(), f.key,
                             [](const QualityCorrection::Memo& m, uint64_t k) { return m.key < k; });
  if (it == c.memo.end() || it->key != f.key || it->count == 0) return q;
  return (it->as_good_sum + kMemoPseudoCount * q) / (it->count + kMemoPseudoCount);
}

QualityPrediction AdaptedComplexityModel::PredictFromFeatures(const AdaptFeatures& f) const {
  QualityPrediction p;
  const QualityCorrection& ce = corrections_[static_cast<int>(QualityClass::kEdge)];
  const QualityCorrection& cd = corrections_[static_cast<int>(QualityClass::kDevice)];
  p.edge = CorrectedQuality(ce, f, f.base_logit);
  const double device_prior = DeviceQualityFromEdge(p.edge, device_);
  p.device_learned = cd.samples > 0;
  p.device = p.device_learned ? CorrectedQuality(cd, f, Logit(device_prior)) : device_prior;
  p.familiarity = f.familiarity;
  // Judged support: the median over the prompt's distinct words of the edge samples that had it.
  if (!ce.support.empty() && !f.words.empty()) {
    std::vector<uint32_t> counts;
    counts.reserve(f.words.size());
    for (const auto& [bucket, value] : f.words) {
      auto it = std::lower_bound(ce.support.begin(), ce.support.end(), std::make_pair(bucket, uint32_t{0}));
      counts.push_back(it != ce.support.end() && it->first == bucket ? it->second : 0);
    }
    std::nth_element(counts.begin(), counts.begin() + counts.size() / 2, counts.end());
    p.judged_support = counts[counts.size() / 2];
  }
  {
    auto it = std::lower_bound(ce.memo.begin(), ce.memo.end(), f.key,
                               [](const QualityCorrection::Memo& m, uint64_t k) { return m.key < k; });
    if (it != ce.memo.end() && it->key == f.key) p.judged_support = std::max<double>(p.judged_support, it->count);
  }
  p.sd = PredictionSd(p.edge, p.familiarity, p.judged_support);
  return p;
}

QualityPrediction AdaptedComplexityModel::Predict(std::string_view prompt) const {
  return PredictFromFeatures(Features(*base_, prompt, word_bits_));
}

ComplexityEstimate AdaptedComplexityModel::Estimate(std::string_view prompt) const {
  const QualityPrediction p = Predict(prompt);
  ComplexityEstimate e;
  e.edge = p.edge;
  if (p.device_learned) e.device = p.device;
  e.familiarity = p.familiarity;
  e.judged_support = p.judged_support;
  e.sd = p.sd;
  return e;
}

std::string AdaptedComplexityModel::Serialize() const {
  std::string s = "mecrouter-adapted-model 1\n";
  s += "base " + std::string(base_->Name()) + "\n";
  s += "version " + std::to_string(version_) + "\n";
  s += "word_bits " + std::to_string(word_bits_) + "\n";
  s += "device_assumption " + FloatText(static_cast<float>(device_.accuracy_ratio)) + " " +
       FloatText(static_cast<float>(device_.joint_success_share)) + "\n";
  for (int k = 0; k < kQualityClasses; ++k) {
    const QualityCorrection& c = corrections_[k];
    s += "tier " + std::string(QualityClassName(static_cast<QualityClass>(k))) + " " + std::to_string(c.samples) + " " +
         FloatText(c.bias) + " " + FloatText(c.base_slope) + " " + std::to_string(c.topic.size()) + " " +
         std::to_string(c.dense.size()) + " " + std::to_string(c.words.size()) + " " + std::to_string(c.support.size()) +
         " " + FloatText(c.calib_a) + " " + FloatText(c.calib_b) + " " + std::to_string(c.memo.size()) + "\n";
    for (const auto* v : {&c.topic, &c.dense, &c.dense_lo, &c.dense_hi}) {
      if (v->empty()) continue;
      for (size_t i = 0; i < v->size(); ++i) s += (i ? " " : "") + FloatText((*v)[i]);
      s += "\n";
    }
    for (const auto& [b, w] : c.words) s += std::to_string(b) + " " + FloatText(w) + "\n";
    for (const auto& [b, n] : c.support) s += std::to_string(b) + " " + std::to_string(n) + "\n";
    for (const auto& m : c.memo) s += std::to_string(m.key) + " " + std::to_string(m.count) + " " + FloatText(m.as_good_sum) + "\n";
  }
  s += "end\n";
  return s;
}

Result<std::unique_ptr<AdaptedComplexityModel>> AdaptedComplexityModel::Parse(std::string_view text,
                                                                              std::shared_ptr<const ComplexityModel> base) {
  auto bad = [](const std::string& what) { return Status::InvalidArgument("adapted model: " + what); };
  if (base == nullptr) return Status::InvalidArgument("adapted model: no base model");
  std::string_view line;
  if (!NextLine(&text, &line) || line != "mecrouter-adapted-model 1") return bad("not an adapted model (version 1)");
  if (!NextLine(&text, &line) || line.substr(0, 5) != "base ") return bad("missing base line");
  if (line.substr(5) != base->Name()) {
    return Status::InvalidArgument("adapted model: built on base '" + std::string(line.substr(5)) + "', live base is '" +
                                      std::string(base->Name()) + "'");
  }
  int version = 0, word_bits = 0;
  if (!NextLine(&text, &line) || line.substr(0, 8) != "version " || !ParseNumber(line.substr(8), &version) || version < 0)
    return bad("bad version line");
  if (!NextLine(&text, &line) || line.substr(0, 10) != "word_bits " || !ParseNumber(line.substr(10), &word_bits) ||
      word_bits < 8 || word_bits > 24)
    return bad("bad word_bits line");
  DeviceQualityAssumption device;
  {
    if (!NextLine(&text, &line)) return bad("missing device_assumption");
    auto f = SplitFields(line);
    float r = 0, k = 0;
    if (f.size() != 3 || f[0] != "device_assumption" || !ParseNumber(f[1], &r) || !ParseNumber(f[2], &k))
      return bad("bad device_assumption line");
    device.accuracy_ratio = r;
    device.joint_success_share = k;
  }
  std::array<QualityCorrection, kQualityClasses> corr;
  for (int t = 0; t < kQualityClasses; ++t) {
    if (!NextLine(&text, &line)) return bad("missing tier line");
    auto f = SplitFields(line);
    QualityClass qc;
    size_t ntopic = 0, ndense = 0, nwords = 0, nsupport = 0, nmemo = 0;
    QualityCorrection c;
    if (f.size() != 12 || f[0] != "tier" || !ParseQualityClass(f[1], &qc) || static_cast<int>(qc) != t ||
        !ParseNumber(f[2], &c.samples) || !ParseNumber(f[3], &c.bias) || !ParseNumber(f[4], &c.base_slope) ||
        !ParseNumber(f[5], &ntopic) || !ParseNumber(f[6], &ndense) || !ParseNumber(f[7], &nwords) ||
        !ParseNumber(f[8], &nsupport) || !ParseNumber(f[9], &c.calib_a) || !ParseNumber(f[10], &c.calib_b) || !ParseNumber(f[11], &nmemo) || nmemo > 10000000 || c.samples < 0 || ntopic > 4096 || (ndense != 0 && ndense != kNumDense) ||
        nwords > (size_t{1} << word_bits) || nsupport > (size_t{1} << word_bits))
      return bad("bad tier line: " + std::string(line));
    for (auto [n, v] : {std::pair{ntopic, &c.topic}, std::pair{ndense, &c.dense}, std::pair{ndense, &c.dense_lo},
                        std::pair{ndense, &c.dense_hi}}) {
      if (n == 0) continue;
      if (!NextLine(&text, &line)) return bad("missing topic or dense weights");
      auto tw = SplitFields(line);
      if (tw.size() != n) return bad("topic or dense weight count");
      v->resize(n);
      for (size_t i = 0; i < n; ++i)
        if (!ParseNumber(tw[i], &(*v)[i])) return bad("bad topic or dense weight");
    }
    // The counts come from the text: reserve no more than the lines left can hold (a pair line
    // takes at least 4 bytes, a memo line 6), so a short text cannot ask for a large allocation.
    auto read_pairs = [&](size_t n, auto* out) -> bool {
      out->reserve(std::min(n, text.size() / 4));
      for (size_t i = 0; i < n; ++i) {
        if (!NextLine(&text, &line)) return false;
        auto pf = SplitFields(line);
        typename std::decay_t<decltype(*out)>::value_type v;
        if (pf.size() != 2 || !ParseNumber(pf[0], &v.first) || !ParseNumber(pf[1], &v.second)) return false;
        if (v.first >= (uint32_t{1} << word_bits) || (!out->empty() && out->back().first >= v.first)) return false;
        out->push_back(v);
      }
      return true;
    };
    if (!read_pairs(nwords, &c.words)) return bad("bad word weights");
    if (!read_pairs(nsupport, &c.support)) return bad("bad support counts");
    c.memo.reserve(std::min(nmemo, text.size() / 6));
    for (size_t i = 0; i < nmemo; ++i) {
      if (!NextLine(&text, &line)) return bad("missing memo lines");
      auto mf = SplitFields(line);
      QualityCorrection::Memo m;
      if (mf.size() != 3 || !ParseNumber(mf[0], &m.key) || !ParseNumber(mf[1], &m.count) || !ParseNumber(mf[2], &m.as_good_sum) ||
          (!c.memo.empty() && c.memo.back().key >= m.key))
        return bad("bad memo line");
      c.memo.push_back(m);
    }
    corr[t] = std::move(c);
  }
  if (!NextLine(&text, &line) || line != "end") return bad("missing end");
  return std::make_unique<AdaptedComplexityModel>(std::move(base), version, word_bits, device, std::move(corr));
}

}  // namespace mec
