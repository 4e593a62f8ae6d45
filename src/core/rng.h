#pragma once
// Seeded, independent random streams (ns-3's RngSeedManager idea): every component that draws
// random numbers owns an Rng made from (seed, stream id), so adding draws in one component never
// shifts another's sequence. xoshiro256** seeded through splitmix64. Not thread-safe: one per owner.

#include <cmath>
#include <cstdint>
#include <string_view>

namespace mec {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0x9E3779B97F4A7C15ull, uint64_t stream = 0);
  // A stream named by a string (hashed), for readable wiring: Rng(seed, "edge-1/faults").
  Rng(uint64_t seed, std::string_view stream_name);

  uint64_t Next();
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [0, n). REQUIRES: n > 0.
  uint64_t Below(uint64_t n) { return Next() % n; }
  bool Bernoulli(double p) { return Uniform() < p; }
  double Exponential(double mean) { return -mean * std::log1p(-Uniform()); }
  double Normal(double mean = 0.0, double stddev = 1.0);
  // exp(N(mu, sigma)) with mu chosen so that the mean is `mean`.
  double LognormalWithMean(double mean, double sigma);

 private:
  uint64_t s_[4];
};

// splitmix64's finalizer: a bijection on 64 bits (distinct inputs never collide), well mixed.
uint64_t Mix64(uint64_t x);

// 64-bit FNV-1a, stable across platforms and runs (used for stream names and hashed features).
uint64_t Fnv1a64(std::string_view s, uint64_t h = 0xcbf29ce484222325ull);

}  // namespace mec
