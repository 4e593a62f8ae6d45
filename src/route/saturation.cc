#include "route/saturation.h"

#include <algorithm>
#include <array>

namespace mec {

std::string SkipSaturated(const RouteEnv& env, CandidateSet& cs, std::vector<int>& ids, std::vector<int>& set_aside) {
  set_aside.clear();
  size_t saturated = 0;
  for (int i : ids) saturated += cs.all[i].saturated;
  if (saturated == 0) return {};
  if (saturated == ids.size()) return "every candidate saturated";
  std::array<int, kTierCount> before{}, after{};
  for (int i : ids) ++before[static_cast<int>(cs.all[i].tier)];
  ids.erase(std::remove_if(ids.begin(), ids.end(),
                           [&](int i) {
                             if (!cs.all[i].saturated) return false;
                             set_aside.push_back(i);
                             return true;
                           }),
            ids.end());
  for (int i : ids) ++after[static_cast<int>(cs.all[i].tier)];
  std::string overflow, others;
  for (int i : set_aside) {
    Candidate& c = cs.all[i];
    const Backend& b = env.pool.at(c.backend);
    const std::string why = SaturationReason(ViewOf(env, c.backend).engine.get(), env.now, ThresholdsOf(b.options().engine));
    c.filtered_by = "saturated: " + why;
    std::string& into = after[static_cast<int>(c.tier)] == 0 ? overflow : others;
    into += into.empty() ? "" : ", ";
    into += b.name() + ": " + why;
  }
  std::string note;
  if (!overflow.empty()) {
    note = "overflow: every ";
    bool first = true;
    for (int t = 0; t < kTierCount; ++t) {
      if (before[t] == 0 || after[t] != 0) continue;
      note += first ? "" : " and ";
      note += TierName(static_cast<Tier>(t));
      first = false;
    }
    note += " replica saturated (" + overflow + ")";
  }
  if (!others.empty()) note += (note.empty() ? "" : "; ") + ("skipped saturated " + others);
  return note;
}

}  // namespace mec
