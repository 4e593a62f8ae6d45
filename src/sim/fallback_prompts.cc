#include "sim/fallback_prompts.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/rng.h"
#include "sim/data_dir.h"
#include "sim/scenario.h"

namespace mec::sim {

std::vector<FallbackCell> FitFallback(const PromptSet& prompts, const ComplexityModel& model) {
  std::vector<FallbackCell> cells;
  for (const char* b : {"mmlu", "gsm8k"})
    for (int i = 0; i < 10; ++i) cells.push_back({b, i / 10.0, (i + 1) / 10.0, 0, 0, 0, 0});
  for (const auto& it : prompts.items) {
    const double p = std::clamp(model.WeakAsGoodProbability(it.text), 0.0, 1.0);
    const int bin = std::min(9, static_cast<int>(p * 10));
    FallbackCell& c = cells[(it.gsm8k ? 10 : 0) + bin];
    if (it.edge_correct && it.cloud_correct) ++c.both;
    else if (it.edge_correct) ++c.edge_only;
    else if (it.cloud_correct) ++c.cloud_only;
    else ++c.neither;
  }
  cells.erase(std::remove_if(cells.begin(), cells.end(), [](const FallbackCell& c) { return c.total() == 0; }), cells.end());
  return cells;
}

std::string FallbackCsv(const std::vector<FallbackCell>& cells) {
  std::string s =
      "# Fallback prompts for `mecrouter simulate` without ../shared/data (docs/simulator.md): per benchmark and bin of the\n"
      "# shipped complexity model's score on router_eval's held-out prompts, counts by edge (Mixtral-8x7B) / cloud (GPT-4)\n"
      "# correctness. Regenerate: mecrouter simulate --fit-fallback scenarios/fallback_prompts.csv [--data DIR]\n"
      "benchmark,score_lo,score_hi,neither,cloud_only,edge_only,both\n";
  for (const auto& c : cells) s += fmt::format("{},{:.1f},{:.1f},{},{},{},{}\n", c.benchmark, c.score_lo, c.score_hi, c.neither, c.cloud_only, c.edge_only, c.both);
  return s;
}

Result<std::vector<FallbackCell>> ParseFallbackCsv(const std::string& text, const std::string& source) {
  std::vector<FallbackCell> cells;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    if (!header) {
      if (line.rfind("benchmark,", 0) != 0) return Status::InvalidArgument(fmt::format("{}:{}: expected the header benchmark,score_lo,...", source, n));
      header = true;
      continue;
    }
    FallbackCell c;
    std::istringstream row(line);
    std::string f[7];
    for (auto& x : f)
      if (!std::getline(row, x, ',')) return Status::InvalidArgument(fmt::format("{}:{}: expected 7 fields", source, n));
    try {
      c.benchmark = f[0];
      c.score_lo = std::stod(f[1]);
      c.score_hi = std::stod(f[2]);
      c.neither = std::stoll(f[3]);
      c.cloud_only = std::stoll(f[4]);
      c.edge_only = std::stoll(f[5]);
      c.both = std::stoll(f[6]);
    } catch (const std::exception&) {
      return Status::InvalidArgument(fmt::format("{}:{}: bad number", source, n));
    }
    if (c.total() < 0 || c.score_lo < 0 || c.score_hi > 1 || c.score_lo > c.score_hi) return Status::InvalidArgument(fmt::format("{}:{}: out of range", source, n));
    cells.push_back(c);
  }
  int64_t total = 0;
  for (const auto& c : cells) total += c.total();
  if (total <= 0) return Status::InvalidArgument(source + ": no counts");
  return cells;
}

PromptSet FallbackPrompts(const std::vector<FallbackCell>& cells, int n, uint64_t seed, CachedComplexityModel& cache) {
  PromptSet p;
  p.mode = "fallback";
  std::vector<double> cum;
  std::vector<std::pair<int, int>> cell_label;  // (cell, label 0..3)
  double acc = 0;
  for (size_t i = 0; i < cells.size(); ++i) {
    const int64_t counts[4] = {cells[i].neither, cells[i].cloud_only, cells[i].edge_only, cells[i].both};
    for (int l = 0; l < 4; ++l) {
      if (counts[l] <= 0) continue;
      acc += static_cast<double>(counts[l]);
      cum.push_back(acc);
      cell_label.emplace_back(static_cast<int>(i), l);
    }
  }
  Rng r(seed, "fallback-prompts");
  for (int k = 0; k < n; ++k) {
    const double x = r.Uniform() * acc;
    const size_t j = static_cast<size_t>(std::upper_bound(cum.begin(), cum.end(), x) - cum.begin());
    const auto [ci, label] = cell_label[std::min(j, cell_label.size() - 1)];
    const FallbackCell& c = cells[static_cast<size_t>(ci)];
    LabelledPromptItem it;
    it.id = fmt::format("fallback/{}/{}", c.benchmark, k);
    it.text = fmt::format("[synthetic {} prompt {}]", c.benchmark, k);
    it.gsm8k = c.benchmark == "gsm8k";
    it.cloud_correct = label == 1 || label == 3;
    it.edge_correct = label == 2 || label == 3;
    cache.Seed(it.text, r.Uniform(c.score_lo, c.score_hi));
    p.items.push_back(std::move(it));
  }
  return p;
}

Result<PromptSet> LoadPromptsOrFallback(const std::string& data_flag, const std::string& argv0, uint64_t seed,
                                        CachedComplexityModel& cache, std::string* description) {
  if (auto dir = ResolveDataDir(data_flag)) {
    *description = *dir;
    return LoadHeldOutPrompts(*dir);
  }
  auto fb = FindShippedFile("fallback_prompts.csv", argv0);
  if (!fb.ok()) return Status::NotFound("no data directory (--data, $MECROUTER_DATA or ../shared/data) and " + fb.status().message());
  std::ifstream f(*fb, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  auto cells = ParseFallbackCsv(ss.str(), *fb);
  if (!cells.ok()) return cells.status();
  *description = "fallback " + *fb + " (no data directory)";
  return FallbackPrompts(*cells, 5000, seed, cache);
}

}  // namespace mec::sim
