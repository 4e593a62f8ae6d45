#include "learn/gbdt_trainer.h"

#include <algorithm>
#include <cmath>

namespace mec {
namespace {

// Per feature: increasing bin upper edges; value v falls in bin lower_bound(edges, v), and the
// last bin (index edges.size()) holds the values above every edge.
std::vector<std::vector<float>> QuantileEdges(const DenseRows& d, int max_bins) {
  const size_t n = d.rows();
  std::vector<std::vector<float>> edges(d.dim);
  std::vector<float> col(n);
  for (size_t j = 0; j < d.dim; ++j) {
    for (size_t i = 0; i < n; ++i) col[i] = d.row(i)[j];
    std::sort(col.begin(), col.end());
    std::vector<float>& e = edges[j];
    for (int b = 1; b < max_bins; ++b) {
      const float v = col[std::min(n - 1, static_cast<size_t>(static_cast<double>(b) * n / max_bins))];
      if (v < col.back() && (e.empty() || v > e.back())) e.push_back(v);
    }
  }
  return edges;
}

struct Split {
  double gain = 0;
  int feature = -1;
  int bin = -1;
};

}  // namespace

Result<GbdtModel> TrainGbdt(const DenseRows& rows, const std::vector<double>& labels, const std::vector<double>& base,
                            const GbdtOptions& o) {
  const size_t n = rows.rows();
  if (n == 0 || rows.dim == 0) return Status::InvalidArgument("gbdt: no rows");
  if (labels.size() != n || base.size() != n) return Status::InvalidArgument("gbdt: labels/base size mismatch");
  if (o.depth < 1 || o.depth > 8 || o.trees < 0 || o.min_leaf < 1 || o.max_bins < 2 || o.max_bins > 255 ||
      !(o.learning_rate > 0) || o.leaf_l2 < 0)
    return Status::InvalidArgument("gbdt: options out of range");
  const auto edges = QuantileEdges(rows, o.max_bins);
  const size_t dim = rows.dim;
  std::vector<uint8_t> bin(n * dim);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < dim; ++j)
      bin[i * dim + j] = static_cast<uint8_t>(std::lower_bound(edges[j].begin(), edges[j].end(), rows.row(i)[j]) - edges[j].begin());

  std::vector<double> margin = base, g(n), h(n);
  std::vector<GbdtTree> trees;
  std::vector<double> hg, hh;
  std::vector<int> hc;
  for (int t = 0; t < o.trees; ++t) {
    for (size_t i = 0; i < n; ++i) {
      const double p = 1.0 / (1.0 + std::exp(-margin[i]));
      g[i] = p - labels[i];
      h[i] = std::max(p * (1 - p), 1e-6);
    }
    GbdtTree tree;
    tree.nodes.emplace_back();
    // Open nodes of the current level with their rows.
    std::vector<std::pair<int32_t, std::vector<uint32_t>>> level;
    std::vector<uint32_t> all(n);
    for (size_t i = 0; i < n; ++i) all[i] = static_cast<uint32_t>(i);
    level.emplace_back(0, std::move(all));
    std::vector<std::pair<int32_t, std::vector<uint32_t>>> leaves;
    for (int d = 0; d < o.depth && !level.empty(); ++d) {
      std::vector<std::pair<int32_t, std::vector<uint32_t>>> next;
      for (auto& [node, idx] : level) {
        double G = 0, H = 0;
        for (uint32_t i : idx) G += g[i], H += h[i];
        Split best;
        if (idx.size() >= 2 * static_cast<size_t>(o.min_leaf)) {
          const double parent = G * G / (H + o.leaf_l2);
          for (size_t j = 0; j < dim; ++j) {
            const size_t nb = edges[j].size() + 1;
            if (nb < 2) continue;
            hg.assign(nb, 0.0);
            hh.assign(nb, 0.0);
            hc.assign(nb, 0);
            for (uint32_t i : idx) {
              const uint8_t b = bin[i * dim + j];
              hg[b] += g[i];
              hh[b] += h[i];
              ++hc[b];
            }
            double gl = 0, hl = 0;
            int cl = 0;
            for (size_t b = 0; b + 1 < nb; ++b) {
              gl += hg[b];
              hl += hh[b];
              cl += hc[b];
              const int cr = static_cast<int>(idx.size()) - cl;
              if (cl < o.min_leaf) continue;
              if (cr < o.min_leaf) break;
              const double gr = G - gl, hr = H - hl;
              const double gain = gl * gl / (hl + o.leaf_l2) + gr * gr / (hr + o.leaf_l2) - parent;
              if (gain > best.gain + 1e-12) best = {gain, static_cast<int>(j), static_cast<int>(b)};
            }
          }
        }
        if (best.feature < 0) {
          leaves.emplace_back(node, std::move(idx));
          continue;
        }
        const auto l = static_cast<int32_t>(tree.nodes.size());
        tree.nodes.emplace_back();
        tree.nodes.emplace_back();
        GbdtNode& s = tree.nodes[node];
        s.feature = best.feature;
        s.threshold = edges[best.feature][best.bin];
        s.left = l;
        s.right = l + 1;
        std::vector<uint32_t> li, ri;
        for (uint32_t i : idx) (bin[i * dim + best.feature] <= best.bin ? li : ri).push_back(i);
        next.emplace_back(l, std::move(li));
        next.emplace_back(l + 1, std::move(ri));
      }
      level = std::move(next);
    }
    for (auto& lv : level) leaves.push_back(std::move(lv));
    for (const auto& [node, idx] : leaves) {
      double G = 0, H = 0;
      for (uint32_t i : idx) G += g[i], H += h[i];
      const auto v = static_cast<float>(-o.learning_rate * G / (H + o.leaf_l2));
      tree.nodes[node].value = v;
      for (uint32_t i : idx) margin[i] += v;
    }
    trees.push_back(std::move(tree));
  }
  return GbdtModel(std::move(trees));
}

}  // namespace mec
