#include "core/rng.h"

namespace mec {
namespace {

uint64_t SplitMix64(uint64_t& x) { return Mix64(x += 0x9E3779B97F4A7C15ull); }

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t Fnv1a64(std::string_view s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

Rng::Rng(uint64_t seed, uint64_t stream) {
  uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull);
  for (auto& s : s_) s = SplitMix64(x);
}

Rng::Rng(uint64_t seed, std::string_view stream_name) : Rng(seed, Fnv1a64(stream_name)) {}

uint64_t Rng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

double Rng::Normal(double mean, double stddev) {
  // Box-Muller; one value per call keeps the stream simple to reason about.
  double u1 = Uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  const double u2 = Uniform();
  return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

double Rng::LognormalWithMean(double mean, double sigma) {
  const double mu = std::log(mean) - 0.5 * sigma * sigma;
  return std::exp(Normal(mu, sigma));
}

}  // namespace mec
