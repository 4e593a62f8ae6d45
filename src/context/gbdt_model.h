#pragma once
// A small ensemble of regression trees over a dense feature vector (gradient-boosted trees,
// trained offline by learn/gbdt_trainer.h). The margin is the sum of the trees' leaf values.
// A node sends x left when x[feature] <= threshold.
//
// Text form (one line per tree, then one per node):
//   trees <count>                                     at most 65535 trees
//   tree <nodes>                                      1..65535 nodes
//   <feature> <threshold> <left> <right> <value>     feature -1: a leaf (value), else a split
// Floats are written in their shortest exact form, so Parse(AppendTo()) predicts bit for bit alike.
//
// Thread-safety: immutable after construction.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace mec {

struct GbdtNode {
  int32_t feature = -1;   // -1: leaf
  float threshold = 0;
  int32_t left = -1;      // node indices within the tree
  int32_t right = -1;
  float value = 0;        // leaf value (already multiplied by the learning rate)
};

struct GbdtTree {
  std::vector<GbdtNode> nodes;  // nodes[0] is the root
  // REQUIRES: x has more entries than every split feature.
  float Predict(const float* x) const;
};

class GbdtModel {
 public:
  GbdtModel() = default;
  explicit GbdtModel(std::vector<GbdtTree> trees) : trees_(std::move(trees)) {}

  bool empty() const { return trees_.empty(); }
  const std::vector<GbdtTree>& trees() const { return trees_; }
  // Sum of the first `count` trees' values (all trees by default).
  double Margin(const float* x, size_t count = SIZE_MAX) const;
  // The largest split feature + 1 (0 for no splits): x must have at least this many entries.
  int MinFeatures() const;

  void AppendTo(std::string* out) const;
  // Parses what AppendTo wrote, advancing `text` past it. Rejects features >= num_features and
  // child indices that do not point forward within the tree (so Predict always terminates).
  static Result<GbdtModel> Parse(std::string_view* text, int num_features);

 private:
  std::vector<GbdtTree> trees_;
};

}  // namespace mec
