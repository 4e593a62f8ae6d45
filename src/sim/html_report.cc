#include "sim/html_report.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

namespace mec::sim {
namespace {

const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#000000"};
const char* Color(size_t i) { return kPalette[i % (sizeof(kPalette) / sizeof(kPalette[0]))]; }

std::string Escape(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else o += c;
  }
  return o;
}

// End-to-end latency CDFs, log x from 10 ms to 100 s.
std::string CdfSvg(const ReportInputs& in) {
  const double W = 760, H = 360, L = 60, R = 170, T = 20, B = 40;
  auto x = [&](double ms) { return L + (std::log10(std::clamp(ms, 10.0, 1e5)) - 1) / 4 * (W - L - R); };
  auto y = [&](double p) { return T + (1 - p) * (H - T - B); };
  std::string s = fmt::format("<svg width='{}' height='{}' viewBox='0 0 {} {}' xmlns='http://www.w3.org/2000/svg' font-size='11'>", W, H, W, H);
  for (double ms : {10.0, 100.0, 1000.0, 10000.0, 100000.0}) {
    s += fmt::format("<line x1='{0:.1f}' x2='{0:.1f}' y1='{1}' y2='{2}' stroke='#ddd'/><text x='{0:.1f}' y='{3}' text-anchor='middle'>{4}</text>", x(ms), T,
                     H - B, H - B + 15, ms < 1000 ? fmt::format("{:.0f} ms", ms) : fmt::format("{:.0f} s", ms / 1000));
  }
  for (double p : {0.0, 0.25, 0.5, 0.75, 0.95, 1.0})
    s += fmt::format("<line x1='{0}' x2='{1}' y1='{2:.1f}' y2='{2:.1f}' stroke='#eee'/><text x='{3}' y='{4:.1f}' text-anchor='end'>{5:.0f}%</text>", L, W - R, y(p),
                     L - 5, y(p) + 4, p * 100);
  s += fmt::format("<text x='{}' y='{}' text-anchor='middle'>end-to-end latency of answered requests (log scale); y: share of all requests</text>", (L + W - R) / 2, H - 5);
  for (size_t k = 0; k < in.runs.size(); ++k) {
    std::vector<float> v;
    for (const auto& o : in.runs[k].outcomes)
      if (o.completed) v.push_back(o.e2e_ms);
    std::sort(v.begin(), v.end());
    const double n = static_cast<double>(std::max<size_t>(1, in.runs[k].outcomes.size()));
    std::string pts;
    const size_t step = std::max<size_t>(1, v.size() / 400);
    for (size_t i = 0; i < v.size(); i += step) pts += fmt::format("{:.1f},{:.1f} ", x(v[i]), y((i + 1) / n));
    if (!v.empty()) pts += fmt::format("{:.1f},{:.1f} ", x(v.back()), y(v.size() / n));
    s += fmt::format("<polyline fill='none' stroke='{}' stroke-width='1.6' points='{}'/>", Color(k), pts);
    s += fmt::format("<rect x='{}' y='{}' width='10' height='10' fill='{}'/><text x='{}' y='{}'>{}</text>", W - R + 10, T + 16 * k, Color(k), W - R + 25,
                     T + 16 * k + 9, Escape(in.runs[k].policy));
  }
  return s + "</svg>";
}

// Cost per 1,000 requests (log x) against accuracy, one dot per policy.
std::string CostQualitySvg(const ReportInputs& in) {
  const double W = 760, H = 340, L = 60, R = 30, T = 20, B = 40;
  double lo = 1e9, hi = 0, qlo = 1, qhi = 0;
  for (const auto& m : in.metrics) {
    lo = std::min(lo, std::max(1e-4, m.cost_per_1k_usd));
    hi = std::max(hi, std::max(1e-4, m.cost_per_1k_usd));
    qlo = std::min(qlo, m.quality);
    qhi = std::max(qhi, m.quality);
  }
  const double l0 = std::floor(std::log10(lo)), l1 = std::ceil(std::log10(hi)) + (lo == hi ? 1 : 0);
  qlo = std::floor(qlo * 20) / 20;
  qhi = std::min(1.0, std::ceil(qhi * 20) / 20 + 0.001);
  auto x = [&](double c) { return L + (std::log10(std::max(1e-4, c)) - l0) / std::max(1.0, l1 - l0) * (W - L - R); };
  auto y = [&](double q) { return T + (qhi - q) / std::max(0.01, qhi - qlo) * (H - T - B); };
  std::string s = fmt::format("<svg width='{}' height='{}' viewBox='0 0 {} {}' xmlns='http://www.w3.org/2000/svg' font-size='11'>", W, H, W, H);
  for (double e = l0; e <= l1; e += 1)
    s += fmt::format("<line x1='{0:.1f}' x2='{0:.1f}' y1='{1}' y2='{2}' stroke='#ddd'/><text x='{0:.1f}' y='{3}' text-anchor='middle'>${4}</text>", x(std::pow(10, e)), T,
                     H - B, H - B + 15, fmt::format("{:g}", std::pow(10, e)));
  for (double q = qlo; q <= qhi + 1e-9; q += 0.05)
    s += fmt::format("<line x1='{0}' x2='{1}' y1='{2:.1f}' y2='{2:.1f}' stroke='#eee'/><text x='{3}' y='{4:.1f}' text-anchor='end'>{5:.0f}%</text>", L, W - R, y(q), L - 5,
                     y(q) + 4, q * 100);
  s += fmt::format("<text x='{}' y='{}' text-anchor='middle'>cost per 1,000 requests (USD, log scale) against accuracy of the answers</text>", (L + W - R) / 2, H - 5);
  for (size_t k = 0; k < in.metrics.size(); ++k) {
    const auto& m = in.metrics[k];
    s += fmt::format("<circle cx='{:.1f}' cy='{:.1f}' r='5' fill='{}'/><text x='{:.1f}' y='{:.1f}'>{}</text>", x(m.cost_per_1k_usd), y(m.quality), Color(k),
                     x(m.cost_per_1k_usd) + 7, y(m.quality) - 4, Escape(m.policy));
  }
  return s + "</svg>";
}

// Share of requests per tier (and failed) by arrival time, for one policy, outages shaded.
std::string TierSplitSvg(const ReportInputs& in, size_t k) {
  const double W = 760, H = 220, L = 60, R = 100, T = 20, B = 40;
  const auto& run = in.runs[k];
  double span = 0;
  for (const auto& r : in.requests) span = std::max(span, r.arrival_s);
  if (span <= 0) span = 1;
  const int bins = 100;
  std::vector<std::array<double, 4>> c(bins, {0, 0, 0, 0});
  for (size_t i = 0; i < run.outcomes.size() && i < in.requests.size(); ++i) {
    const int b = std::min(bins - 1, static_cast<int>(in.requests[i].arrival_s / span * bins));
    const auto& o = run.outcomes[i];
    c[b][o.completed && o.tier >= 0 ? o.tier : 3] += 1;
  }
  auto x = [&](double frac) { return L + frac * (W - L - R); };
  auto y = [&](double p) { return T + (1 - p) * (H - T - B); };
  std::string s = fmt::format("<svg width='{}' height='{}' viewBox='0 0 {} {}' xmlns='http://www.w3.org/2000/svg' font-size='11'>", W, H, W, H);
  const double d = in.scenario.ExpectedDurationS() > 0 ? in.scenario.ExpectedDurationS() : span;
  for (const auto& o : in.scenario.outages) {
    const double a = std::min(1.0, o.from * d / span), b = std::min(1.0, o.to * d / span);
    s += fmt::format("<rect x='{:.1f}' y='{}' width='{:.1f}' height='{}' fill='#f4cccc'/><text x='{:.1f}' y='{}' fill='#a00'>{} down</text>", x(a), T,
                     std::max(1.0, x(b) - x(a)), H - T - B, x(a), T - 5, Escape(o.target));
  }
  const char* names[] = {"device", "edge", "cloud", "failed"};
  const char* colors[] = {"#2ca02c", "#1f77b4", "#9467bd", "#d62728"};
  for (int t = 3; t >= 0; --t) {
    // Stacked from the bottom: device, edge, cloud, failed on top.
    std::string pts;
    for (int b = 0; b < bins; ++b) {
      const double n = c[b][0] + c[b][1] + c[b][2] + c[b][3];
      double top = 0;
      for (int u = 0; u <= t; ++u) top += n > 0 ? c[b][u] / n : 0;
      pts += fmt::format("{:.1f},{:.1f} {:.1f},{:.1f} ", x(b / double(bins)), y(top), x((b + 1) / double(bins)), y(top));
    }
    pts += fmt::format("{:.1f},{:.1f} {:.1f},{:.1f}", x(1), y(0), x(0), y(0));
    s += fmt::format("<polygon points='{}' fill='{}' fill-opacity='0.85'/>", pts, colors[t]);
    s += fmt::format("<rect x='{}' y='{}' width='10' height='10' fill='{}'/><text x='{}' y='{}'>{}</text>", W - R + 10, T + 16 * (3 - t), colors[t], W - R + 25,
                     T + 16 * (3 - t) + 9, names[t]);
  }
  s += fmt::format("<text x='{}' y='{}' text-anchor='middle'>{}: where requests went, by arrival time ({:.0f} s run; outages shaded)</text>", (L + W - R) / 2, H - 5,
                   Escape(run.policy), span);
  return s + "</svg>";
}

}  // namespace

std::string HtmlReport(const ReportInputs& in) {
  std::string h = "<!doctype html><html><head><meta charset='utf-8'><title>mecrouter simulate: " + Escape(in.header.scenario) +
                  "</title><style>body{font-family:sans-serif;max-width:1100px;margin:20px auto;color:#222}table{border-collapse:collapse;font-size:12px}"
                  "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,th:first-child{text-align:left}.miss{color:#b00}.ok{color:#070}"
                  "</style></head><body>";
  h += fmt::format("<h1>Simulation: {}</h1><p>seed {} · mode {} · {} requests per policy. {}</p>", Escape(in.header.scenario), in.header.seed, Escape(in.header.mode),
                   in.header.requests, Escape(in.scenario.description));
  h += "<h2>Policies</h2><table><tr><th>policy</th><th>availability</th><th>e2e mean</th><th>e2e p95</th><th>TTFT p50</th><th>deadline att.</th>"
       "<th>time-critical p95</th><th>time-critical att.</th><th>accuracy</th><th>$ / 1k req</th><th>U</th><th>device</th><th>edge</th><th>cloud</th>"
       "<th>fallbacks</th><th>hedges</th></tr>";
  for (const auto& m : in.metrics) {
    h += fmt::format("<tr><td>{}</td><td>{:.2f}%</td><td>{:.0f} ms</td><td>{:.0f} ms</td><td>{:.0f} ms</td><td>{:.1f}%</td><td>{:.0f} ms</td><td>{:.1f}%</td>"
                     "<td>{:.1f}%</td><td>{:.4f}</td><td>{:.3f}</td><td>{:.0f}%</td><td>{:.0f}%</td><td>{:.0f}%</td><td>{}</td><td>{}</td></tr>",
                     Escape(m.policy), 100 * m.availability, m.e2e_ms.mean, m.e2e_ms.p95, m.ttft_ms.p50, 100 * m.deadline_attainment, m.tc_e2e_ms.p95,
                     100 * m.tc_deadline_attainment, 100 * m.quality, m.cost_per_1k_usd, m.utility, 100 * m.tier_share[0], 100 * m.tier_share[1],
                     100 * m.tier_share[2], m.fallbacks, m.hedges);
  }
  h += "</table><p>U = 1[answered, correct and within its deadline] − 0.5 × cost / cloud-only's mean cost per request. Time-critical: deadline ≤ 3 s.</p>";
  if (!in.targets.empty()) {
    h += "<h2>Issue 5 targets (adaptive)</h2><table><tr><th>target</th><th>measured</th><th></th></tr>";
    for (const auto& t : in.targets)
      h += fmt::format("<tr><td>{}</td><td>{}</td><td class='{}'>{}</td></tr>", Escape(t.name), Escape(t.value), t.pass ? "ok" : "miss", t.pass ? "met" : "missed");
    h += "</table>";
  }
  h += "<h2>Latency</h2>" + CdfSvg(in);
  h += "<h2>Cost against quality</h2>" + CostQualitySvg(in);
  h += "<h2>Tier split over time</h2>";
  for (size_t k = 0; k < in.runs.size(); ++k)
    if (in.runs[k].policy == "adaptive" || in.runs[k].policy == "oracle" || in.runs[k].policy == "cloud-only") h += TierSplitSvg(in, k);
  h += "<p>Generated by <code>mecrouter simulate</code>; models and assumptions: docs/simulator.md.</p></body></html>\n";
  return h;
}

}  // namespace mec::sim
