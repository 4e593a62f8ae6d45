#include "learn/domain_prior_trainer.h"

#include <cmath>

namespace mec {

DomainPrior TrainDomainPrior(const std::vector<DomainExample>& examples, int num_domains, float temperature,
                             const DomainPriorOptions& o) {
  const size_t buckets = size_t{1} << o.hash_bits;
  // A throwaway prior only to map token hashes to buckets the same way inference does.
  const DomainPrior mapper(o.hash_bits, 1.0f, {DomainPriorClass{}}, {}, {});
  std::vector<int32_t> counts(buckets * num_domains, 0);
  std::vector<int64_t> bucket_total(buckets, 0);
  std::vector<double> n(num_domains, 0), pos(num_domains, 0);
  double all_pos = 0;
  for (const auto& e : examples) {
    n[e.domain] += 1;
    pos[e.domain] += e.weak_as_good;
    all_pos += e.weak_as_good;
    for (uint64_t h : *e.tokens) {
      const uint32_t b = mapper.Bucket(h);
      ++counts[static_cast<size_t>(b) * num_domains + e.domain];
      ++bucket_total[b];
    }
  }
  std::vector<uint32_t> known;
  for (size_t b = 0; b < buckets; ++b) {
    if (bucket_total[b] < o.min_token_count) continue;
    int domains = 0;
    for (int c = 0; c < num_domains; ++c) domains += counts[b * num_domains + c] >= o.min_pair_count;
    if (o.max_domains_per_token > 0 && domains > o.max_domains_per_token) continue;
    known.push_back(static_cast<uint32_t>(b));
  }
  std::vector<double> domain_tokens(num_domains, 0);
  std::vector<DomainPriorEntry> entries;
  for (uint32_t b : known) {
    for (int c = 0; c < num_domains; ++c) {
      const int32_t k = counts[static_cast<size_t>(b) * num_domains + c];
      domain_tokens[c] += k;
      if (k >= o.min_pair_count)
        entries.push_back({b, static_cast<uint16_t>(c), static_cast<float>(std::log((k + o.alpha) / o.alpha))});
    }
  }
  const double total = static_cast<double>(examples.size());
  const double rate = all_pos / total;
  std::vector<DomainPriorClass> classes(num_domains);
  for (int c = 0; c < num_domains; ++c) {
    classes[c].log_prior = n[c] > 0 ? static_cast<float>(std::log(n[c] / total)) : -1e30f;
    classes[c].base = static_cast<float>(std::log(o.alpha) - std::log(domain_tokens[c] + o.alpha * known.size()));
    const double p = (pos[c] + o.value_pseudo_count * rate) / (n[c] + o.value_pseudo_count);
    const double pc = std::min(std::max(p, 1e-4), 1 - 1e-4);
    classes[c].value = static_cast<float>(std::log(pc / (1 - pc)));
  }
  return DomainPrior(o.hash_bits, temperature, std::move(classes), std::move(entries), std::move(known));
}

}  // namespace mec
