#pragma once
// Per-tier quality (DESIGN.md §2: P(this tier's answer is as good as the strongest tier's)) for the
// device tier, derived from the edge tier's quality that the complexity model predicts. There are
// no per-prompt labels for on-device models, so the link is an explicit, documented assumption.
//
// Notation, for one prompt: S = the strong (cloud) model is correct, E = the edge model is correct,
// D = the device model is correct. The edge quality is q = 1 - P(S and not E).
//
// ASSUMPTION A1 (nesting): the device model is correct only where the edge model is, and it keeps
//   a fixed share r of the edge model's correct answers, independently of S:
//     P(D | E, S) = P(D | E) = r,  P(D | not E) = 0,
//   with r = device accuracy / edge accuracy on the same benchmark and harness, from
//   ../shared/data/calibration/model_quality.csv (Meta's model cards, same "5-shot macro_avg/acc"
//   for MMLU and "8-shot CoT em_maj1@1" for GSM8K):
//     Llama-3.2-1B-Instruct,1.23,device,MMLU,5-shot macro_avg/acc,49.3   over
//     Llama-3.1-8B-Instruct,8,edge,MMLU,5-shot macro_avg/acc,69.4        -> r = 0.710
//     Llama-3.2-3B-Instruct,3.21,device,MMLU,5-shot macro_avg/acc,63.4   -> r = 0.914
//     Llama-3.2-1B-Instruct,...,GSM8K,8-shot CoT em_maj1@1,44.4 over Llama-3.1-8B-Instruct 84.5 -> r = 0.525
//     Llama-3.2-3B-Instruct,...,GSM8K,8-shot CoT em_maj1@1,77.7 over 84.5                       -> r = 0.920
//   (Llama-3.1-8B stands for the edge model: the labels use Mixtral-8x7B, which scores about the
//   same on MMLU, 68.1 vs 69.4, but has no row in the same harness as the device models.)
// ASSUMPTION A2 (share of joint successes): among prompts where the edge model is as good as the
//   strong one, the share where both are correct is a per-benchmark constant k, measured on the
//   decontaminated labels of ../shared/data/router_eval (README §2):
//     MMLU  both correct 62.81% / (1 - strong-only 17.78%) -> k = 0.764
//     GSM8K both correct 56.54% / (1 - strong-only 29.23%) -> k = 0.799
// Then P(S and not D) = P(S and not E) + P(S and E)(1 - r) = (1 - q) + k q (1 - r), so
//     q_device = q * (1 - k (1 - r)).
// Both assumptions are unsupported by per-prompt data: sweep r and k when a result depends on them.

#include <string>
#include <string_view>

#include "core/status.h"

namespace mec {

struct DeviceQualityAssumption {
  double accuracy_ratio = 1.0;       // r in [0, 1]
  double joint_success_share = 0.0;  // k in [0, 1]
};

// q_device = q_edge * (1 - k (1 - r)), clamped to [0, 1].
double DeviceQualityFromEdge(double edge_quality, const DeviceQualityAssumption& a);

// The rows quoted above. `device_model` is "Llama-3.2-1B-Instruct" or "Llama-3.2-3B-Instruct",
// `benchmark` "MMLU" or "GSM8K"; NotFound for anything else.
Result<DeviceQualityAssumption> CalibratedDeviceAssumption(std::string_view device_model, std::string_view benchmark);

// The accuracy ratio computed from a model_quality.csv file (the first row for each model and
// benchmark), so that tests can check the constants above against the data.
Result<double> AccuracyRatioFromCsv(const std::string& csv_path, std::string_view device_model,
                                    std::string_view edge_model, std::string_view benchmark);

}  // namespace mec
