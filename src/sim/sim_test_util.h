#pragma once
// Helpers shared by the simulator's tests: the shipped `mixed` scenario (shrunk on request) and a
// synthetic labelled prompt set, so that most tests run without ../shared/data.

#include <string>

#include "core/rng.h"
#include "sim/scenario.h"
#include "sim/workload.h"

namespace mec::sim::testing {

inline std::string SourceDir() {
#ifdef MEC_SOURCE_DIR
  return MEC_SOURCE_DIR;
#else
  return ".";
#endif
}

// A scenario shipped in scenarios/ (`name`.yaml).
inline Scenario ShippedScenario(const std::string& name) {
  auto s = LoadScenarioFile(SourceDir() + "/scenarios/" + name + ".yaml");
  if (!s.ok()) throw std::runtime_error(s.status().message());
  return *s;
}

inline Scenario MixedScenario() { return ShippedScenario("mixed"); }

// `n` prompts of varied length and wording; labels drawn with the decontaminated MMLU rates
// (edge 68%, cloud 81%, README §2 of router_eval) from a fixed stream.
inline PromptSet SyntheticPrompts(int n = 300) {
  PromptSet p;
  p.mode = "synthetic";
  Rng r(7, "synthetic-prompts");
  const char* stems[] = {"What is the capital of", "Solve for x: 3x + 7 = ", "Explain why the sky is", "Which of the following is a prime number?\nA. 4\nB. 7",
                         "Summarize the traffic situation near junction"};
  for (int i = 0; i < n; ++i) {
    LabelledPromptItem it;
    it.id = "synthetic/" + std::to_string(i);
    it.text = std::string(stems[i % 5]) + " " + std::to_string(i) + std::string(static_cast<size_t>(r.Below(400)), 'x');
    it.cloud_correct = r.Bernoulli(0.81);
    it.edge_correct = r.Bernoulli(0.68);
    it.gsm8k = i % 5 == 1;
    p.items.push_back(std::move(it));
  }
  return p;
}

}  // namespace mec::sim::testing
