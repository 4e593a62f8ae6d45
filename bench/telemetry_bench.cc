// The Monitor's cost on the request path (issue 6: "the decision log and metrics cost little"):
// one request's telemetry calls as the gateway makes them — Begin, OnDecision (3 tiers x 10
// backends of candidates), OnAttempt, OnFirstByte, OnOutcome — with the decision log off and on.
// With the log on, the background writer runs on its own thread; what is measured is the request
// thread's time, with the writer draining each batch of 256 outside the timed region (as in
// service, where requests come slower than the writer writes). A scrape (MetricsText) is
// measured apart.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <unistd.h>

#include "context/request_context.h"
#include "route/router.h"
#include "telemetry/telemetry.h"

namespace mec {
namespace {

std::vector<BackendOptions> Backends() {
  std::vector<BackendOptions> v;
  for (int t = 0; t < 3; ++t) {
    for (int i = 0; i < 10; ++i) {
      BackendOptions b;
      b.tier = static_cast<Tier>(t);
      b.name = std::string(TierName(b.tier)) + "-" + std::to_string(i);
      b.url = "http://127.0.0.1:1/v1";
      b.models = {"m"};
      if (t == 2) b.price.input_per_1m = 2.5, b.price.output_per_1m = 10;
      v.push_back(b);
    }
  }
  return v;
}

void BM_RequestTelemetry(benchmark::State& state) {
  const bool log = state.range(0) != 0;
  SystemClock clock;
  BackendPool pool(Backends());
  TelemetryOptions o;
  const std::string path = "/tmp/mec_telemetry_bench_" + std::to_string(::getpid()) + ".db";
  if (log) {
    o.decision_log.path = path;
    o.decision_log.queue = 1 << 20;
  }
  auto t = Telemetry::Create(o, pool, {"adaptive", "cloud-only"}, clock);
  if (!t.ok()) {
    state.SkipWithError(t.status().message().c_str());
    return;
  }
  RequestContext ctx;
  ctx.model = "auto";
  ctx.input_tokens = 300;
  ctx.output_tokens = 120;
  ctx.deadline_ms = 1500;
  ctx.task_class = "chat";
  Decision d;
  d.policy = "adaptive";
  d.reason = "edge-3 meets quality 0.84>=0.80 and p(meet)=0.99 at $0.000006";
  for (int b = 0; b < 30; ++b) {
    Candidate c;
    c.backend = b;
    c.tier = static_cast<Tier>(b / 10);
    c.ttft_s = 0.2;
    c.latency_s = 1.1;
    d.candidates.push_back(c);
  }
  d.chain = {13, 23, 3};
  uint64_t n = 0;
  for (auto _ : state) {
    RequestRecord r = (*t)->Begin("dec-0000000000000000");
    (*t)->OnDecision(r, ctx, d, std::chrono::microseconds(3));
    (*t)->OnAttempt(r, 13, AttemptResult::kOk, false, false);
    (*t)->OnFirstByte(r);
    r.output_tokens = 100;
    (*t)->OnOutcome(std::move(r), RequestStatus::kOk, 200);
    // A gateway sends rows far slower than this loop (the writer keeps up at ~50-100k rows/s):
    // let the writer drain each batch, outside the timed region, so the queue stays as short as
    // in service instead of growing by millions of records.
    if (log && ++n % 256 == 0) {
      state.PauseTiming();
      (*t)->Flush();
      state.ResumeTiming();
    }
  }
  (*t)->Close();
  if (log) {
    const auto s = (*t)->decision_log()->stats();
    state.counters["written"] = static_cast<double>(s.written);
    state.counters["dropped"] = static_cast<double>(s.dropped);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}
BENCHMARK(BM_RequestTelemetry)->Arg(0)->Arg(1)->ArgName("decision_log");

void BM_MetricsScrape(benchmark::State& state) {
  SystemClock clock;
  BackendPool pool(Backends());
  auto t = Telemetry::Create(TelemetryOptions{}, pool, {"adaptive", "cloud-only"}, clock);
  PoolSnapshot snap;
  snap.backends.resize(30);
  for (auto _ : state) benchmark::DoNotOptimize((*t)->MetricsText(&snap));
}
BENCHMARK(BM_MetricsScrape);

}  // namespace
}  // namespace mec
