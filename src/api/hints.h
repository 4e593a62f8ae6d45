#pragma once
// Request hints (DESIGN.md §5): X-MEC-* headers, or the same keys in a body object "mec".
// Parsing is strict: a malformed hint is an ApiError (400) naming the header.

#include <optional>
#include <string>
#include <string_view>

#include "api/error.h"

namespace mec {

enum class Privacy { kAny, kEdge, kDevice };  // how far from the user the request may travel
std::string_view PrivacyName(Privacy p);

enum class LinkType { kUnknown, kWired, kWifi, k5g, k4g, k3g, kOffline };
std::string_view LinkTypeName(LinkType l);

// The client's view of its network (X-MEC-Network: "link=5g; rtt-edge=12; rtt-cloud=85; down-mbps=40").
struct NetworkView {
  LinkType link = LinkType::kUnknown;
  std::optional<double> rtt_edge_ms;
  std::optional<double> rtt_cloud_ms;
  std::optional<double> down_mbps;
  std::optional<double> up_mbps;
  std::optional<double> loss;  // 0..1
};

enum class Thermal { kOk, kFair, kSerious, kCritical };

// The device's state (X-MEC-Device: "battery=0.35; charging=0; thermal=ok").
struct DeviceState {
  std::optional<double> battery;  // 0..1
  std::optional<bool> charging;
  std::optional<Thermal> thermal;
};

struct Hints {
  std::optional<double> deadline_ms;
  std::optional<double> ttft_deadline_ms;
  std::optional<double> min_quality;
  // X-MEC-Min-Quality's "per=request" (true: a floor on this request) or "per=class" (false: its
  // class's running average); unset: the config's routing.min_quality_per.
  std::optional<bool> min_quality_per_request;
  std::optional<Privacy> privacy;
  std::string policy;    // empty: config default
  std::string use_case;  // empty: none
  std::optional<NetworkView> network;
  std::optional<DeviceState> device;
  // X-MEC-Continue: off: a stream cut mid-answer ends with an error event rather than being
  // continued on another backend (docs/continuation.md).
  bool continue_off = false;
};

// Parses one hint value into `hints`. `name` is the canonical header name (e.g. "X-MEC-Deadline-Ms"),
// matched case-insensitively; unknown X-MEC-* names are an error. Returns nullopt on success.
std::optional<ApiError> ApplyHint(std::string_view name, std::string_view value, Hints& hints);

// True for the X-MEC-* request headers ApplyHint knows (case-insensitive).
bool IsHintHeader(std::string_view name);

// Maps a body "mec" key (snake_case, e.g. "deadline_ms") to its header name; empty if unknown.
std::string_view HintHeaderForBodyKey(std::string_view key);

bool IEquals(std::string_view a, std::string_view b);

}  // namespace mec
