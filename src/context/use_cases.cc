#include "context/use_cases.h"

namespace mec {

const std::vector<UseCaseDefaults>& BuiltinUseCases() {
  static const std::vector<UseCaseDefaults> kCases = {
      {"gaming.npc-dialogue", Tier::kDevice, 2000, 200, 0.7, 40, "dialogue", std::nullopt},
      {"gaming.state-analysis", Tier::kEdge, 3000, std::nullopt, 0.85, 120, "analysis", std::nullopt},
      {"gaming.content-generation", Tier::kCloud, 30000, std::nullopt, 0.95, 600, "generation", std::nullopt},
      {"vehicle.collision", Tier::kDevice, 150, std::nullopt, 0.5, 2, "safety", std::nullopt},
      {"vehicle.traffic", Tier::kEdge, 1500, std::nullopt, 0.8, 60, "analysis", std::nullopt},
      {"vehicle.route-planning", Tier::kCloud, 15000, std::nullopt, 0.95, 300, "planning", std::nullopt},
      {"iot.sensor", Tier::kDevice, 400, std::nullopt, 0.6, 8, "sensor", std::nullopt},
      {"iot.traffic-management", Tier::kEdge, 3000, std::nullopt, 0.8, 100, "analysis", std::nullopt},
      {"iot.urban-planning", Tier::kCloud, 60000, std::nullopt, 0.95, 800, "planning", std::nullopt},
  };
  return kCases;
}

const UseCaseDefaults* FindUseCase(std::string_view key) {
  for (const auto& u : BuiltinUseCases())
    if (u.key == key) return &u;
  return nullptr;
}

}  // namespace mec
