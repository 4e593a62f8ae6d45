#include "context/complexity_stacker.h"

#include <charconv>

#include "context/model_text.h"

namespace mec {

StackFeatureVector StackFeatures(const SparseVector& x, PromptType type, double stage1_logit, const TextFeatureOptions& o,
                                 double domain_gain) {
  StackFeatureVector f{};
  f[kStackDomainGainFeature] = static_cast<float>(domain_gain);
  f[0] = static_cast<float>(stage1_logit);
  f[2] = type == PromptType::kFreeForm ? 1.0f : 0.0f;
  const size_t dense = HashedSpaceSize(o);
  const size_t domain = FeatureSpaceSize(o);
  // Backwards: the dense and domain entries are the last ones (see the header).
  for (size_t k = x.size(); k-- > 0;) {
    const size_t i = x.index[k];
    if (i < dense) break;
    if (i < dense + kNumDense) f[3 + (i - dense)] += x.value[k];
    else if (i == domain) f[1] += x.value[k];
  }
  return f;
}

double StackStage::Margin(const StackFeatureVector& f, size_t tree_count) const {
  const double m = linear[0] + static_cast<double>(linear[1]) * f[0] + static_cast<double>(linear[2]) * f[1];
  return m + trees.Margin(f.data(), tree_count);
}

void ComplexityStacker::AppendTo(std::string* out) const {
  *out += "stack\n";
  if (!class_gain.empty()) {
    *out += "classgain " + std::to_string(class_gain.size());
    for (float g : class_gain) *out += ' ' + FloatText(g);
    *out += '\n';
  }
  for (int t = 0; t < 2; ++t) {
    const StackStage& s = stages[t];
    if (!s.enabled) continue;
    *out += "stage " + std::to_string(t);
    for (float v : s.linear) *out += ' ' + FloatText(v);
    *out += ' ' + FloatText(s.calib_a) + ' ' + FloatText(s.calib_b) + '\n';
    s.trees.AppendTo(out);
  }
}

Result<ComplexityStacker> ComplexityStacker::Parse(std::string_view* text) {
  auto bad = [](const std::string& what) { return Status::InvalidArgument("stack: " + what); };
  if (text->substr(0, 6) != "stack\n") return bad("missing 'stack'");
  text->remove_prefix(6);
  ComplexityStacker st;
  if (text->substr(0, 10) == "classgain ") {
    const size_t nl = text->find('\n');
    if (nl == std::string_view::npos) return bad("truncated");
    std::string_view line = text->substr(10, nl - 10);
    text->remove_prefix(nl + 1);
    size_t n = 0;
    for (size_t k = 0;; ++k) {
      const size_t sp = line.find(' ');
      const std::string_view field = line.substr(0, sp);
      if (k == 0) {
        auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), n);
        if (ec != std::errc() || p != field.data() + field.size() || n == 0 || n > 65535) return bad("bad classgain count");
      } else {
        float g = 0;
        auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), g);
        if (ec != std::errc() || p != field.data() + field.size()) return bad("bad classgain value");
        st.class_gain.push_back(g);
      }
      if (sp == std::string_view::npos) break;
      line.remove_prefix(sp + 1);
    }
    if (st.class_gain.size() != n) return bad("classgain count mismatch");
  }
  while (text->substr(0, 6) == "stage ") {
    const size_t nl = text->find('\n');
    if (nl == std::string_view::npos) return bad("truncated");
    std::string_view line = text->substr(6, nl - 6);
    text->remove_prefix(nl + 1);
    float v[6];
    for (int i = 0; i < 6; ++i) {
      const size_t sp = line.find(' ');
      if ((sp == std::string_view::npos) != (i == 5)) return bad("want a type and 5 numbers");
      const std::string_view field = line.substr(0, sp);
      auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), v[i]);
      if (ec != std::errc() || p != field.data() + field.size()) return bad("bad number '" + std::string(field) + "'");
      if (sp != std::string_view::npos) line.remove_prefix(sp + 1);
    }
    if (v[0] != 0.0f && v[0] != 1.0f) return bad("stage type must be 0 or 1");
    StackStage& s = st.stages[v[0] == 1.0f ? 1 : 0];
    if (s.enabled) return bad("two stages for one type");
    s.linear = {v[1], v[2], v[3]};
    s.calib_a = v[4];
    s.calib_b = v[5];
    auto t = GbdtModel::Parse(text, kNumStackFeatures);
    if (!t.ok()) return t.status();
    s.trees = std::move(t).value();
    s.enabled = true;
  }
  return st;
}

}  // namespace mec
