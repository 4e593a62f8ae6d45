// The dashboard's live statistics on the request path (issue 6: the monitor must cost little):
// one LiveStats::OnOutcome per finished request, single-threaded and from 4 threads at once, and
// one View() as GET /api/dashboard computes it every second with a full 5-minute window.

#include <benchmark/benchmark.h>

#include "core/clock.h"
#include "dashboard/live_stats.h"
#include "telemetry/request_record.h"

namespace mec {
namespace {

std::vector<LiveBackend> Backends() {
  PriceOptions cloud;
  cloud.input_per_1m = 2.5;
  cloud.output_per_1m = 10;
  return {{"phone", Tier::kDevice, {}}, {"mec", Tier::kEdge, {}}, {"api", Tier::kCloud, cloud}};
}

RequestRecord Record(int i) {
  RequestRecord r;
  r.id = "dec-0123456789abcdef";
  r.policy = "adaptive";
  r.reason = "edge meets quality 0.84>=0.80 and p(meet)=0.99 at $0.000006";
  r.backend = i % 3;
  r.status = RequestStatus::kOk;
  r.http_status = 200;
  r.ttft_s = 0.1 + 0.001 * (i % 100);
  r.latency_s = 0.5 + 0.01 * (i % 100);
  r.input_tokens = 300;
  r.output_tokens = 120;
  r.cost_usd = 0.0001;
  return r;
}

void BM_OnOutcome(benchmark::State& state) {
  static SystemClock clock;
  static LiveStats* live = new LiveStats(LiveStatsOptions{}, Backends(), clock);  // shared by the threads
  const RequestRecord r = Record(state.thread_index());
  for (auto _ : state) live->OnOutcome(r);
}
BENCHMARK(BM_OnOutcome)->Threads(1)->Threads(4)->UseRealTime();

void BM_View(benchmark::State& state) {
  ManualClock clock;
  LiveStats live(LiveStatsOptions{}, Backends(), clock);
  // 300 s at 200 requests/s: every bucket and reservoir full.
  for (int s = 0; s < 300; ++s) {
    for (int i = 0; i < 200; ++i) live.OnOutcome(Record(i));
    clock.Advance(std::chrono::seconds(1));
  }
  for (auto _ : state) benchmark::DoNotOptimize(live.View(clock.Now(), 50));
}
BENCHMARK(BM_View)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mec
