#include "sim/simulator.h"

#include <algorithm>
#include <map>
#include <functional>
#include <cmath>
#include <memory>
#include <optional>

#include "api/request.h"
#include "backend/backend_monitor.h"
#include "backend/backend_pool.h"
#include "backend/engine_load_board.h"
#include "cache/model_placement.h"
#include "context/context_builder.h"
#include "context/use_cases.h"
#include "core/clock.h"
#include "core/rng.h"
#include "emulate/tier_model.h"
#include "gateway/request_flow.h"
#include "learn/output_tokens.h"
#include "learn/quality_feedback.h"
#include "route/predict.h"
#include "sim/client_engine.h"
#include "sim/client_network.h"
#include "sim/event_queue.h"
#include "backend/fleet_priors.h"
#include "backend/latency_estimator.h"
#include "sim/oracle_policy.h"
#include "sim/trace_reader.h"

namespace mec::sim {

const char* FailureReasonName(FailureReason r) {
  switch (r) {
    case FailureReason::kNone: return "none";
    case FailureReason::kNoBackend: return "no_backend";
    case FailureReason::kShed: return "shed";
    case FailureReason::kGaveUp: return "gave_up";
    case FailureReason::kDeadline: return "deadline";
    case FailureReason::kRateLimited: return "rate_limited";
    case FailureReason::kMidstream: return "midstream";
  }
  return "?";
}

double CloudReferenceCost(const SimInputs& in) {
  if (in.requests.empty()) return 0;
  double sum = 0;
  for (const auto& r : in.requests) sum += ExpectedCost(in.scenario.cloud_price, r.input_tokens, r.output_tokens, 0);
  return sum / static_cast<double>(in.requests.size());
}

namespace {


enum EvType : uint8_t { kArrival, kServerArrive, kFirstByte, kServerRelease, kDone, kFail, kTimeout, kHedge, kCut, kLoaded, kEnginePoll, kFleetPull };

struct Ev {
  EvType type = kArrival;
  uint8_t kind = 0;  // AttemptResult for kFail
  uint16_t status = 0;
  uint32_t id = 0;   // request (kArrival, kHedge), GPU server (kLoaded) or attempt
};

// An edge site's model placement (cache/model_placement.h), the attempts waiting for a model
// being loaded, and the site's running mean of answer lengths, per model.
struct SiteState {
  ModelPlacement placement;
  std::vector<std::vector<uint32_t>> pending;
  std::vector<double> answer_tokens;  // mean length of the answers this site finished
  std::vector<int64_t> answers;
};

struct AttemptRec {
  uint32_t req = 0;
  int backend = -1;
  int server = -1;             // TierModel index once it reached a server
  TimePoint sent{}, arrived{}, slot{}, first_server{}, first_client{};
  Duration per_token{0};
  double down_s = 0, extra_s = 0;
  int64_t tokens = 0;
  int64_t prefix = 0;          // a continuation: the answer's tokens the client had before it
  bool live = true, admitted = false, running = false, released = false, got_first = false;
  bool continuation = false;   // continues a cut stream (docs/continuation.md)
};

// A request being served: its context and its flow (gateway/request_flow.h), which refers to it.
struct LiveRequest {
  LiveRequest(const Engine& engine, RequestContext c) : ctx(std::move(c)), flow(engine, ctx, nullptr) {}
  RequestContext ctx;
  RequestFlow flow;
};

struct RequestRec {
  std::unique_ptr<LiveRequest> live;  // from the arrival until the request ends
  TimePoint start{};
  std::optional<double> deadline_ms, ttft_deadline_ms;
  const std::string* task_class = nullptr;
  std::vector<uint32_t> attempts;
  bool hedge_scheduled = false;
  bool done = false;
  int8_t cut_tier = -1;        // a continued answer: the tier whose stream was cut (its first part)
  uint8_t continuations = 0;
};

// One simulated run of one policy: every client's device and engine (gateway/engine.h), the
// edge sites' GPUs and the cloud as servers with queues, the network between them, and the
// event queue that drives them under the simulated clock.
class SimulatedDeployment final : public OracleTruth {
 public:
  SimulatedDeployment(const SimInputs& in, const Router& policy, uint64_t seed);
  PolicyRun Run();

  // OracleTruth, for the request being decided.
  OracleView View(int backend) const override;
  double ReferenceCost() const override { return reference_cost_; }

 private:
  // Backend layout of every client's pool: 0 device, 1..S edge sites (home site first), S + 1 cloud.
  int CloudBackend() const { return 1 + static_cast<int>(s_.edge_sites.size()); }
  int SiteOf(uint32_t client, int backend) const { return site_order_[in_.fleet[client].home_site][backend - 1]; }
  Tier TierOf(int backend) const { return backend == 0 ? Tier::kDevice : backend == CloudBackend() ? Tier::kCloud : Tier::kEdge; }
  int CloudServer() const { return static_cast<int>(servers_.size()) - 1; }
  int GpuServer(int site, int gpu) const { return static_cast<int>(in_.fleet.size()) + site_offset_[site] + gpu; }
  // The site's least-loaded GPU warm with `model`; -1 if none.
  int PickGpu(int site, int model) const;
  int SiteOfGpu(int server) const;
  int Busy(int server) const { return servers_[server].active() + servers_[server].queued(); }
  // Edge model placement: start loading `model` on the site's `slot` (after draining it).
  void StartLoad(int site, int slot, int model);
  void BeginLoad(int server);
  void OnLoaded(int server);
  // The attempt reached its edge site: to a warm GPU, or waiting for its model to load.
  void ArriveAtSite(uint32_t attempt, int site, int model);
  double ExtraRttMs(uint32_t client, int backend) const;

  void Push(TimePoint at, EvType t, uint32_t id, uint8_t kind = 0, uint16_t status = 0) { q_.Push(at, Ev{t, kind, status, id}); }
  TimePoint Now() const { return clock_.Now(); }

  void OnArrival(uint32_t req);
  void Handle(uint32_t req, FailoverAction act);
  RequestFlow& Flow(uint32_t req) { return reqs_[req].live->flow; }
  // `continue_after` >= 0: a continuation of a cut stream, after that many tokens of the answer.
  void StartAttempt(uint32_t req, int backend, int64_t continue_after = -1);
  void OnServerArrive(uint32_t attempt);
  void AdmitAt(uint32_t attempt);
  void StartService(uint32_t attempt, const ServicePlan& plan);
  void ReleaseServer(uint32_t attempt);
  void FailAttempt(uint32_t attempt, const AttemptFailure& f);
  void CancelAttempt(uint32_t attempt);
  void OnFirstByte(uint32_t attempt);
  void OnDone(uint32_t attempt);
  void OnCut(uint32_t attempt);
  // Mid-stream continuation: after attempt `cut` of request `req` broke, continue its answer on a
  // backend the flow picks (the device only while the client is offline). False: none.
  bool TryContinue(uint32_t req, const AttemptRec& cut, int64_t sent);
  // The attempt ended (not by failing before its first byte): what it taught, through the flow.
  void Record(uint32_t attempt, AttemptResult result);
  void EndAttempt(AttemptRec& at);
  void FinishFailed(uint32_t req, FailureReason why);
  // engine_signals: reads every edge site's queue (its GPUs' waiting and running requests, and the
  // attempts waiting for a model load) into the boards, as a vLLM /metrics poll would.
  void PollEngines();
  // Scenario fleet: the regional view, applied as priors by the clients of pull group `group`
  // (client index mod kFleetGroups).
  static constexpr uint32_t kFleetGroups = 10;
  void PullFleet(uint32_t group);
  void ObserveRegionally(const AttemptRec& at, const AttemptTiming& t);

  const SimInputs& in_;
  const Scenario& s_;
  const Router& policy_;
  OraclePolicy* oracle_ = nullptr;
  uint64_t seed_;
  double reference_cost_ = 0;
  ManualClock clock_;
  EventQueue<Ev> q_;
  std::vector<TierModel> servers_;       // devices (one per client), edge GPUs by site, the cloud
  std::vector<int> site_offset_;
  std::vector<SiteState> sites_;
  std::vector<TimePoint> load_done_;     // per server: when its model load ends (max: not started)
  int64_t model_loads_ = 0, cold_waits_ = 0;
  std::vector<std::vector<int>> site_order_;  // by home site: the client's edge backends' sites
  std::vector<TimePoint> device_busy_until_;
  // engine_signals: what the edge sites' engines say, one board per home site (its clients' pool
  // order: device, sites in site_order_[home], cloud), written by PollEngines. Declared before the
  // engines, whose monitors point at them, so that they outlive those.
  std::vector<std::unique_ptr<EngineLoadBoard>> boards_;
  // Prefix affinity (scenario prefix_cache): one index for every client, as a MEC site's regional
  // gateway keeps (it sees every request, so it forgets at the engines' pace; an index per client
  // believes its blocks are still cached while other clients' traffic evicts them).
  std::unique_ptr<PrefixIndex> prefix_index_;
  // Fleet state (scenario fleet): the regional gateway's own estimates of each shared backend (by
  // name), fed by every client's attempts with the client's network taken out, as a gateway at the
  // site would measure them. Its data alone: a view pooled from the clients' posteriors would feed
  // the fleet's own priors back into it.
  struct RegionalView {
    explicit RegionalView(Duration half_life)
        : ttft(LatencyPrior{0.3, 0.5, 0.01}, half_life), tpot(LatencyPrior{0.02, 0.5, 0.01}, half_life) {}
    LatencyEstimator ttft;
    LatencyEstimator tpot;
    std::string tier;
  };
  std::map<std::string, RegionalView> regional_;
  std::vector<std::unique_ptr<ClientEngine>> engines_;
  std::vector<std::unique_ptr<SimLearner>> learners_;  // per device class; empty: learning off
  Rng learn_rng_;
  int64_t learning_verdicts_ = 0;
  std::vector<ClientNetwork> nets_;
  std::vector<ParsedRequest> own_parsed_;
  const std::vector<ParsedRequest>* parsed_ = nullptr;  // one per prompt
  std::vector<AttemptRec> attempts_;
  std::vector<RequestRec> reqs_;
  std::vector<RequestOutcome> out_;
  uint32_t deciding_ = 0;                // the request the oracle's View() refers to
};

// A client's prefix index holds what one edge GPU's KV cache can (the largest site's GPU), in
// the trace's 512-token blocks: fixed by the calibration before anything is measured.
size_t PrefixIndexBlocks(const Scenario& s) {
  int64_t kv = 0;
  for (const auto& e : s.edge_sites) kv = std::max(kv, e.profile.kv_capacity_tokens);
  return static_cast<size_t>(std::max<int64_t>(1, kv / kMooncakeBlockTokens));
}

// The engine's view of a request's trace blocks: each 512-token id split into the engine's
// 16-token blocks (only the full ones the prompt covers). An id stands for its whole prefix, so
// (id, part) does too.
std::vector<uint64_t> EngineBlocks(const SimRequest& r) {
  std::vector<uint64_t> out;
  constexpr int kParts = kMooncakeBlockTokens / kPrefixBlockTokens;
  out.reserve(r.blocks.size() * kParts);
  int64_t left = r.input_tokens;
  for (uint64_t id : r.blocks) {
    for (int j = 0; j < kParts && left >= kPrefixBlockTokens; ++j, left -= kPrefixBlockTokens)
      out.push_back(Mix64(id * kParts + static_cast<uint64_t>(j)));  // one-to-one on (id, part)
    if (left < kPrefixBlockTokens) break;
  }
  return out;
}

TierProfile WithOutages(TierProfile p, const Scenario& s, const std::string& target) {
  const double d = s.ExpectedDurationS();
  for (const auto& o : s.outages) {
    if (o.target != target) continue;
    if (o.slowdown > 0) p.slow_windows.push_back({o.from * d, o.to * d, o.slowdown});
    else p.outage_windows.emplace_back(o.from * d, o.to * d);
  }
  return p;
}

SimulatedDeployment::SimulatedDeployment(const SimInputs& in, const Router& policy, uint64_t seed)
    : in_(in), s_(in.scenario), policy_(policy), seed_(seed), learn_rng_(seed, "learning/sample") {
  oracle_ = dynamic_cast<OraclePolicy*>(const_cast<Router*>(&policy));
  if (oracle_) oracle_->Reset();
  reference_cost_ = CloudReferenceCost(in);
  const TimePoint start{};
  // Servers: the one tier model for every device, GPU and the cloud.
  servers_.reserve(in.fleet.size() + 64);
  for (uint32_t c = 0; c < in.fleet.size(); ++c)
    servers_.emplace_back(s_.device_classes[in.fleet[c].device_class].profile, Rng(seed, "device/" + std::to_string(c)), start);
  int offset = 0;
  for (size_t si = 0; si < s_.edge_sites.size(); ++si) {
    const auto& site = s_.edge_sites[si];
    site_offset_.push_back(offset);
    TierProfile p = WithOutages(site.profile, s_, site.name);
    // With prefix caching the engine model keeps its prefix cache (and nothing to load: the
    // simulator's GPUs start warm).
    EngineFeatures features;
    if (s_.prefix_cache.enabled) {
      features.enabled = features.prefix_cache = true;
      p.load_ms = 0;
    }
    for (int g = 0; g < site.gpus; ++g) servers_.emplace_back(p, Rng(seed, site.name + "/gpu-" + std::to_string(g)), start, features);
    offset += site.gpus;
    const size_t models = s_.edge_models.size();
    sites_.push_back(SiteState{ModelPlacement(static_cast<int>(models), site.model_index, s_.placement.options, start),
                               std::vector<std::vector<uint32_t>>(models), std::vector<double>(models, 0.0),
                               std::vector<int64_t>(models, 0)});
  }
  servers_.emplace_back(WithOutages(s_.cloud, s_, "cloud"), Rng(seed, "cloud"), start);
  load_done_.assign(servers_.size(), TimePoint::max());
  device_busy_until_.assign(in.fleet.size(), start);
  for (int h = 0; h < static_cast<int>(s_.edge_sites.size()); ++h) site_order_.push_back(SiteOrder(s_, h));

  // The online learning loop: one learner per device class (sim/sim_learner.h).
  if (s_.learning.enabled && in.learning_base) {
    for (const auto& cls : s_.device_classes)
      learners_.push_back(std::make_unique<SimLearner>(in.learning_base, in.complexity, s_.learning,
                                                       DeviceQualityAssumption{cls.accuracy_ratio_mmlu, cls.joint_success_share}));
  }
  // One engine and one network per client.
  engines_.reserve(in.fleet.size());
  nets_.reserve(in.fleet.size());
  for (uint32_t c = 0; c < in.fleet.size(); ++c) {
    const auto& spec = in.fleet[c];
    const auto& cls = s_.device_classes[spec.device_class];
    ContextDefaults defaults;
    defaults.device_quality = {cls.accuracy_ratio_mmlu, cls.joint_success_share};
    QualityBudgetOptions qb;
    qb.margin = s_.quality_margin;
    engines_.push_back(std::make_unique<ClientEngine>(ClientBackends(s_, cls, s_.links[spec.link], spec.home_site), clock_,
                                                      learners_.empty() ? in.complexity : *learners_[spec.device_class],
                                                      defaults, seed, c, s_.max_attempts, qb));
    if (s_.feedback_rate > 0) engines_.back()->EnableFeedback();
    if (s_.prefix_cache.enabled && s_.prefix_cache.affinity) {
      // Every client lists the same backends in the same order (workload.cc: one home site).
      if (!prefix_index_) prefix_index_ = std::make_unique<PrefixIndex>(engines_.back()->pool.size(), PrefixIndexBlocks(s_));
      engines_.back()->engine.prefix_index = prefix_index_.get();
    }
    if (s_.engine_signals.enabled) {
      if (boards_.empty())
        for (size_t h = 0; h < s_.edge_sites.size(); ++h) boards_.push_back(std::make_unique<EngineLoadBoard>(s_.edge_sites.size() + 2));
      engines_.back()->monitor.SetEngineBoard(boards_[static_cast<size_t>(spec.home_site)].get());
    }
    nets_.emplace_back(s_.links[spec.link], cls, seed, c);
  }
  // What each prompt looks like to the gateway.
  if (!in.parsed) own_parsed_ = MakeParsedPrompts(in.prompts);
  parsed_ = in.parsed ? in.parsed : &own_parsed_;
  reqs_.resize(in.requests.size());
  out_.resize(in.requests.size());
  attempts_.reserve(in.requests.size() + in.requests.size() / 4);
}

int SimulatedDeployment::PickGpu(int site, int model) const {
  // The site's load balancer: among the GPUs warm with the model, the one with the fewest requests
  // (running + queued), lowest index.
  const ModelPlacement& pl = sites_[static_cast<size_t>(site)].placement;
  int best = -1, best_load = 1 << 30;
  for (int g = 0; g < s_.edge_sites[site].gpus; ++g) {
    if (pl.model_of(g) != model || pl.loading(g)) continue;
    const int load = Busy(GpuServer(site, g));
    if (load < best_load) {
      best_load = load;
      best = GpuServer(site, g);
    }
  }
  return best;
}

int SimulatedDeployment::SiteOfGpu(int server) const {
  int site = 0;
  while (site + 1 < static_cast<int>(site_offset_.size()) && GpuServer(site + 1, 0) <= server) ++site;
  return site;
}

void SimulatedDeployment::StartLoad(int site, int slot, int model) {
  sites_[static_cast<size_t>(site)].placement.Reserve(slot, model);
  ++model_loads_;
  const int server = GpuServer(site, slot);
  if (Busy(server) == 0) BeginLoad(server);  // else: once its last request is released
}

void SimulatedDeployment::BeginLoad(int server) {
  load_done_[static_cast<size_t>(server)] = Now() + FromSeconds(s_.placement.cold_start_s);
  Push(load_done_[static_cast<size_t>(server)], kLoaded, static_cast<uint32_t>(server));
}

void SimulatedDeployment::OnLoaded(int server) {
  const int site = SiteOfGpu(server);
  const int slot = server - GpuServer(site, 0);
  SiteState& ss = sites_[static_cast<size_t>(site)];
  const int model = ss.placement.model_of(slot);
  ss.placement.Assign(slot, model);
  load_done_[static_cast<size_t>(server)] = TimePoint::max();
  std::vector<uint32_t> waiting;
  waiting.swap(ss.pending[static_cast<size_t>(model)]);
  for (uint32_t attempt : waiting)
    if (attempts_[attempt].live) ArriveAtSite(attempt, site, model);
}

void SimulatedDeployment::ArriveAtSite(uint32_t attempt, int site, int model) {
  AttemptRec& at = attempts_[attempt];
  SiteState& ss = sites_[static_cast<size_t>(site)];
  if (servers_[GpuServer(site, 0)].InOutage(Now())) {  // the site answers 503 whatever it holds
    at.server = GpuServer(site, 0);
    AdmitAt(attempt);
    return;
  }
  at.server = PickGpu(site, model);
  if (at.server >= 0) {
    AdmitAt(attempt);
    return;
  }
  // No GPU is warm with the model: wait for the one loading it, or have one loaded.
  if (ss.placement.SlotsOf(model) == 0) {
    const int slot = ss.placement.ColdSlot(model, Now(), [&](int g) { return Busy(GpuServer(site, g)); });
    if (slot >= 0) StartLoad(site, slot, model);
  }
  ++cold_waits_;
  ss.pending[static_cast<size_t>(model)].push_back(attempt);  // until loaded, or the client's timeout
}

double SimulatedDeployment::ExtraRttMs(uint32_t client, int backend) const {
  if (TierOf(backend) != Tier::kEdge) return 0;
  const int site = SiteOf(client, backend);
  return site == in_.fleet[client].home_site ? 0 : s_.edge_sites[site].other_site_extra_rtt_ms;
}

PolicyRun SimulatedDeployment::Run() {
  for (uint32_t i = 0; i < in_.requests.size(); ++i) Push(TimePoint{} + FromSeconds(in_.requests[i].arrival_s), kArrival, i);
  if (s_.engine_signals.enabled) Push(TimePoint{}, kEnginePoll, 0);
  // Client-side gateways pull at their own moments: kFleetGroups groups at evenly spread phases.
  if (s_.fleet.enabled)
    for (uint32_t g = 0; g < kFleetGroups; ++g) Push(TimePoint{} + FromSeconds(s_.fleet.interval_s * (g + 1) / kFleetGroups), kFleetPull, g);
  uint64_t events = 0;
  while (!q_.empty()) {
    const auto e = q_.Pop();
    clock_.Set(e.at);
    ++events;
    const Ev& ev = e.payload;
    switch (ev.type) {
      case kArrival: OnArrival(ev.id); break;
      case kServerArrive: OnServerArrive(ev.id); break;
      case kFirstByte: OnFirstByte(ev.id); break;
      case kServerRelease: ReleaseServer(ev.id); break;
      case kDone: OnDone(ev.id); break;
      case kFail:
        if (attempts_[ev.id].live) {
          AttemptFailure f;
          f.result = static_cast<AttemptResult>(ev.kind);
          f.http_status = ev.status;
          if (f.result == AttemptResult::kRateLimited) f.retry_after_s = servers_[std::max(0, attempts_[ev.id].server)].RetryAfterSeconds();
          FailAttempt(ev.id, f);
        }
        break;
      case kTimeout:
        if (attempts_[ev.id].live && !attempts_[ev.id].got_first) FailAttempt(ev.id, {AttemptResult::kTimeout, 0, 0, "no first byte in time"});
        break;
      case kHedge: {
        RequestRec& r = reqs_[ev.id];
        if (!r.done && r.live) Handle(ev.id, r.live->flow.OnHedgeTimer());
        break;
      }
      case kCut: OnCut(ev.id); break;
      case kLoaded: OnLoaded(static_cast<int>(ev.id)); break;
      case kFleetPull:
        PullFleet(ev.id);
        // Until the last arrival has had its time (the other groups' pulls keep q_ from emptying).
        if (!in_.requests.empty() && ToSeconds(Now() - TimePoint{}) < in_.requests.back().arrival_s + 300)
          Push(Now() + FromSeconds(s_.fleet.interval_s), kFleetPull, ev.id);
        break;
      case kEnginePoll:
        PollEngines();
        if (!q_.empty()) Push(Now() + FromMillis(s_.engine_signals.poll_ms), kEnginePoll, 0);  // until the rest is done
        break;
    }
  }
  PolicyRun run;
  run.policy = std::string(policy_.name());
  run.outcomes = std::move(out_);
  run.events = events;
  run.simulated_s = ToSeconds(Now() - TimePoint{});
  run.model_loads = model_loads_;
  run.cold_waits = cold_waits_;
  run.learning_verdicts = learning_verdicts_;
  if (s_.prefix_cache.enabled) {
    for (int sv = GpuServer(0, 0); sv < CloudServer(); ++sv) {
      const EngineSnapshot e = servers_[static_cast<size_t>(sv)].Engine(Now(), false);
      run.prefix_query_tokens += e.prefix_queries;
      run.prefix_hit_tokens += e.prefix_hits;
    }
  }
  for (size_t d = 0; d < learners_.size(); ++d) run.learners.emplace_back(s_.device_classes[d].name, learners_[d]->stats());
  return run;
}

void SimulatedDeployment::PullFleet(uint32_t group) {
  FleetState st;
  for (auto& [name, v] : regional_) {
    FleetBackendState b;
    b.name = name;
    b.tier = v.tier;
    auto est = [&](const LatencyEstimator& e) {
      const LogNormalEstimate x = e.Estimate(Now());
      return FleetEstimate{std::exp(x.mu), x.sigma, x.n};
    };
    b.ttft = est(v.ttft);
    b.tpot = est(v.tpot);
    b.rtt = FleetEstimate{1e-3, 0.1, b.ttft.weight};  // measured at the site: the clients add their own network
    st.backends.push_back(std::move(b));
  }
  FleetApplyOptions o;
  o.max_weight = s_.fleet.max_weight;
  o.valid_for = FromSeconds(3 * s_.fleet.interval_s);
  o.down_for_unhealthy = FromSeconds(s_.fleet.interval_s);
  for (size_t c = group; c < engines_.size(); c += kFleetGroups) {
    ApplyFleetState(st, engines_[c]->pool, engines_[c]->monitor, o, Now());
    engines_[c]->monitor.Publish(Now());
  }
}

void SimulatedDeployment::ObserveRegionally(const AttemptRec& at, const AttemptTiming& t) {
  ClientEngine& eng = *engines_[in_.requests[at.req].client];
  const Backend& b = eng.pool.at(at.backend);
  if (b.tier() == Tier::kDevice || !t.first) return;
  RegionalView& v = regional_.try_emplace(b.name(), FromSeconds(s_.fleet.half_life_s)).first->second;
  v.tier = std::string(TierName(b.tier()));
  const BackendView& mine = eng.monitor.Current().backends[static_cast<size_t>(at.backend)];
  const double ttft = ToSeconds(*t.first - t.sent) - mine.rtt.Median();
  v.ttft.Observe(std::max(1e-3, ttft), Now());
  if (t.output_tokens > 1) v.tpot.Observe(ToSeconds(t.end - *t.first) / static_cast<double>(t.output_tokens - 1), Now());
}

void SimulatedDeployment::PollEngines() {
  std::vector<EngineLoad> site(s_.edge_sites.size());
  for (size_t si = 0; si < site.size(); ++si) {
    const auto& spec = s_.edge_sites[si];
    double waiting = 0, running = 0;
    for (int g = 0; g < spec.gpus; ++g) {
      const TierModel& m = servers_[static_cast<size_t>(GpuServer(static_cast<int>(si), g))];
      waiting += m.queued();
      running += m.active();
    }
    for (const auto& pending : sites_[si].pending) waiting += static_cast<double>(pending.size());
    EngineLoad& l = site[si];
    l.observed_at = Now();
    l.waiting = waiting;
    l.running = running;
    // The simulator knows the site's slots (vLLM does not report them): the queue wait divides
    // by them rather than by the backend's max_concurrency.
    l.total_slots = spec.gpus * spec.profile.max_concurrency;
  }
  for (size_t h = 0; h < boards_.size(); ++h)
    for (size_t k = 0; k < site_order_[h].size(); ++k) boards_[h]->Set(1 + k, site[static_cast<size_t>(site_order_[h][k])]);
}

void SimulatedDeployment::OnArrival(uint32_t req) {
  const SimRequest& r = in_.requests[req];
  ClientEngine& eng = *engines_[r.client];
  ClientNetwork& net = nets_[r.client];
  const UseCaseSpec& uc = s_.use_cases[r.use_case];
  const TimePoint now = Now();
  RequestRec& rr = reqs_[req];
  rr.start = now;

  // The hints the client sends: its use case, and what it knows of its network.
  Hints hints;
  hints.use_case = uc.key;
  NetworkView nv;
  if (net.Offline(now)) {
    nv.link = LinkType::kOffline;
  } else {
    nv.link = net.link().type;
    nv.rtt_edge_ms = net.link().rtt_edge_ms;
    nv.rtt_cloud_ms = net.link().rtt_cloud_ms;
    nv.down_mbps = net.link().down_mbps;
    nv.up_mbps = net.link().up_mbps;
  }
  hints.network = nv;
  auto ctx_or = eng.context.Build((*parsed_)[r.prompt], hints);
  if (std::holds_alternative<ApiError>(ctx_or)) {
    FinishFailed(req, FailureReason::kNoBackend);
    return;
  }
  RequestContext& ctx = std::get<RequestContext>(ctx_or);
  // Token counts drive latency and cost; the prompt drives quality (docs/simulator.md): the
  // request's length is the workload's, not the estimate of the labelled prompt's text.
  ctx.input_tokens = r.input_tokens;
  if (s_.prefix_cache.enabled && !r.blocks.empty()) {
    ctx.prompt_blocks = r.blocks;
    ctx.prompt_block_tokens = kMooncakeBlockTokens;
  }
  rr.deadline_ms = ctx.deadline_ms;
  rr.ttft_deadline_ms = ctx.ttft_deadline_ms;
  if (const UseCaseDefaults* u = FindUseCase(uc.key)) rr.task_class = &u->task_class;

  // The gateway publishes on a timer; a client engine at its requests, at most this often.
  if (now - eng.monitor.Current().taken >= FromMillis(s_.publish_interval_ms)) eng.monitor.Publish(now);
  deciding_ = req;
  if (oracle_) oracle_->SetTruth(this);
  rr.live = std::make_unique<LiveRequest>(eng.engine, std::move(ctx));
  for (int t = 0; t < 3; ++t) out_[req].tier_quality[static_cast<size_t>(t)] = static_cast<float>(rr.live->ctx.tier_quality[static_cast<size_t>(t)]);
  switch (Flow(req).Decide(policy_, eng.rng)) {
    case RequestFlow::Verdict::kRoute: {
      const Decision& d = Flow(req).decision();
      RequestOutcome& o = out_[req];
      o.chosen_quality = static_cast<float>(d.primary_quality);
      o.quality_bar = static_cast<float>(d.quality_gate.Bar());
      for (const Candidate& c : d.candidates)
        if (c.passed_filters) o.p_meet[static_cast<size_t>(c.tier)] = std::max(o.p_meet[static_cast<size_t>(c.tier)], static_cast<float>(c.p_meet));
      break;
    }
    case RequestFlow::Verdict::kShed: FinishFailed(req, FailureReason::kShed); return;
    case RequestFlow::Verdict::kNotFound:
    case RequestFlow::Verdict::kUnavailable: FinishFailed(req, FailureReason::kNoBackend); return;
  }
  Handle(req, Flow(req).Start());
}

void SimulatedDeployment::Handle(uint32_t req, FailoverAction act) {
  RequestRec& rr = reqs_[req];
  if (act.type == FailoverAction::kStartAttempt) {  // admitted by the flow
    StartAttempt(req, act.backend);
    if (!rr.hedge_scheduled) {
      if (auto at = Flow(req).HedgeAt()) {
        rr.hedge_scheduled = true;
        Push(*at, kHedge, req);
      }
    }
    return;
  }
  if (act.type == FailoverAction::kGiveUp) {
    FailureReason why = FailureReason::kGaveUp;
    if (act.error.http_status == 429) why = FailureReason::kRateLimited;
    else if (act.error.http_status == 504) why = FailureReason::kDeadline;
    FinishFailed(req, why);
  }
  // kWait: another attempt still runs.
}

void SimulatedDeployment::StartAttempt(uint32_t req, int backend, int64_t continue_after) {
  const SimRequest& r = in_.requests[req];
  ClientEngine& eng = *engines_[r.client];
  Backend& b = eng.pool.at(backend);
  b.in_flight.fetch_add(1, std::memory_order_relaxed);
  const uint32_t attempt = static_cast<uint32_t>(attempts_.size());
  attempts_.push_back(AttemptRec{});
  AttemptRec& at = attempts_.back();
  at.req = req;
  at.backend = backend;
  at.sent = Now();
  at.continuation = continue_after >= 0;
  at.prefix = std::max<int64_t>(0, continue_after);
  reqs_[req].attempts.push_back(attempt);
  const auto& to = b.options().timeouts;
  if (TierOf(backend) == Tier::kDevice) {
    // The client's gateway runs beside its device and sees its queue (llama.cpp's /slots,
    // docs/engines.md): a request waiting for the device's slot is queued, not hung. Its first-byte
    // timeout starts with its slot (StartService), so an offline vehicle behind its busy on-board
    // model is answered late rather than failed (issue 17).
    at.server = static_cast<int>(r.client);
    OnServerArrive(attempt);
    return;
  }
  ClientNetwork& net = nets_[r.client];
  if (net.Offline(Now())) {  // no coverage: the connection cannot be made
    Push(Now() + FromMillis(static_cast<double>(to.connect_ms)), kFail, attempt, static_cast<uint8_t>(AttemptResult::kConnect));
    return;
  }
  const double rtt = net.DrawRttS(TierOf(backend) == Tier::kCloud, ExtraRttMs(r.client, backend));
  at.down_s = rtt / 2;
  at.extra_s = net.DrawLossDelayS();
  Push(Now() + FromSeconds(rtt / 2 + net.UploadS(r.input_tokens)), kServerArrive, attempt);
  Push(Now() + FromMillis(static_cast<double>(to.first_byte_ms)), kTimeout, attempt);
}

void SimulatedDeployment::OnServerArrive(uint32_t attempt) {
  AttemptRec& at = attempts_[attempt];
  if (!at.live) return;
  at.arrived = Now();
  const SimRequest& r = in_.requests[at.req];
  const Tier t = TierOf(at.backend);
  if (t == Tier::kEdge) {
    // The site's placement agent sees the demand — work in decoded-token equivalents: the model's
    // mean answer length at this site so far (the request's own length is not known yet), plus
    // prefill at a tenth, as the edge price counts it, plus one — and may move a GPU.
    const int site = SiteOf(r.client, at.backend);
    const int model = s_.use_cases[r.use_case].edge_model_index;
    SiteState& ss = sites_[static_cast<size_t>(site)];
    if (!servers_[GpuServer(site, 0)].InOutage(Now())) {
      const double work = 1 + ss.answer_tokens[static_cast<size_t>(model)] + 0.1 * static_cast<double>(r.input_tokens);
      ss.placement.OnDemand(model, work, Now());
      if (auto mv = ss.placement.Replan(Now(), [&](int g) { return Busy(GpuServer(site, g)); })) StartLoad(site, mv->slot, mv->model);
    }
    ArriveAtSite(attempt, site, model);
    return;
  }
  if (t == Tier::kCloud) at.server = CloudServer();
  AdmitAt(attempt);
}

void SimulatedDeployment::AdmitAt(uint32_t attempt) {
  AttemptRec& at = attempts_[attempt];
  const SimRequest& r = in_.requests[at.req];
  WorkItem w;
  w.ticket = attempt;
  w.input_tokens = r.input_tokens + at.prefix;  // a continuation reads the partial answer too
  w.content_hash = r.prompt;
  w.output_tokens = std::max<int64_t>(0, r.output_tokens - at.prefix);
  if (s_.prefix_cache.enabled && at.server >= GpuServer(0, 0) && at.server < CloudServer()) w.prefix_blocks = EngineBlocks(r);
  ServicePlan plan;
  const Admission adm = servers_[at.server].Arrive(Now(), w, &plan);
  const TimePoint back = Now() + FromSeconds(at.down_s);
  switch (adm) {
    case Admission::kStarted:
      at.admitted = true;
      StartService(attempt, plan);
      break;
    case Admission::kQueued: at.admitted = true; break;
    case Admission::kLoading:  // engine flavors only (emulate --flavor); the simulator's models never load
    case Admission::kOutage: Push(back, kFail, attempt, static_cast<uint8_t>(AttemptResult::kServerError), 503); break;
    case Admission::kError: Push(back, kFail, attempt, static_cast<uint8_t>(AttemptResult::kServerError), 500); break;
    case Admission::kRateLimited:
    case Admission::kQueueFull: Push(back, kFail, attempt, static_cast<uint8_t>(AttemptResult::kRateLimited), 429); break;
  }
}

void SimulatedDeployment::StartService(uint32_t attempt, const ServicePlan& plan) {
  AttemptRec& at = attempts_[attempt];
  const TimePoint now = Now();
  at.running = true;
  at.slot = now;
  at.tokens = plan.output_tokens;
  at.per_token = plan.per_token;
  if (TierOf(at.backend) == Tier::kDevice) {
    const auto& to = engines_[in_.requests[at.req].client]->pool.at(at.backend).options().timeouts;
    Push(now + FromMillis(static_cast<double>(to.first_byte_ms)), kTimeout, attempt);
  }
  if (plan.hang) return;  // holds its slot until the client's timeout cancels it
  const SimRequest& r = in_.requests[at.req];
  at.first_server = now + plan.ttft;
  const TimePoint end_server = at.first_server + plan.per_token * std::max<int64_t>(0, plan.output_tokens - 1);
  if (TierOf(at.backend) == Tier::kDevice) device_busy_until_[r.client] = end_server;
  const bool remote = TierOf(at.backend) != Tier::kDevice;
  if (remote) at.extra_s += nets_[r.client].DrawHandoverDelayS(ToSeconds(at.first_server - at.sent) + at.down_s);
  const Duration lag = FromSeconds(at.down_s + at.extra_s);
  at.first_client = at.first_server + lag;
  const TimePoint done_client = end_server + lag;
  if (plan.drop_after >= 0) {
    const TimePoint cut = at.first_server + plan.per_token * plan.drop_after;
    Push(at.first_client, kFirstByte, attempt);
    Push(cut, kServerRelease, attempt);
    Push(cut + lag, kCut, attempt);
    return;
  }
  if (remote) {
    const TimePoint gap = nets_[r.client].NextGapStart(now);
    if (gap < at.first_client) {
      Push(gap, kFail, attempt, static_cast<uint8_t>(AttemptResult::kReset));
      return;  // the failure releases the server
    }
    if (gap < done_client) {
      Push(at.first_client, kFirstByte, attempt);
      Push(gap, kCut, attempt);
      return;
    }
  }
  Push(at.first_client, kFirstByte, attempt);
  Push(end_server, kServerRelease, attempt);
  Push(done_client, kDone, attempt);
}

void SimulatedDeployment::ReleaseServer(uint32_t attempt) {
  AttemptRec& at = attempts_[attempt];
  if (!at.admitted || at.released) return;
  at.released = true;
  const TimePoint now = Now();
  // Cost of what this attempt used: device energy over its busy time, edge GPU time and cloud
  // tokens for what was generated (input billed once it had a slot).
  if (at.running) {
    int64_t generated = 0;
    if (now >= at.first_server && at.first_server != TimePoint{}) {
      generated = at.tokens;
      if (at.per_token.count() > 0)
        generated = std::min<int64_t>(at.tokens, 1 + (now - at.first_server) / at.per_token);
    }
    const auto& o = engines_[in_.requests[at.req].client]->pool.at(at.backend).options();
    out_[at.req].cost_usd += ExpectedCost(o.price, in_.requests[at.req].input_tokens + at.prefix, static_cast<double>(generated), ToSeconds(now - at.slot));
    if (TierOf(at.backend) == Tier::kEdge && generated == at.tokens && at.tokens > 0) {
      // A whole answer: the site's mean answer length for the model (a running mean, then an EWMA).
      SiteState& ss = sites_[static_cast<size_t>(SiteOfGpu(at.server))];
      const auto m = static_cast<size_t>(s_.use_cases[in_.requests[at.req].use_case].edge_model_index);
      ++ss.answers[m];
      ss.answer_tokens[m] += (static_cast<double>(generated) - ss.answer_tokens[m]) * std::max(0.01, 1.0 / static_cast<double>(ss.answers[m]));
    }
  }
  auto started = servers_[at.server].Release(now, attempt);
  for (const auto& [w, plan] : started) StartService(static_cast<uint32_t>(w.ticket), plan);
  // An edge GPU draining for a model load starts loading once empty.
  if (TierOf(at.backend) == Tier::kEdge && load_done_[static_cast<size_t>(at.server)] == TimePoint::max() && Busy(at.server) == 0) {
    const int site = SiteOfGpu(at.server);
    if (sites_[static_cast<size_t>(site)].placement.loading(at.server - GpuServer(site, 0))) BeginLoad(at.server);
  }
}

void SimulatedDeployment::EndAttempt(AttemptRec& at) {
  at.live = false;
  engines_[in_.requests[at.req].client]->pool.at(at.backend).in_flight.fetch_sub(1, std::memory_order_relaxed);
}

void SimulatedDeployment::Record(uint32_t attempt, AttemptResult result) {
  const AttemptRec& at = attempts_[attempt];
  AttemptTiming t;
  t.sent = at.sent;
  if (at.got_first) t.first = at.first_client;
  t.end = Now();
  if (result == AttemptResult::kOk) t.output_tokens = at.tokens;
  if (s_.fleet.enabled && result == AttemptResult::kOk) ObserveRegionally(at, t);
  Flow(at.req).OnAttemptEnd(at.backend, result, t);
}

void SimulatedDeployment::FailAttempt(uint32_t attempt, const AttemptFailure& f) {
  AttemptRec& at = attempts_[attempt];
  EndAttempt(at);
  ReleaseServer(attempt);
  const uint32_t req = at.req;
  RequestRec& rr = reqs_[req];
  if (rr.done || !rr.live) {  // a straggler of a request that has ended: the monitor still learns
    BackendMonitor& monitor = engines_[in_.requests[req].client]->monitor;
    if (monitor.OnAttemptEnd(at.backend, AttemptOutcome{f.result, {}, {}, 0, ToSeconds(Now() - at.sent)}, Now())) monitor.Publish(Now());
    return;
  }
  if (at.continuation) {  // it never streamed: another may continue, or the answer is cut
    AttemptTiming t;
    t.sent = at.sent;
    t.end = Now();
    Flow(req).OnContinuationFailure(at.backend, f.result, t);
    if (!TryContinue(req, at, at.prefix)) FinishFailed(req, FailureReason::kMidstream);
    return;
  }
  Handle(req, Flow(req).OnFailure(at.backend, f, at.sent));
}

void SimulatedDeployment::CancelAttempt(uint32_t attempt) {
  AttemptRec& at = attempts_[attempt];
  if (!at.live) return;
  EndAttempt(at);
  ReleaseServer(attempt);
  Record(attempt, AttemptResult::kCancelled);
}

void SimulatedDeployment::OnFirstByte(uint32_t attempt) {
  AttemptRec& at = attempts_[attempt];
  if (!at.live || at.got_first) return;
  at.got_first = true;
  if (at.continuation) {  // the client had its first byte from the attempt that was cut
    ++reqs_[at.req].continuations;
    reqs_[at.req].live->flow.OnContinued(at.backend);
    return;
  }
  RequestRec& rr = reqs_[at.req];
  RequestOutcome& o = out_[at.req];
  o.ttft_ms = static_cast<float>(ToMillis(Now() - rr.start));
  o.answer_sent_ms = static_cast<float>(ToMillis(at.sent - rr.start));
  o.slot_wait_ms = static_cast<float>(ToMillis(at.slot - at.arrived));
  const std::vector<int> cancel = rr.live->flow.OnFirstByte(at.backend);
  for (int b : cancel)
    for (uint32_t other : rr.attempts)
      if (other != attempt && attempts_[other].backend == b && attempts_[other].live) CancelAttempt(other);
}

void SimulatedDeployment::OnDone(uint32_t attempt) {
  AttemptRec& at = attempts_[attempt];
  if (!at.live) return;
  ReleaseServer(attempt);
  EndAttempt(at);
  Record(attempt, AttemptResult::kOk);
  const uint32_t req = at.req;
  RequestRec& rr = reqs_[req];
  const SimRequest& r = in_.requests[req];
  const auto& item = in_.prompts.items[r.prompt];
  RequestOutcome& o = out_[req];
  const Tier t = TierOf(at.backend);
  o.completed = true;
  o.tier = static_cast<int8_t>(t);
  if (t == Tier::kEdge && at.server >= GpuServer(0, 0) && at.server < CloudServer()) o.site = static_cast<int8_t>(SiteOfGpu(at.server));
  auto correct_at = [&](Tier x) { return x == Tier::kCloud ? item.cloud_correct : x == Tier::kEdge ? item.edge_correct : r.device_correct; };
  o.correct = correct_at(t);
  // A continued answer is right only if both of its writers would have been (ASSUMPTION,
  // docs/continuation.md): the part before the seam came from the tier that was cut.
  if (rr.cut_tier >= 0) o.correct = o.correct && correct_at(static_cast<Tier>(rr.cut_tier));
  o.continued = rr.continuations;
  o.as_good = !(item.cloud_correct && !o.correct);
  // The online loop's judge is the data's labels: a sampled edge verdict teaches every device
  // class's learner (the edge is shared), a device verdict its own class's.
  if (!learners_.empty() && t != Tier::kCloud && learn_rng_.Bernoulli(s_.learning.sample_rate)) {
    ++learning_verdicts_;
    // The verdict's price: the cloud reference's answer to the same request. router_eval's prompts
    // are all checkable (a choice letter, a final number: learn/judge_protocol.h), so the verdict
    // is an exact match and no judge call is made; free-form traffic would add two judge calls.
    o.cost_usd += ExpectedCost(s_.cloud_price, r.input_tokens, r.output_tokens, 0);
    if (t == Tier::kEdge) {
      for (auto& l : learners_) l->AddVerdict(req, item.text, QualityClass::kEdge, o.correct, item.cloud_correct);
    } else {
      learners_[in_.fleet[r.client].device_class]->AddVerdict(req, item.text, QualityClass::kDevice, o.correct, item.cloud_correct);
    }
  }
  o.e2e_ms = static_cast<float>(ToMillis(Now() - rr.start));
  o.met_deadline = (!rr.deadline_ms || o.e2e_ms <= *rr.deadline_ms) && (!rr.ttft_deadline_ms || o.ttft_ms <= *rr.ttft_deadline_ms);
  // The user's feedback (POST /v1/feedback): was this answer as good as the strongest tier's?
  ClientEngine& eng = *engines_[r.client];
  if (eng.feedback && rr.task_class && eng.feedback_rng.Bernoulli(s_.feedback_rate))
    eng.feedback->Observe(eng.names[static_cast<size_t>(at.backend)], *rr.task_class, o.as_good ? 1.0 : 0.0);
  o.attempts = static_cast<uint8_t>(Flow(req).machine().attempt_count());
  o.hedges = static_cast<uint8_t>(Flow(req).machine().hedges());
  o.failovers = static_cast<uint8_t>(std::max(0, o.attempts - 1 - o.hedges));
  rr.done = true;
  rr.live.reset();
}

void SimulatedDeployment::OnCut(uint32_t attempt) {
  AttemptRec& at = attempts_[attempt];
  if (!at.live) return;
  EndAttempt(at);
  ReleaseServer(attempt);
  Record(attempt, AttemptResult::kMidstreamCut);
  // The tokens the client had when the stream broke (the server's, delayed by the link).
  int64_t sent = at.prefix;
  if (at.per_token.count() > 0 && at.got_first) {
    const Duration lag = FromSeconds(at.down_s + at.extra_s);
    sent += std::clamp<int64_t>((Now() - lag - at.first_server) / at.per_token, 1, std::max<int64_t>(1, at.tokens));
  } else if (at.got_first) {
    sent += 1;
  }
  const AttemptRec cut = at;  // StartAttempt may grow attempts_
  if (!TryContinue(cut.req, cut, sent)) FinishFailed(cut.req, FailureReason::kMidstream);
}

bool SimulatedDeployment::TryContinue(uint32_t req, const AttemptRec& cut, int64_t sent) {
  RequestRec& rr = reqs_[req];
  if (rr.done || !rr.live || s_.continue_tiers.empty()) return false;
  const SimRequest& r = in_.requests[req];
  const int b = Flow(req).PickContinuation(cut.backend, nets_[r.client].Offline(Now()));
  if (b < 0) return false;
  if (rr.cut_tier < 0) rr.cut_tier = static_cast<int8_t>(TierOf(cut.backend));
  StartAttempt(req, b, std::min<int64_t>(sent, r.output_tokens));
  return true;
}

void SimulatedDeployment::FinishFailed(uint32_t req, FailureReason why) {
  RequestRec& rr = reqs_[req];
  if (rr.done) return;
  RequestOutcome& o = out_[req];
  o.completed = false;
  o.failure = why;
  if (rr.live && rr.live->flow.routed()) {
    o.attempts = static_cast<uint8_t>(Flow(req).machine().attempt_count());
    o.hedges = static_cast<uint8_t>(Flow(req).machine().hedges());
    o.failovers = static_cast<uint8_t>(std::max(0, o.attempts - 1 - o.hedges));
  }
  // Anything still running for it is abandoned (the client gave up).
  for (uint32_t attempt : rr.attempts)
    if (attempts_[attempt].live) CancelAttempt(attempt);
  rr.done = true;
  rr.live.reset();
}

OracleView SimulatedDeployment::View(int backend) const {
  const SimRequest& r = in_.requests[deciding_];
  const auto& item = in_.prompts.items[r.prompt];
  const TimePoint now = Now();
  const Tier t = TierOf(backend);
  OracleView v;
  WorkItem w;
  w.input_tokens = r.input_tokens;
  w.output_tokens = r.output_tokens;
  const ClientEngine& eng = *engines_[r.client];
  const auto& o = eng.pool.at(backend).options();
  auto service = [&](const TierModel& m, double wait_s, double net_s) {
    const ServicePlan p = m.ExpectedPlan(w);
    v.ttft_s = wait_s + net_s + ToSeconds(p.ttft);
    v.latency_s = v.ttft_s + ToSeconds(p.per_token) * static_cast<double>(std::max<int64_t>(0, p.output_tokens - 1));
    v.cost_usd = ExpectedCost(o.price, r.input_tokens, static_cast<double>(p.output_tokens), v.latency_s - wait_s - net_s);
  };
  if (t == Tier::kDevice) {
    const TierModel& m = servers_[r.client];
    const ServicePlan p = m.ExpectedPlan(w);
    const double one = ToSeconds(p.ttft) + ToSeconds(p.per_token) * static_cast<double>(std::max<int64_t>(0, p.output_tokens - 1));
    double wait = 0;
    if (m.active() >= m.profile().max_concurrency) wait = std::max(0.0, ToSeconds(device_busy_until_[r.client] - now)) + m.queued() * one;
    service(m, wait, 0);
    v.correct = r.device_correct;
    v.as_good = !(item.cloud_correct && !v.correct);
    return v;
  }
  ClientNetwork& net = const_cast<ClientNetwork&>(nets_[r.client]);
  const bool offline = net.Offline(now);
  const double rtt = ((t == Tier::kCloud ? net.link().rtt_cloud_ms : net.link().rtt_edge_ms) + ExtraRttMs(r.client, backend)) / 1000.0;
  const double net_s = rtt + net.UploadS(r.input_tokens);
  double wait = 0;
  int server = CloudServer();
  if (t == Tier::kEdge) {
    // The GPU it would get; with its model warm nowhere, it waits for the load under way (or a
    // whole cold start, if none is), as ArriveAtSite does.
    const int site = SiteOf(r.client, backend);
    const int model = s_.use_cases[r.use_case].edge_model_index;
    server = PickGpu(site, model);
    if (server < 0) {
      const ModelPlacement& pl = sites_[static_cast<size_t>(site)].placement;
      double load_s = s_.placement.cold_start_s;
      server = GpuServer(site, 0);
      for (int g = 0; g < pl.slots(); ++g) {
        if (pl.model_of(g) != model || !pl.loading(g)) continue;
        const TimePoint done = load_done_[static_cast<size_t>(GpuServer(site, g))];
        load_s = done == TimePoint::max() ? s_.placement.cold_start_s : std::max(0.0, ToSeconds(done - now));
        server = GpuServer(site, g);
        break;
      }
      wait = load_s;
    }
  }
  const TierModel& m = servers_[server];
  if (m.active() >= m.profile().max_concurrency) {
    const ServicePlan p = m.ExpectedPlan(w);
    wait += (m.queued() + 1) * ToSeconds(p.ttft + p.per_token * p.output_tokens) / m.profile().max_concurrency;
  }
  service(m, wait, net_s);
  v.up = !offline && !m.InOutage(now);
  v.correct = t == Tier::kCloud ? item.cloud_correct : item.edge_correct;
  v.as_good = !(item.cloud_correct && !v.correct);
  return v;
}

}  // namespace

std::vector<ParsedRequest> MakeParsedPrompts(const PromptSet& prompts) {
  std::vector<ParsedRequest> out;
  out.reserve(prompts.items.size());
  for (const auto& p : prompts.items) {
    ParsedRequest r;
    r.model = "auto";
    r.stream = true;
    r.text = p.text;
    r.last_user_text = p.text;
    r.message_count = 1;
    out.push_back(std::move(r));
  }
  return out;
}

PolicyRun RunPolicy(const SimInputs& in, const Router& policy, uint64_t seed) {
  SimulatedDeployment deployment(in, policy, seed);
  return deployment.Run();
}

}  // namespace mec::sim
