#include "sim/client_network.h"

#include <cmath>
#include <string>

namespace mec::sim {

ClientNetwork::ClientNetwork(const LinkSpec& link, const DeviceClassSpec& device, uint64_t seed, uint32_t client)
    : link_(&link),
      device_(&device),
      net_(seed, "client/" + std::to_string(client) + "/net"),
      coverage_(seed, "client/" + std::to_string(client) + "/coverage") {
  if (device.gap_interval_s > 0 && device.gap_mean_s > 0) {
    gap_start_ = TimePoint{} + FromSeconds(coverage_.Exponential(device.gap_interval_s));
    gap_end_ = gap_start_ + FromSeconds(coverage_.Exponential(device.gap_mean_s));
  }
}

void ClientNetwork::AdvanceTo(TimePoint t) {
  while (gap_end_ != TimePoint::max() && t >= gap_end_) {
    gap_start_ = gap_end_ + FromSeconds(coverage_.Exponential(device_->gap_interval_s));
    gap_end_ = gap_start_ + FromSeconds(coverage_.Exponential(device_->gap_mean_s));
  }
}

bool ClientNetwork::Offline(TimePoint t) {
  AdvanceTo(t);
  return t >= gap_start_ && t < gap_end_;
}

TimePoint ClientNetwork::NextGapStart(TimePoint t) {
  AdvanceTo(t);
  return t >= gap_start_ ? t : gap_start_;
}

double ClientNetwork::DrawRttS(bool cloud, double extra_ms) {
  const double median_ms = (cloud ? link_->rtt_cloud_ms : link_->rtt_edge_ms) + extra_ms;
  return median_ms / 1000.0 * std::exp(link_->rtt_sigma * net_.Normal());
}

double ClientNetwork::UploadS(int64_t input_tokens) const {
  return static_cast<double>(input_tokens) * 4.0 * 8.0 / (link_->up_mbps * 1e6);
}

double ClientNetwork::DrawLossDelayS() { return net_.Bernoulli(link_->loss) ? link_->rto_ms / 1000.0 : 0.0; }

double ClientNetwork::DrawHandoverDelayS(double window_s) {
  if (device_->handover_interval_s <= 0 || window_s <= 0) return 0;
  const double p = 1.0 - std::exp(-window_s / device_->handover_interval_s);
  if (!net_.Bernoulli(p)) return 0;
  return net_.Uniform(device_->handover_ms_min, device_->handover_ms_max) / 1000.0;
}

}  // namespace mec::sim
