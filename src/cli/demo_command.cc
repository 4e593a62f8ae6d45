// `mecrouter demo` (issues 5 and 6): the embedded stack (three emulated tiers on loopback) and the
// gateway, then a scaled-down `mixed` workload sent as real HTTP requests through the gateway, an
// edge outage from 40% to 60% of the run, and a summary: answers and errors, tiers, latency per use
// case, deadline attainment, cost against cloud-only, failovers during the outage.

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "cli/commands.h"
#include "cli/demo_report.h"
#include "cli/embedded_stack.h"
#include "cli/flags.h"
#include "cli/gateway_runtime.h"
#include "cli/signals.h"
#include "context/learned_complexity_model.h"
#include "context/token_estimator.h"
#include "context/use_cases.h"
#include "core/json_writer.h"
#include "net/http_client.h"
#include "sim/cached_complexity_model.h"
#include "sim/fallback_prompts.h"
#include "sim/scenario.h"
#include "sim/workload.h"

namespace mec::cli {
namespace {

constexpr const char* kDemoUsage =
    "usage: mecrouter demo [--duration S] [--rate R] [--seed N] [--listen HOST:PORT] [--no-outage] [--keep-serving]\n"
    "                      [--scenario NAME|FILE] [--data DIR] [--json FILE]\n"
    "  Starts three emulated tiers and the gateway on loopback, prints the dashboard's URL, then sends the\n"
    "  scenario's use cases (default mixed) as real requests through the gateway for S seconds (default 60) at\n"
    "  R requests/s (default 10; Poisson arrivals). The edge emulator is down from 40% to 60% of the run unless\n"
    "  --no-outage. --keep-serving stays up after the summary until Ctrl-C. --json FILE: the summary per use case\n"
    "  and every request's outcome (docs/simulator.md, \"The simulator and the live gateway\").\n";

constexpr size_t kMaxInFlight = 256;  // the pacer waits beyond this many requests in flight

// One planned request: when it is sent and what it carries.
struct Planned {
  double at_s = 0;
  int use_case = 0;  // index into Scenario::use_cases
  double deadline_ms = 0;
  std::optional<double> ttft_deadline_ms;
  int64_t input_tokens = 0, output_tokens = 0;  // the workload's drawn sizes
  net::ClientCall call;
};

// A neutral filler context of about `tokens` tokens, so the request's input size follows the
// use case's (the complexity model reads only the last user turn).
std::string Filler(int64_t tokens) {
  static const std::string kLine = "Context record: status nominal, values within expected range, no action recorded.\n";
  static const int64_t kPerLine = std::max<int64_t>(1, EstimateTokens(kLine));
  std::string out;
  for (int64_t t = 0; t < tokens; t += kPerLine) out += kLine;
  return out;
}

std::vector<Planned> Plan(const sim::Scenario& s, const sim::PromptSet& prompts, double duration_s, uint64_t seed) {
  const auto fleet = sim::MakeFleet(s, seed);
  // More than enough draws; keep those that arrive within the run.
  const auto count = static_cast<int64_t>(s.rate_per_s * duration_s * 1.5) + 20;
  const auto requests = sim::MakeWorkload(s, fleet, prompts, count, seed);
  std::vector<Planned> out;
  for (const auto& r : requests) {
    if (r.arrival_s >= duration_s) break;
    const sim::UseCaseSpec& uc = s.use_cases[r.use_case];
    const UseCaseDefaults* d = FindUseCase(uc.key);
    const sim::LinkSpec& link = s.links[fleet[r.client].link];
    const std::string& prompt = prompts.items[r.prompt].text;
    Planned p;
    p.at_s = r.arrival_s;
    p.use_case = r.use_case;
    p.deadline_ms = d && d->deadline_ms ? *d->deadline_ms : 60000;
    if (d) p.ttft_deadline_ms = d->ttft_deadline_ms;
    p.input_tokens = r.input_tokens;
    p.output_tokens = r.output_tokens;
    std::string body;
    JsonWriter w(body);
    w.BeginObject().Field("model", "auto").Key("messages").BeginArray();
    const int64_t pad = r.input_tokens - EstimateTokens(prompt);
    if (pad > 8) w.BeginObject().Field("role", "system").Field("content", Filler(pad)).EndObject();
    w.BeginObject().Field("role", "user").Field("content", prompt).EndObject();
    // The answer runs to the drawn length (the emulators honour vLLM's ignore_eos). Every request is
    // streamed, as the simulator's clients do (sim/simulator.h, MakeParsedPrompts): the client sees
    // its first token, so a use case's TTFT deadline is checked as the simulator checks it, and the
    // gateway measures each backend's TTFT and time per token instead of guessing them from totals.
    w.EndArray().Field("max_tokens", static_cast<int64_t>(r.output_tokens)).Field("ignore_eos", true);
    w.Field("stream", true).Key("stream_options").BeginObject().Field("include_usage", true).EndObject();
    w.EndObject();
    p.call.target = "/v1/chat/completions";
    p.call.body = std::move(body);
    p.call.headers = {{"X-MEC-Use-Case", uc.key},
                      {"X-MEC-Deadline-Ms", fmt::format("{:.0f}", p.deadline_ms)},
                      {"X-MEC-Network", fmt::format("link={}; rtt-edge={:g}; rtt-cloud={:g}; down-mbps={:g}; up-mbps={:g}",
                                                    LinkTypeName(link.type), link.rtt_edge_ms, link.rtt_cloud_ms, link.down_mbps, link.up_mbps)}};
    if (d) p.call.headers.emplace_back("X-MEC-Min-Quality", fmt::format("{:g}", d->min_quality));
    if (d && d->ttft_deadline_ms) p.call.headers.emplace_back("X-MEC-TTFT-Deadline-Ms", fmt::format("{:.0f}", *d->ttft_deadline_ms));
    // The client gives up well after the deadline: the gateway's own timeouts end a request first.
    p.call.timeout = FromMillis(p.deadline_ms + 60000);
    out.push_back(std::move(p));
  }
  return out;
}

// A JSON number at `path` of a JSON document, or NaN.
double JsonNumber(const std::string& json, std::initializer_list<const char*> path) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json).get(e)) return NAN;
  for (const char* k : path)
    if (e[k].get(e)) return NAN;
  double d = 0;
  int64_t i = 0;
  if (!e.get_double().get(d)) return d;
  if (!e.get_int64().get(i)) return static_cast<double>(i);
  return NAN;
}

// One line describing an error reply: status and the OpenAI error code (or transport failure).
std::string ErrorLine(const net::ClientReply& r) {
  if (r.status == 0) return "no response (" + r.error + ")";
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  std::string_view code;
  if (!parser.parse(r.body).get(e) && !e["error"]["code"].get_string().get(code)) return fmt::format("HTTP {} {}", r.status, code);
  return fmt::format("HTTP {}", r.status);
}

// Whether a 200 reply carries a whole answer; otherwise what went wrong. A stream is whole when it
// ends with [DONE] after at least one chunk and no error event.
std::optional<std::string> AnswerProblem(const net::ClientReply& r) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (r.Header("Content-Type").find("text/event-stream") == std::string_view::npos) {
    std::string_view content;
    if (!parser.parse(r.body).get(e) && !e["choices"].at(0)["message"]["content"].get_string().get(content)) return std::nullopt;
    return "HTTP 200 without an answer";
  }
  size_t chunks = 0;
  bool done = false;
  std::string_view body = r.body;
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    if (line.rfind("data: ", 0) != 0) continue;
    line.remove_prefix(6);
    if (line == "[DONE]") {
      done = true;
      continue;
    }
    std::string_view code;
    if (parser.parse(line.data(), line.size()).get(e)) return "stream: malformed event";
    if (!e["error"].error()) return "stream cut: " + std::string(!e["error"]["code"].get_string().get(code) ? code : "error event");
    ++chunks;
  }
  if (!done || chunks == 0) return "stream ended without [DONE]";
  return std::nullopt;
}

}  // namespace

int RunDemo(int argc, char** argv) {
  Flags flags(argc, argv, {"duration", "rate", "seed", "listen", "scenario", "data", "json"});
  if (!flags.ok() || !flags.positional().empty()) {
    std::fprintf(stderr, "%s%s%s", flags.ok() ? "" : flags.error().c_str(), flags.ok() ? "" : "\n", kDemoUsage);
    return 2;
  }
  double duration_s = 60, rate = 10;
  uint64_t seed = 1;
  try {
    duration_s = std::stod(flags.Get("duration", "60"));
    rate = std::stod(flags.Get("rate", "10"));
    seed = std::stoull(flags.Get("seed", "1"));
  } catch (const std::exception&) {
    duration_s = -1;
  }
  if (!(duration_s > 0 && duration_s <= 86400 && rate > 0 && rate <= 1000)) {
    std::fprintf(stderr, "mecrouter demo: --duration takes seconds in (0, 86400], --rate requests/s in (0, 1000], --seed an integer\n%s", kDemoUsage);
    return 2;
  }
  const bool outage = !flags.Has("no-outage");

  // The workload: the scenario's use cases, token sizes and clients' links, scaled to the rate.
  std::error_code ec;
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  auto file = sim::FindScenarioFile(flags.Get("scenario", "mixed"), exe);
  if (!file.ok()) {
    std::fprintf(stderr, "mecrouter demo: %s\n", file.status().message().c_str());
    return 2;
  }
  auto scenario = sim::LoadScenarioFile(*file);
  if (!scenario.ok()) {
    std::fprintf(stderr, "mecrouter demo: %s\n", scenario.status().message().c_str());
    return 2;
  }
  scenario->rate_per_s = rate;
  std::unique_ptr<ComplexityModel> model = LoadDefaultComplexityModel();
  sim::CachedComplexityModel cached(*model);
  std::string data_desc;
  auto prompts = sim::LoadPromptsOrFallback(flags.Get("data", ""), exe, seed, cached, &data_desc);
  if (!prompts.ok()) {
    std::fprintf(stderr, "mecrouter demo: %s\n", prompts.status().message().c_str());
    return 2;
  }
  std::vector<Planned> plan = Plan(*scenario, *prompts, duration_s, seed);

  // The stack: three emulated tiers and the gateway, as `mecrouter serve` without --config.
  BlockTerminationSignals();
  SystemClock clock;
  EmbeddedStack stack(clock);
  // The scenario's world, as far as one emulator per tier can hold it: its edge sites' GPUs behind
  // the edge emulator, and the latency priors its simulated clients start from (docs/simulator.md).
  EmbeddedStackOptions world;
  world.edge_gpus = 0;
  for (const auto& site : scenario->edge_sites) world.edge_gpus += site.gpus;
  world.profile_priors = scenario->priors == "profile";
  world.flavors = scenario->engine_signals.enabled;  // engines to read only where the simulator has them
  auto options = stack.Start(flags.Get("listen", "127.0.0.1:8080"), world);
  if (!options.ok()) {
    std::fprintf(stderr, "mecrouter demo: cannot start the embedded emulators: %s\n", options.status().message().c_str());
    return 1;
  }
  options->source = "embedded demo, driven by `mecrouter demo`";
  // Route as the scenario's simulated clients do (`mixed`: hedging on, the minimum quality held per
  // use case as a class average); the embedded defaults of `serve` differ (docs/simulator.md).
  sim::ApplyScenarioRouting(*scenario, options->routing);
  GatewayRuntime gateway(std::move(*options), clock);
  if (Status s = gateway.Start(); !s.ok()) {
    std::fprintf(stderr, "mecrouter demo: %s%s\n", s.message().c_str(),
                 flags.Has("listen") ? "" : " (another process may hold the port: try --listen 127.0.0.1:0)");
    return 1;
  }
  const std::string dashboard = gateway.dashboard_url();
  std::printf("mecrouter demo: dashboard %s\n\n", dashboard.c_str());
  gateway.PrintBanner(stack.Describe());
  const double outage_from = 0.4 * duration_s, outage_to = 0.6 * duration_s;
  std::printf("\nworkload: scenario %s at %g requests/s for %g s: %zu requests (seed %llu; prompts: %s, mode %s)\n",
              scenario->name.c_str(), rate, duration_s, plan.size(), static_cast<unsigned long long>(seed), data_desc.c_str(),
              prompts->mode.c_str());
  if (outage) std::printf("edge outage: from %.1f s to %.1f s (POST /admin/fault to the edge emulator)\n", outage_from, outage_to);
  std::printf("Ctrl-C stops sending; the summary still comes.\n\n");
  std::fflush(stdout);

  // Shared with the client threads' callbacks; declared before the clients, which outlive no call.
  std::mutex mu;
  std::condition_variable cv;
  std::vector<DemoOutcome> outcomes;  // guarded by mu
  size_t in_flight = 0;           // guarded by mu
  std::map<std::string, int> tier_now;  // answers by tier, for progress lines; guarded by mu

  const std::string base = gateway.base_url();  // http://HOST:PORT
  const size_t colon = base.rfind(':');
  net::HttpClient client(base.substr(7, colon - 7), std::atoi(base.c_str() + colon + 1));
  std::unique_ptr<net::HttpClient> edge_admin;
  if (outage) edge_admin = std::make_unique<net::HttpClient>("127.0.0.1", stack.port(Tier::kEdge));
  auto set_edge_outage = [&](bool down) {
    net::ClientCall c;
    c.target = "/admin/fault";
    c.body = down ? R"({"outage":true})" : R"({"outage":false})";
    c.timeout = FromSeconds(5);
    const net::ClientReply r = edge_admin->Fetch(std::move(c));
    if (r.status != 200) std::printf("  could not %s the edge outage: %s\n", down ? "start" : "end", ErrorLine(r).c_str());
    return r.status == 200;
  };
  auto fetch_json = [&](const char* target) {
    net::ClientCall c;
    c.method = "GET";
    c.target = target;
    c.timeout = FromSeconds(10);
    net::ClientReply r = client.Fetch(std::move(c));
    return r.status == 200 ? std::move(r.body) : std::string();
  };

  const TimePoint start = clock.Now();
  auto since_start = [&] { return ToSeconds(clock.Now() - start); };
  int stopped_by = 0;
  bool outage_on = false, outage_done = !outage;
  std::string stats_at_outage_start, stats_at_outage_end;
  size_t next = 0;
  int next_progress = 1;
  // The pacer: sends each planned request at its time, toggles the outage, prints progress.
  while (!stopped_by) {
    const double now = since_start();
    if (outage && !outage_on && !outage_done && now >= outage_from) {
      stats_at_outage_start = fetch_json("/api/stats");
      outage_on = set_edge_outage(true);
      std::printf("t=%5.1fs  edge outage begins\n", since_start());
      std::fflush(stdout);
      if (!outage_on) outage_done = true;
      continue;
    }
    if (outage_on && now >= outage_to) {
      set_edge_outage(false);
      stats_at_outage_end = fetch_json("/api/stats");
      outage_on = false;
      outage_done = true;
      std::printf("t=%5.1fs  edge recovers\n", since_start());
      std::fflush(stdout);
      continue;
    }
    if (now >= next_progress * duration_s / 10) {
      std::lock_guard lock(mu);
      std::string tiers;
      for (const auto& [t, n] : tier_now) tiers += fmt::format(" {} {}", t, n);
      const size_t errors = std::count_if(outcomes.begin(), outcomes.end(), [](const DemoOutcome& o) { return !o.answered; });
      std::printf("t=%5.1fs  sent %zu, answered %zu, errors %zu, in flight %zu; answers by tier:%s\n", now, next,
                  outcomes.size() - errors, errors, in_flight, tiers.empty() ? " -" : tiers.c_str());
      std::fflush(stdout);
      ++next_progress;
      continue;
    }
    if (next == plan.size() && outage_done && now >= duration_s) break;
    if (next < plan.size() && now >= plan[next].at_s) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return in_flight < kMaxInFlight; });
        ++in_flight;
      }
      const size_t index = next;
      Planned& p = plan[next++];
      const TimePoint sent = clock.Now();
      const double sent_s = ToSeconds(sent - start);
      const int use_case = p.use_case;
      const double deadline_ms = p.deadline_ms;
      const std::optional<double> ttft_deadline_ms = p.ttft_deadline_ms;
      const int64_t in_tokens = p.input_tokens, out_tokens = p.output_tokens;
      // Both callbacks run on the client's one thread, the first-body one before the reply's.
      auto first = std::make_shared<std::optional<TimePoint>>();
      p.call.on_first_body = [&clock, first] { *first = clock.Now(); };
      client.Send(std::move(p.call), [&, index, sent, sent_s, use_case, deadline_ms, ttft_deadline_ms, in_tokens, out_tokens, first](net::ClientReply r) {
        DemoOutcome o;
        o.index = index;
        o.input_tokens = in_tokens;
        o.output_tokens = out_tokens;
        o.sent_s = sent_s;
        o.latency_ms = ToMillis(clock.Now() - sent);
        if (*first) o.ttft_ms = ToMillis(**first - sent);
        o.use_case = use_case;
        if (auto t = r.Header("X-MEC-Tier"); !t.empty()) o.tier = std::string(t);
        o.attempts = std::atoi(std::string(r.Header("X-MEC-Attempts")).c_str());
        o.hedged = !r.Header("X-MEC-Hedged").empty();
        if (r.status == 200) {
          auto problem = AnswerProblem(r);
          o.answered = !problem;
          if (problem) o.error = std::move(*problem);
        } else {
          o.error = ErrorLine(r);
        }
        // As the simulator counts it (sim/simulator.cc, OnDone): within the deadline and, where the
        // use case has one, the first token within the TTFT deadline.
        o.met_deadline = o.answered && o.latency_ms <= deadline_ms && (!ttft_deadline_ms || (o.ttft_ms >= 0 && o.ttft_ms <= *ttft_deadline_ms));
        std::lock_guard lock(mu);
        if (o.answered) ++tier_now[o.tier];
        outcomes.push_back(std::move(o));
        --in_flight;
        cv.notify_all();
      });
      continue;
    }
    // Sleep until the next thing to do (at most 50 ms, to notice Ctrl-C).
    double wake = std::min(duration_s, next_progress * duration_s / 10);
    if (next < plan.size()) wake = std::min(wake, plan[next].at_s);
    if (outage && !outage_done) wake = std::min(wake, outage_on ? outage_to : outage_from);
    std::this_thread::sleep_for(std::chrono::duration<double>(std::clamp(wake - since_start(), 0.0, 0.05)));
    stopped_by = PollTerminationSignal();
  }
  if (stopped_by) {
    std::printf("t=%5.1fs  %s: stopped sending after %zu of %zu requests; waiting for those in flight\n", since_start(),
                stopped_by == SIGINT ? "SIGINT" : "SIGTERM", next, plan.size());
    if (outage_on) set_edge_outage(false);
  }
  const size_t sent = next;
  {
    std::unique_lock lock(mu);
    if (in_flight > 0) {
      std::printf("t=%5.1fs  all %zu sent; waiting for the %zu in flight\n", since_start(), sent, in_flight);
      std::fflush(stdout);
    }
    cv.wait(lock, [&] { return outcomes.size() == sent; });
  }
  const double run_s = since_start();
  const std::string stats_end = fetch_json("/api/stats");
  const std::string dash = fetch_json("/api/dashboard");

  // The summary. Every sent request has exactly one outcome: an answer or an error.
  size_t answered = 0, errors = 0, met = 0;
  std::map<std::string, size_t> by_tier, errors_by_tier;
  std::map<std::string, std::pair<size_t, double>> error_kinds;  // count, longest wait in ms
  for (const auto& o : outcomes) {
    if (o.answered) {
      ++answered;
      ++by_tier[o.tier];
    } else {
      ++errors;
      ++errors_by_tier[o.tier];
      auto& k = error_kinds[o.error];
      ++k.first;
      k.second = std::max(k.second, o.latency_ms);
    }
    met += o.met_deadline;
  }
  std::printf("\n== mecrouter demo summary (scenario %s, seed %llu, %g requests/s for %g s; last answer at %.1f s) ==\n",
              scenario->name.c_str(), static_cast<unsigned long long>(seed), rate, duration_s, run_s);
  std::printf("requests: sent %zu, answered %zu, errors %zu\n", sent, answered, errors);
  std::string tiers;
  for (const char* t : {"device", "edge", "cloud", "none"}) {
    if (!by_tier.count(t) && !errors_by_tier.count(t)) continue;
    tiers += fmt::format("  {} {} ({:.0f}%)", t, by_tier[t], answered ? 100.0 * static_cast<double>(by_tier[t]) / static_cast<double>(answered) : 0.0);
    if (errors_by_tier[t]) tiers += fmt::format(" +{} errors", errors_by_tier[t]);
  }
  std::printf("answered by tier:%s\n", tiers.c_str());
  for (const auto& [kind, n] : error_kinds)
    std::printf("  error: %zu x %s (the longest after %.1f s)\n", n.first, kind.c_str(), n.second / 1000);
  std::printf("deadline attainment: %zu of %zu (%.1f%%; answered within the use case's X-MEC-Deadline-Ms and X-MEC-TTFT-Deadline-Ms, "
              "measured by the client; errors miss)\n",
              met, sent, sent ? 100.0 * static_cast<double>(met) / static_cast<double>(sent) : 0.0);
  std::printf("%-27s %5s %8s %6s %9s %9s %9s %11s %8s\n", "use case", "sent", "answered", "errors", "p50 ms", "p95 ms", "TTFT p95",
              "deadline ms", "met");
  for (const DemoUseCase& u : SummarizeUseCases(*scenario, outcomes)) {
    if (u.requests == 0) continue;
    std::string p50 = "-", p95 = "-", ttft95 = "-", dl = fmt::format("{:.0f}", u.deadline_ms);
    if (u.answered) {
      p50 = fmt::format("{:.0f}", u.e2e_ms.p50);
      p95 = fmt::format("{:.0f}", u.e2e_ms.p95);
    }
    if (u.ttft_ms.n) ttft95 = fmt::format("{:.0f}", u.ttft_ms.p95);
    if (u.ttft_deadline_ms) dl += fmt::format(" ({:.0f})", *u.ttft_deadline_ms);
    std::printf("%-27s %5zu %8zu %6zu %9s %9s %9s %11s %7.0f%%\n", u.key.c_str(), u.requests, u.answered, u.requests - u.answered,
                p50.c_str(), p95.c_str(), ttft95.c_str(), dl.c_str(), 100.0 * u.attainment());
  }
  const double cost = JsonNumber(dash, {"cost", "total_usd"}), cloud_only = JsonNumber(dash, {"cost", "total_cloud_only_usd"});
  if (std::isnan(cost) || std::isnan(cloud_only))
    std::printf("cost: not available (GET /api/dashboard failed or has no cloud backend to compare with)\n");
  else
    std::printf("cost: $%.6f against $%.6f cloud-only (%.1f%% of it; GET /api/dashboard, cloud-only prices every answer at the cloud backend)\n",
                cost, cloud_only, cloud_only > 0 ? 100.0 * cost / cloud_only : 0.0);
  {  // Learning on the traffic (docs/learning.md): what the judge cost against the same traffic in the cloud.
    const std::string learn = fetch_json("/api/learning");
    const double spend = JsonNumber(learn, {"spend_usd"}), samples = JsonNumber(learn, {"samples"});
    const double rate = JsonNumber(learn, {"sample_rate"}), promotions = JsonNumber(learn, {"promotions"});
    if (!std::isnan(spend) && !std::isnan(cloud_only) && cloud_only > 0)
      std::printf("learning: %.0f verdicts at sample rate %.3f, %.0f models promoted; judge and reference spend $%.6f = %.2f%% of "
                  "the cloud-only cost (GET /api/learning)\n",
                  samples, rate, promotions, spend, 100.0 * spend / cloud_only);
  }
  const double failovers_total = JsonNumber(stats_end, {"failovers"});
  if (outage && !stats_at_outage_start.empty()) {
    size_t in_window = 0, away = 0, edge_answers = 0, window_errors = 0, edge_after = 0;
    for (const auto& o : outcomes) {
      if (o.sent_s >= outage_to && o.answered && o.tier == "edge") ++edge_after;
      if (o.sent_s < outage_from || o.sent_s >= outage_to) continue;
      ++in_window;
      if (!o.answered) ++window_errors;
      else if (o.tier == "edge") ++edge_answers;
      else if (o.failovers() > 0) ++away;  // a hedge alone is no failover
    }
    const double f0 = JsonNumber(stats_at_outage_start, {"failovers"});
    const double f1 = stats_at_outage_end.empty() ? failovers_total : JsonNumber(stats_at_outage_end, {"failovers"});
    std::printf("edge outage %.1f-%.1f s: %zu requests sent, %zu answered elsewhere after a failed attempt, %zu answered by edge, "
                "%zu errors; gateway failovers in the window: %.0f (GET /api/stats)\n",
                outage_from, outage_to, in_window, away, edge_answers, window_errors, f1 - f0);
    std::printf("failovers away from edge during the outage: %zu\n", away);
    std::printf("after the recovery: %zu requests answered by edge\n", edge_after);
  } else if (outage) {
    std::printf("edge outage: not injected (the run ended before it was due)\n");
  }
  std::printf("gateway: %s\n", stats_end.empty() ? "GET /api/stats failed" : stats_end.c_str());
  std::printf("dashboard: %s\n", dashboard.c_str());
  std::fflush(stdout);
  int exit_code = answered > 0 ? 0 : 1;
  if (flags.Has("json")) {
    const DemoRunInfo info{scenario->name, prompts->mode, seed, rate, duration_s, outage};
    std::ofstream out(*flags.Get("json"), std::ios::binary);
    out << DemoJson(info, *scenario, outcomes);
    if (!out) {
      std::fprintf(stderr, "mecrouter demo: cannot write %s\n", flags.Get("json")->c_str());
      exit_code = 1;
    }
  }

  if (flags.Has("keep-serving") && !stopped_by) {
    std::printf("\nstill serving at %s (try the curl commands of `mecrouter serve`); Ctrl-C stops it.\n", base.c_str());
    std::fflush(stdout);
    WaitForTerminationSignal();
  }
  edge_admin.reset();
  gateway.Shutdown(std::chrono::milliseconds(gateway.options().server.shutdown_grace_ms));
  stack.Stop();
  std::printf("mecrouter demo: stopped\n");
  return exit_code;
}

}  // namespace mec::cli
