#include "context/tier_quality.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <vector>

namespace mec {
namespace {

// Scores from ../shared/data/calibration/model_quality.csv (see tier_quality.h for the rows).
constexpr double kEdgeMmlu = 69.4, kEdgeGsm8k = 84.5;  // Llama-3.1-8B-Instruct
constexpr double k1bMmlu = 49.3, k1bGsm8k = 44.4;      // Llama-3.2-1B-Instruct
constexpr double k3bMmlu = 63.4, k3bGsm8k = 77.7;      // Llama-3.2-3B-Instruct
// k = P(S and E) / (1 - P(S and not E)) on the decontaminated labels (router_eval, README §2).
constexpr double kJointMmlu = 0.6281 / (1 - 0.1778);
constexpr double kJointGsm8k = 0.5654 / (1 - 0.2923);

std::vector<std::string_view> SplitComma(std::string_view line) {
  std::vector<std::string_view> f;
  size_t start = 0;
  while (true) {
    const size_t c = line.find(',', start);
    f.push_back(line.substr(start, c == std::string_view::npos ? std::string_view::npos : c - start));
    if (c == std::string_view::npos) return f;
    start = c + 1;
  }
}

}  // namespace

double DeviceQualityFromEdge(double edge_quality, const DeviceQualityAssumption& a) {
  const double q = std::clamp(edge_quality, 0.0, 1.0);
  return std::clamp(q * (1.0 - a.joint_success_share * (1.0 - a.accuracy_ratio)), 0.0, 1.0);
}

Result<DeviceQualityAssumption> CalibratedDeviceAssumption(std::string_view device_model, std::string_view benchmark) {
  const bool mmlu = benchmark == "MMLU", gsm8k = benchmark == "GSM8K";
  if (!mmlu && !gsm8k) return Status::NotFound("no calibration for benchmark " + std::string(benchmark));
  double device = 0;
  if (device_model == "Llama-3.2-1B-Instruct") device = mmlu ? k1bMmlu : k1bGsm8k;
  else if (device_model == "Llama-3.2-3B-Instruct") device = mmlu ? k3bMmlu : k3bGsm8k;
  else return Status::NotFound("no calibration for device model " + std::string(device_model));
  DeviceQualityAssumption a;
  a.accuracy_ratio = device / (mmlu ? kEdgeMmlu : kEdgeGsm8k);
  a.joint_success_share = mmlu ? kJointMmlu : kJointGsm8k;
  return a;
}

Result<double> AccuracyRatioFromCsv(const std::string& csv_path, std::string_view device_model,
                                    std::string_view edge_model, std::string_view benchmark) {
  std::ifstream in(csv_path);
  if (!in) return Status::NotFound("cannot open " + csv_path);
  std::string line;
  double device = -1, edge = -1;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {  // model,params_b,tier_fit,benchmark,setting,score,unit,source
      header = false;
      continue;
    }
    const auto f = SplitComma(line);
    if (f.size() < 6 || f[3] != benchmark) continue;
    double score = 0;
    auto [p, ec] = std::from_chars(f[5].data(), f[5].data() + f[5].size(), score);
    if (ec != std::errc()) continue;
    if (f[0] == device_model && device < 0) device = score;
    if (f[0] == edge_model && edge < 0) edge = score;
  }
  if (device < 0 || edge <= 0) return Status::NotFound("no " + std::string(benchmark) + " rows for both models in " + csv_path);
  return device / edge;
}

}  // namespace mec
