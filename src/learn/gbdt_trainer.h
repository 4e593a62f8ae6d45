#pragma once
// Gradient-boosted regression trees for a binary (or soft, y in [0, 1]) target under log loss:
// each tree is a Newton step on the margin F, grown level by level on quantile-binned features,
// F_t = F_{t-1} + learning_rate * tree_t(x), starting from a given per-row base margin.
// Deterministic: the same data gives the same trees bit for bit (fixed summation order, ties
// broken by the lowest feature, then the lowest bin). Single-threaded.

#include <cstddef>
#include <vector>

#include "context/gbdt_model.h"
#include "core/status.h"

namespace mec {

struct DenseRows {
  size_t dim = 0;
  std::vector<float> x;           // row-major, rows() * dim values
  size_t rows() const { return dim ? x.size() / dim : 0; }
  const float* row(size_t i) const { return x.data() + i * dim; }
};

struct GbdtOptions {
  int trees = 100;
  int depth = 3;                  // a tree has at most 2^depth leaves
  double learning_rate = 0.05;    // shrinkage
  int min_leaf = 40;              // rows per leaf, at least
  double leaf_l2 = 1.0;           // leaf value = -G / (H + leaf_l2)
  int max_bins = 64;              // quantile bins per feature
};

// REQUIRES: labels.size() == base.size() == rows.rows() > 0, labels in [0, 1].
Result<GbdtModel> TrainGbdt(const DenseRows& rows, const std::vector<double>& labels, const std::vector<double>& base,
                            const GbdtOptions& options);

}  // namespace mec
