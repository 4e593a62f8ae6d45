#include "api/hints.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

#include "core/ascii.h"

namespace mec {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<double> ParseNumber(std::string_view s) {
  s = Trim(s);
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

ApiError Bad(std::string_view header, std::string_view why) {
  return ApiError::BadRequest("Invalid header " + std::string(header) + ": " + std::string(why), std::string(header),
                              "invalid_hint");
}

// Calls fn(key, value) for each "key=value" item separated by ';' or ','. Returns false if an
// item has no '='.
template <typename Fn>
bool ForEachPair(std::string_view s, Fn&& fn) {
  while (!s.empty()) {
    size_t end = s.find_first_of(";,");
    std::string_view item = Trim(s.substr(0, end));
    s = end == std::string_view::npos ? std::string_view() : s.substr(end + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) return false;
    if (!fn(AsciiLower(Trim(item.substr(0, eq))), Trim(item.substr(eq + 1)))) return false;
  }
  return true;
}

std::optional<ApiError> ParseNetwork(std::string_view header, std::string_view value, NetworkView& out) {
  std::string err;
  bool ok = ForEachPair(value, [&](const std::string& k, std::string_view v) {
    if (k == "link") {
      std::string l = AsciiLower(v);
      if (l == "5g") out.link = LinkType::k5g;
      else if (l == "4g" || l == "lte") out.link = LinkType::k4g;
      else if (l == "3g") out.link = LinkType::k3g;
      else if (l == "wifi") out.link = LinkType::kWifi;
      else if (l == "wired" || l == "ethernet") out.link = LinkType::kWired;
      else if (l == "offline" || l == "none") out.link = LinkType::kOffline;
      else { err = "unknown link '" + std::string(v) + "' (5g, 4g, 3g, wifi, wired, offline)"; return false; }
      return true;
    }
    auto n = ParseNumber(v);
    if (!n || *n < 0) { err = "'" + k + "' needs a non-negative number"; return false; }
    if (k == "rtt-edge") out.rtt_edge_ms = *n;
    else if (k == "rtt-cloud") out.rtt_cloud_ms = *n;
    else if (k == "down-mbps") out.down_mbps = *n;
    else if (k == "up-mbps") out.up_mbps = *n;
    else if (k == "loss") {
      if (*n > 1) { err = "'loss' is a fraction in [0,1]"; return false; }
      out.loss = *n;
    } else { err = "unknown key '" + k + "' (link, rtt-edge, rtt-cloud, down-mbps, up-mbps, loss)"; return false; }
    return true;
  });
  if (!ok) return Bad(header, err.empty() ? "expected key=value pairs separated by ';'" : err);
  return std::nullopt;
}

std::optional<ApiError> ParseDevice(std::string_view header, std::string_view value, DeviceState& out) {
  std::string err;
  bool ok = ForEachPair(value, [&](const std::string& k, std::string_view v) {
    if (k == "thermal") {
      std::string t = AsciiLower(v);
      if (t == "ok" || t == "nominal") out.thermal = Thermal::kOk;
      else if (t == "fair") out.thermal = Thermal::kFair;
      else if (t == "serious") out.thermal = Thermal::kSerious;
      else if (t == "critical") out.thermal = Thermal::kCritical;
      else { err = "unknown thermal state '" + std::string(v) + "' (ok, fair, serious, critical)"; return false; }
      return true;
    }
    auto n = ParseNumber(v);
    if (k == "battery") {
      if (!n || *n < 0 || *n > 1) { err = "'battery' is a fraction in [0,1]"; return false; }
      out.battery = *n;
    } else if (k == "charging") {
      if (!n || (*n != 0 && *n != 1)) { err = "'charging' is 0 or 1"; return false; }
      out.charging = *n == 1;
    } else { err = "unknown key '" + k + "' (battery, charging, thermal)"; return false; }
    return true;
  });
  if (!ok) return Bad(header, err.empty() ? "expected key=value pairs separated by ';'" : err);
  return std::nullopt;
}

}  // namespace

bool IEquals(std::string_view a, std::string_view b) { return AsciiIEquals(a, b); }

std::string_view PrivacyName(Privacy p) {
  switch (p) {
    case Privacy::kDevice: return "device";
    case Privacy::kEdge: return "edge";
    case Privacy::kAny: return "any";
  }
  return "any";
}

std::string_view LinkTypeName(LinkType l) {
  switch (l) {
    case LinkType::kWired: return "wired";
    case LinkType::kWifi: return "wifi";
    case LinkType::k5g: return "5g";
    case LinkType::k4g: return "4g";
    case LinkType::k3g: return "3g";
    case LinkType::kOffline: return "offline";
    case LinkType::kUnknown: break;
  }
  return "unknown";
}

std::string_view HintHeaderForBodyKey(std::string_view key) {
  struct Pair { std::string_view body, header; };
  static constexpr Pair kMap[] = {
      {"deadline_ms", "X-MEC-Deadline-Ms"}, {"ttft_deadline_ms", "X-MEC-TTFT-Deadline-Ms"},
      {"min_quality", "X-MEC-Min-Quality"}, {"privacy", "X-MEC-Privacy"},
      {"policy", "X-MEC-Policy"},           {"network", "X-MEC-Network"},
      {"device", "X-MEC-Device"},           {"use_case", "X-MEC-Use-Case"},
      {"continue", "X-MEC-Continue"},
  };
  for (const auto& p : kMap)
    if (p.body == key) return p.header;
  return {};
}

bool IsHintHeader(std::string_view name) {
  static constexpr std::string_view kNames[] = {"X-MEC-Deadline-Ms", "X-MEC-TTFT-Deadline-Ms", "X-MEC-Min-Quality",
                                                "X-MEC-Privacy",     "X-MEC-Policy",           "X-MEC-Network",
                                                "X-MEC-Device",      "X-MEC-Use-Case",         "X-MEC-Continue"};
  for (auto n : kNames)
    if (IEquals(n, name)) return true;
  return false;
}

std::optional<ApiError> ApplyHint(std::string_view name, std::string_view value, Hints& hints) {
  value = Trim(value);
  auto positive = [&](std::optional<double>& slot) -> std::optional<ApiError> {
    auto n = ParseNumber(value);
    if (!n || *n <= 0) return Bad(name, "expected a positive number of milliseconds, got '" + std::string(value) + "'");
    slot = *n;
    return std::nullopt;
  };
  if (IEquals(name, "X-MEC-Deadline-Ms")) return positive(hints.deadline_ms);
  if (IEquals(name, "X-MEC-TTFT-Deadline-Ms")) return positive(hints.ttft_deadline_ms);
  if (IEquals(name, "X-MEC-Min-Quality")) {
    // "0.9", "0.9; per=request", "per=class": a number in [0,1] and/or how it is held.
    auto bad = [&] { return Bad(name, "expected a number in [0,1] and/or per=request|class, got '" + std::string(value) + "'"); };
    std::optional<double> q;
    std::optional<bool> per_request;
    std::string_view rest = value;
    while (!rest.empty()) {
      const size_t semi = rest.find(';');
      std::string_view part = Trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      if (part.empty()) return bad();
      if (part.size() > 4 && IEquals(part.substr(0, 4), "per=")) {
        std::string_view per = Trim(part.substr(4));
        if (per_request) return bad();
        if (IEquals(per, "request")) per_request = true;
        else if (IEquals(per, "class")) per_request = false;
        else return bad();
        continue;
      }
      auto n = ParseNumber(part);
      if (q || !n || *n < 0 || *n > 1) return bad();
      q = *n;
    }
    if (!q && !per_request) return bad();
    if (q) hints.min_quality = q;
    if (per_request) hints.min_quality_per_request = per_request;
    return std::nullopt;
  }
  if (IEquals(name, "X-MEC-Privacy")) {
    if (IEquals(value, "device")) hints.privacy = Privacy::kDevice;
    else if (IEquals(value, "edge")) hints.privacy = Privacy::kEdge;
    else if (IEquals(value, "any")) hints.privacy = Privacy::kAny;
    else return Bad(name, "expected device, edge or any, got '" + std::string(value) + "'");
    return std::nullopt;
  }
  if (IEquals(name, "X-MEC-Policy")) {
    if (value.empty()) return Bad(name, "empty policy name");
    hints.policy = std::string(value);
    return std::nullopt;
  }
  if (IEquals(name, "X-MEC-Use-Case")) {
    if (value.empty()) return Bad(name, "empty use case");
    hints.use_case = std::string(value);
    return std::nullopt;
  }
  if (IEquals(name, "X-MEC-Continue")) {
    if (IEquals(value, "off")) hints.continue_off = true;
    else if (IEquals(value, "on")) hints.continue_off = false;
    else return Bad(name, "expected on or off, got '" + std::string(value) + "'");
    return std::nullopt;
  }
  if (IEquals(name, "X-MEC-Network")) {
    NetworkView nv;
    if (auto e = ParseNetwork(name, value, nv)) return e;
    hints.network = nv;
    return std::nullopt;
  }
  if (IEquals(name, "X-MEC-Device")) {
    DeviceState ds;
    if (auto e = ParseDevice(name, value, ds)) return e;
    hints.device = ds;
    return std::nullopt;
  }
  return Bad(name, "unknown hint header");
}

}  // namespace mec
