#pragma once
// The domain prior: a multinomial naive-Bayes classifier of a prompt's domain over word tokens,
// and the expected difficulty of that domain,
//     E[D](x) = sum_c P(c | x) * D_c,   P(c | x) = softmax_c(temperature * score_c(x)),
//     score_c(x) = log_prior_c + sum over known tokens t of x of log P(t | c).
// The classes are the domains of the training data (MMLU subjects, GSM8K) and D_c is the log-odds
// that the weak model is as good in domain c. The class is learned from training labels only; at
// inference the prior reads the text alone, and a prompt from a new domain gets the difficulty of
// the domains its words resemble. It is one input of the learned complexity model.
//
// Storage is sparse: log P(t | c) = base_c + delta_{t,c}, with delta = 0 for (token, class) pairs
// not kept (rare pairs are dropped to keep the model file small).
// Thread-safety: immutable after construction.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace mec {

struct DomainPriorClass {
  float log_prior = 0;  // log P(c)
  float base = 0;       // log P(t | c) of a known token never seen with c
  float value = 0;      // D_c
};

struct DomainPriorEntry {
  uint32_t bucket;      // token bucket
  uint16_t cls;
  float delta;          // log P(t | c) - base_c
};

class DomainPrior {
 public:
  DomainPrior() = default;
  // REQUIRES: entries sorted by bucket, buckets < 2^hash_bits, classes < classes.size(); `known`
  // lists the buckets counted in the vocabulary (sorted).
  DomainPrior(int hash_bits, float temperature, std::vector<DomainPriorClass> classes,
              std::vector<DomainPriorEntry> entries, std::vector<uint32_t> known);

  bool empty() const { return classes_.empty(); }
  int hash_bits() const { return hash_bits_; }
  float temperature() const { return temperature_; }
  const std::vector<DomainPriorClass>& classes() const { return classes_; }

  // The bucket of a word-token hash (HashWordTokens).
  uint32_t Bucket(uint64_t token_hash) const;

  // score_c for every class (no temperature), from the token hashes of one prompt.
  void ClassScores(const std::vector<uint64_t>& token_hashes, std::vector<double>* scores) const;
  // E[D] from class scores at the given temperature.
  double ExpectedValue(const std::vector<double>& scores, double temperature) const;
  // The same expectation of other per-class values (one per class).
  double ExpectedOf(const std::vector<double>& scores, double temperature, const std::vector<float>& values) const;
  // E[D] of a prompt at this prior's temperature.
  double ExpectedValue(std::string_view text) const;
  // The same from the prompt's HashWordTokens.
  double ExpectedValueOfTokens(const std::vector<uint64_t>& token_hashes) const;
  // P(c | x) for every class at this prior's temperature (empty for an empty prior).
  void Posterior(const std::vector<uint64_t>& token_hashes, std::vector<double>* out) const;
  // The share of the tokens whose bucket is in the vocabulary (0 for no tokens).
  double KnownShare(const std::vector<uint64_t>& token_hashes) const;

  // Text form: a header line, one line per class, one line per known bucket with its entries.
  void AppendTo(std::string* out) const;
  // Parses what AppendTo wrote, advancing `text` past it.
  static Result<DomainPrior> Parse(std::string_view* text);

 private:
  // Adds the deltas of the known buckets slots[0 .. count) (indexes into known_) to sum[0 .. classes).
  void SumDeltas(const int32_t* slots, size_t count, float* sum) const;

  int hash_bits_ = 0;
  float temperature_ = 1;
  std::vector<DomainPriorClass> classes_;
  std::vector<uint32_t> known_;          // sorted known buckets
  std::vector<int32_t> slot_;            // bucket -> index in known_, or -1
  std::vector<uint32_t> start_;          // per known bucket: first entry (CSR), size known_+1
  std::vector<uint16_t> entry_class_;
  std::vector<float> entry_delta_;
  std::vector<int32_t> dense_row_;       // per known bucket: its row in dense_rows_, or -1
  std::vector<float> dense_rows_;        // rows of classes_.size() deltas
};

}  // namespace mec
