#include "context/domain_prior.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "context/model_text.h"
#include "context/text_features.h"

namespace mec {
namespace {

constexpr uint64_t kSaltDomain = 0xd6e8feb86659fd93ull;
constexpr float kDeltaStep = 1.0f / 16.0f;  // deltas are stored as multiples of this

}  // namespace

DomainPrior::DomainPrior(int hash_bits, float temperature, std::vector<DomainPriorClass> classes,
                         std::vector<DomainPriorEntry> entries, std::vector<uint32_t> known)
    : hash_bits_(hash_bits), temperature_(temperature), classes_(std::move(classes)), known_(std::move(known)) {
  slot_.assign(size_t{1} << hash_bits_, -1);
  for (size_t k = 0; k < known_.size(); ++k) slot_[known_[k]] = static_cast<int32_t>(k);
  start_.assign(known_.size() + 1, 0);
  for (const auto& e : entries) {
    const int32_t k = slot_[e.bucket];
    if (k >= 0) ++start_[k + 1];
  }
  for (size_t k = 0; k < known_.size(); ++k) start_[k + 1] += start_[k];
  entry_class_.assign(start_.back(), 0);
  entry_delta_.assign(start_.back(), 0.0f);
  std::vector<uint32_t> fill(start_.begin(), start_.end() - 1);
  for (const auto& e : entries) {
    const int32_t k = slot_[e.bucket];
    if (k < 0) continue;
    entry_class_[fill[k]] = e.cls;
    entry_delta_[fill[k]] = std::round(e.delta / kDeltaStep) * kDeltaStep;
    ++fill[k];
  }
  // Tokens seen with many classes are also kept as dense rows: adding a row of floats is cheaper
  // than that many scattered adds.
  const size_t nc = classes_.size();
  dense_row_.assign(known_.size(), -1);
  for (size_t k = 0; k < known_.size(); ++k) {
    if ((start_[k + 1] - start_[k]) * 4 < nc) continue;
    dense_row_[k] = static_cast<int32_t>(dense_rows_.size() / nc);
    dense_rows_.resize(dense_rows_.size() + nc, 0.0f);
    float* row = &dense_rows_[dense_rows_.size() - nc];
    for (uint32_t e = start_[k]; e < start_[k + 1]; ++e) row[entry_class_[e]] += entry_delta_[e];
  }
}

// The hot loop, compiled twice on x86-64 (AVX2 and the baseline, picked at load time for the
// CPU): deltas are multiples of 1/16, so every float sum is exact below 2^20 and both versions
// give the same bits.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
void DomainPrior::SumDeltas(const int32_t* slots, size_t count, float* sum) const {
  const size_t nc = classes_.size();
  for (size_t i = 0; i < count; ++i) {
    const int32_t k = slots[i];
    if (const int32_t r = dense_row_[k]; r >= 0) {  // a common token: one vectorisable pass
      const float* row = &dense_rows_[static_cast<size_t>(r) * nc];
      for (size_t c = 0; c < nc; ++c) sum[c] += row[c];
      continue;
    }
    for (uint32_t e = start_[k]; e < start_[k + 1]; ++e) sum[entry_class_[e]] += entry_delta_[e];
  }
}

uint32_t DomainPrior::Bucket(uint64_t token_hash) const {
  return static_cast<uint32_t>(Fmix64(token_hash ^ kSaltDomain) & ((uint64_t{1} << hash_bits_) - 1));
}

void DomainPrior::ClassScores(const std::vector<uint64_t>& token_hashes, std::vector<double>* scores) const {
  const size_t nc = classes_.size();
  float acc[1024];
  std::vector<float> big;
  float* sum = acc;
  if (nc > 1024) {
    big.assign(nc, 0.0f);
    sum = big.data();
  } else {
    std::fill(acc, acc + nc, 0.0f);
  }
  // Bucket lookups first, then the sums, a chunk at a time (no allocation on the request path).
  size_t known_tokens = 0;
  int32_t slots[256];
  for (size_t i = 0; i < token_hashes.size();) {
    size_t count = 0;
    for (; i < token_hashes.size() && count < 256; ++i) {
      const int32_t k = slot_[Bucket(token_hashes[i])];
      if (k >= 0) slots[count++] = k;
    }
    SumDeltas(slots, count, sum);
    known_tokens += count;
  }
  scores->resize(nc);
  for (size_t c = 0; c < nc; ++c)
    (*scores)[c] = sum[c] + classes_[c].log_prior + static_cast<double>(known_tokens) * classes_[c].base;
}

double DomainPrior::ExpectedValue(const std::vector<double>& scores, double temperature) const {
  if (scores.empty()) return 0.0;
  const double m = *std::max_element(scores.begin(), scores.end());
  double z = 0, ev = 0;
  for (size_t c = 0; c < scores.size(); ++c) {
    const double p = std::exp(temperature * (scores[c] - m));
    z += p;
    ev += p * classes_[c].value;
  }
  return ev / z;
}

double DomainPrior::ExpectedOf(const std::vector<double>& scores, double temperature,
                               const std::vector<float>& values) const {
  if (scores.empty() || values.size() != scores.size()) return 0.0;
  const double m = *std::max_element(scores.begin(), scores.end());
  double z = 0, ev = 0;
  for (size_t c = 0; c < scores.size(); ++c) {
    const double p = std::exp(temperature * (scores[c] - m));
    z += p;
    ev += p * values[c];
  }
  return ev / z;
}

void DomainPrior::Posterior(const std::vector<uint64_t>& token_hashes, std::vector<double>* out) const {
  out->clear();
  if (empty()) return;
  ClassScores(token_hashes, out);
  const double m = *std::max_element(out->begin(), out->end());
  double z = 0;
  for (double& v : *out) {
    v = std::exp(temperature_ * (v - m));
    z += v;
  }
  for (double& v : *out) v /= z;
}

double DomainPrior::KnownShare(const std::vector<uint64_t>& token_hashes) const {
  if (empty() || token_hashes.empty()) return 0.0;
  size_t known = 0;
  for (uint64_t h : token_hashes) known += slot_[Bucket(h)] >= 0;
  return static_cast<double>(known) / static_cast<double>(token_hashes.size());
}

double DomainPrior::ExpectedValue(std::string_view text) const {
  if (empty()) return 0.0;
  std::vector<uint64_t> tokens;
  tokens.reserve(text.size() / 4 + 8);
  HashWordTokens(text, &tokens);
  return ExpectedValueOfTokens(tokens);
}

double DomainPrior::ExpectedValueOfTokens(const std::vector<uint64_t>& token_hashes) const {
  if (empty()) return 0.0;
  std::vector<double> scores;
  ClassScores(token_hashes, &scores);
  return ExpectedValue(scores, temperature_);
}

void DomainPrior::AppendTo(std::string* out) const {
  *out += "domain " + std::to_string(hash_bits_) + " " + FloatText(temperature_) + " " + std::to_string(classes_.size()) +
          " " + std::to_string(known_.size()) + "\n";
  for (const auto& c : classes_) *out += FloatText(c.log_prior) + " " + FloatText(c.base) + " " + FloatText(c.value) + "\n";
  uint32_t prev = 0;
  for (size_t k = 0; k < known_.size(); ++k) {
    *out += std::to_string(known_[k] - prev);
    prev = known_[k];
    for (uint32_t e = start_[k]; e < start_[k + 1]; ++e) {
      *out += ' ';
      *out += std::to_string(entry_class_[e]);
      *out += ':';
      *out += std::to_string(static_cast<long>(std::lround(entry_delta_[e] / kDeltaStep)));
    }
    *out += '\n';
  }
}

Result<DomainPrior> DomainPrior::Parse(std::string_view* text) {
  auto bad = [](const std::string& what) { return Status::InvalidArgument("domain prior: " + what); };
  std::string_view line;
  if (!NextLine(text, &line)) return bad("missing header");
  const auto h = SplitFields(line);
  int bits = 0;
  float temp = 0;
  size_t nc = 0, nk = 0;
  if (h.size() != 5 || h[0] != "domain" || !ParseNumber(h[1], &bits) || !ParseNumber(h[2], &temp) || !ParseNumber(h[3], &nc) || !ParseNumber(h[4], &nk) ||
      bits < 8 || bits > 24 || nc == 0 || nc > 65535 || nk > (size_t{1} << bits))
    return bad("bad header '" + std::string(line) + "'");
  std::vector<DomainPriorClass> classes(nc);
  for (auto& c : classes) {
    if (!NextLine(text, &line)) return bad("truncated classes");
    const auto f = SplitFields(line);
    if (f.size() != 3 || !ParseNumber(f[0], &c.log_prior) || !ParseNumber(f[1], &c.base) || !ParseNumber(f[2], &c.value)) return bad("bad class line");
  }
  // A bucket line takes at least 2 bytes: a count the text cannot hold is not allocated for.
  if (nk > (text->size() + 1) / 2) return bad("truncated buckets");
  std::vector<uint32_t> known(nk);
  std::vector<DomainPriorEntry> entries;
  uint64_t bucket = 0;
  for (size_t k = 0; k < nk; ++k) {
    if (!NextLine(text, &line)) return bad("truncated buckets");
    const auto f = SplitFields(line);
    uint32_t delta = 0;
    if (f.empty() || !ParseNumber(f[0], &delta) || (k > 0 && delta == 0)) return bad("bad bucket line " + std::to_string(k));
    bucket += delta;
    if (bucket >= (uint64_t{1} << bits)) return bad("bucket out of range");
    known[k] = static_cast<uint32_t>(bucket);
    for (size_t j = 1; j < f.size(); ++j) {
      const size_t colon = f[j].find(':');
      uint32_t cls = 0;
      long q = 0;
      if (colon == std::string_view::npos || !ParseNumber(f[j].substr(0, colon), &cls) || !ParseNumber(f[j].substr(colon + 1), &q) || cls >= nc)
        return bad("bad entry in bucket line " + std::to_string(k));
      entries.push_back({known[k], static_cast<uint16_t>(cls), static_cast<float>(q) * kDeltaStep});
    }
  }
  return DomainPrior(bits, temp, std::move(classes), std::move(entries), std::move(known));
}

}  // namespace mec
