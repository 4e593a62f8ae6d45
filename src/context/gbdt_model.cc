#include "context/gbdt_model.h"

#include <charconv>

#include "context/model_text.h"

namespace mec {
namespace {

// Splits `line` at spaces into exactly n fields.
bool Fields(std::string_view line, std::string_view* f, int n) {
  for (int i = 0; i < n; ++i) {
    const size_t sp = line.find(' ');
    if ((sp == std::string_view::npos) != (i == n - 1)) return false;
    f[i] = line.substr(0, sp);
    if (sp != std::string_view::npos) line.remove_prefix(sp + 1);
  }
  return true;
}

}  // namespace

float GbdtTree::Predict(const float* x) const {
  int32_t k = 0;
  while (nodes[k].feature >= 0) k = x[nodes[k].feature] <= nodes[k].threshold ? nodes[k].left : nodes[k].right;
  return nodes[k].value;
}

double GbdtModel::Margin(const float* x, size_t count) const {
  double m = 0;
  for (size_t t = 0; t < trees_.size() && t < count; ++t) m += trees_[t].Predict(x);
  return m;
}

int GbdtModel::MinFeatures() const {
  int n = 0;
  for (const auto& t : trees_)
    for (const auto& nd : t.nodes) n = std::max(n, nd.feature + 1);
  return n;
}

void GbdtModel::AppendTo(std::string* out) const {
  *out += "trees " + std::to_string(trees_.size()) + "\n";
  for (const auto& t : trees_) {
    *out += "tree " + std::to_string(t.nodes.size()) + "\n";
    for (const auto& n : t.nodes) {
      *out += std::to_string(n.feature) + ' ' + FloatText(n.threshold) + ' ' + std::to_string(n.left) + ' ' +
              std::to_string(n.right) + ' ' + FloatText(n.value) + '\n';
    }
  }
}

Result<GbdtModel> GbdtModel::Parse(std::string_view* text, int num_features) {
  auto bad = [](const std::string& what) { return Status::InvalidArgument("trees: " + what); };
  std::string_view line, f[5];
  size_t count = 0;
  // At most 65535 trees, as a tree has at most 65535 nodes: the count sizes an allocation.
  if (!NextLine(text, &line) || !Fields(line, f, 2) || f[0] != "trees" || !ParseNumber(f[1], &count) || count > 65535)
    return bad("missing or bad 'trees N'");
  std::vector<GbdtTree> trees(count);
  for (size_t t = 0; t < count; ++t) {
    size_t nodes = 0;
    if (!NextLine(text, &line) || !Fields(line, f, 2) || f[0] != "tree" || !ParseNumber(f[1], &nodes) || nodes == 0 || nodes > 65535)
      return bad("bad 'tree' line " + std::to_string(t));
    trees[t].nodes.resize(nodes);
    for (size_t k = 0; k < nodes; ++k) {
      GbdtNode& n = trees[t].nodes[k];
      if (!NextLine(text, &line) || !Fields(line, f, 5) || !ParseNumber(f[0], &n.feature) || !ParseNumber(f[1], &n.threshold) ||
          !ParseNumber(f[2], &n.left) || !ParseNumber(f[3], &n.right) || !ParseNumber(f[4], &n.value))
        return bad("bad node line in tree " + std::to_string(t));
      const auto next = static_cast<int32_t>(k);
      const auto end = static_cast<int32_t>(nodes);
      if (n.feature >= num_features || n.feature < -1) return bad("feature out of range in tree " + std::to_string(t));
      if (n.feature >= 0 && (n.left <= next || n.right <= next || n.left >= end || n.right >= end))
        return bad("bad child index in tree " + std::to_string(t));
    }
  }
  return GbdtModel(std::move(trees));
}

}  // namespace mec
