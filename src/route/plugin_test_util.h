#pragma once
// Test helpers for the route plugins: a pool of one backend per tier and hand-made candidates.

#include <vector>

#include "route/plugin.h"

namespace mec::test {

inline BackendOptions TierBackend(const char* name, Tier t) {
  BackendOptions b;
  b.name = name;
  b.tier = t;
  b.url = "http://127.0.0.1:1/v1";
  b.models = {std::string("m-") + name};
  b.max_concurrency = 4;
  return b;
}

// Candidates in pool order with the given tiers; every field else at its default.
inline CandidateSet Candidates(std::vector<Tier> tiers) {
  CandidateSet cs;
  for (size_t i = 0; i < tiers.size(); ++i) {
    Candidate c;
    c.backend = static_cast<int>(i);
    c.tier = tiers[i];
    cs.all.push_back(c);
    cs.passing.push_back(static_cast<int>(i));
  }
  return cs;
}

// What a picker needs besides the candidates: an environment and a decision to write.
struct PickerBench {
  BackendPool pool{std::vector<BackendOptions>{TierBackend("dev", Tier::kDevice), TierBackend("edge", Tier::kEdge),
                                               TierBackend("cloud", Tier::kCloud)}};
  PoolSnapshot snap;
  Rng rng{11};
  RouteEnv env{pool, snap, rng};
  Decision decision;
  RequestContext ctx;
};

}  // namespace mec::test
