#pragma once
// A discriminative domain classifier for the domain prior (context/domain_prior.h): multinomial
// logistic regression over hashed word-token counts, predicting the training item's domain
// (benchmark/subject), fitted by full-batch L-BFGS (deterministic).
//
// It is stored in the domain prior's own format, so inference is unchanged:
//   score_c = b_c + sum over tokens t of w_{t,c}        (one term per occurrence)
// becomes log_prior_c = scale * b_c, base_c = 0, delta_{t,c} = scale * w_{t,c}, and the prior's
// temperature is (temperature / scale); the file's 1/16 delta steps are then 1/(16 scale) steps of w.
// Because softmax is unchanged by adding one constant to a token's weights for every class, each
// token row is shifted by its median before storage: the many small, similar weights of the classes
// a token was never seen with become 0 and are dropped, which keeps the prior sparse. The largest
// max_entries entries are kept.
// Domain values D_c (the log-odds of "weak as good" in domain c) are shrunk towards the overall
// rate as in TrainDomainPrior.

#include <cstddef>
#include <vector>

#include "context/domain_prior.h"
#include "learn/domain_prior_trainer.h"

namespace mec {

struct SubjectClassifierOptions {
  int hash_bits = 16;             // token buckets (as the domain prior)
  int min_token_count = 3;        // buckets seen fewer times in training are ignored
  double l2 = 3e-4;               // on the mean cross-entropy; biases unpenalised
  int max_iterations = 120;
  double scale = 16;              // stored delta = scale * w (resolution 1/(16 scale) in w)
  size_t max_entries = 150000;    // (token, class) entries kept, largest |w| first (0: all)
  double value_pseudo_count = 10; // D_c shrinks towards the overall rate with this many items
};

struct SubjectClassifierReport {
  int iterations = 0;
  double objective = 0;
  double train_accuracy = 0;      // share of training examples whose top class is their domain
  size_t entries = 0;             // entries kept
};

// REQUIRES: examples non-empty, domains in [0, num_domains). Domains without examples get a log
// prior of -1e30 (never chosen). `temperature` is relative to the classifier's own scores (1 = the
// fitted probabilities).
DomainPrior TrainSubjectClassifier(const std::vector<DomainExample>& examples, int num_domains, float temperature,
                                   const SubjectClassifierOptions& options, SubjectClassifierReport* report = nullptr);

}  // namespace mec
