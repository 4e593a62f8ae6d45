#pragma once
// Fits the domain prior (context/domain_prior.h): naive-Bayes token counts per training domain
// (benchmark/subject) and each domain's log-odds of "weak as good".

#include <cstdint>
#include <string>
#include <vector>

#include "context/domain_prior.h"

namespace mec {

struct DomainPriorOptions {
  int hash_bits = 16;          // token buckets
  double alpha = 0.1;          // additive smoothing of token counts
  int min_token_count = 3;     // a bucket seen fewer times in training is ignored
  int min_pair_count = 2;      // (bucket, domain) pairs seen fewer times count as unseen
  double value_pseudo_count = 10;  // D_c shrinks towards the overall rate with this many items
  // A token kept with more domains than this is dropped (0: no limit). Off by default: dropping
  // tokens seen in more than 16 of 58 domains cost ~2.6 points of MMLU calls saved on the default
  // split; common tokens are made cheap at inference by dense rows instead.
  int max_domains_per_token = 0;
};

// One training item of the prior: its word-token hashes (HashWordTokens), domain and label.
struct DomainExample {
  const std::vector<uint64_t>* tokens;
  int domain;                  // in [0, num_domains)
  bool weak_as_good;
};

// REQUIRES: examples non-empty. Domains without examples get a log prior of -1e30 (never chosen).
DomainPrior TrainDomainPrior(const std::vector<DomainExample>& examples, int num_domains, float temperature,
                             const DomainPriorOptions& options);

}  // namespace mec
