#!/usr/bin/env python3
"""How far issue 14's two missed targets are, and why (docs/simulator.md, "How far the two missed
targets are"). Reads one `mecrouter simulate --outcomes FILE.csv` dump holding adaptive, cloud-only
and oracle and prints, for that run:

  1. where adaptive's time-critical (TC) TTFT p95 comes from: its TC answers slower than 0.6x
     cloud-only's p95, by use case, tier and cause;
  2. lower bounds on the TC TTFT p95 of any routing: each request's first token on every tier with
     nothing queued, drawn as the simulator draws it (link round trip, loss, server jitter), under
     quality and deadline rules (hindsight on the draws or not; labels or the complexity model's
     predictions; the contract's minimum or adaptive's class target; adaptive's P(meet) rule, with
     its own or a calibrated P(meet));
  3. the U gap between adaptive and the oracle per use case (the correct-in-time and the cost terms);
  4. a ladder of offline routings from the oracle's information down to adaptive's, each scored with
     the labels, to say what the gap to the oracle is made of.

Offline figures assume nothing is queued and are therefore optimistic: bounds in the routing's
favour. Python 3 standard library only. Usage:
  scripts/sim_bounds.py OUTCOMES.csv [--draws K] [--margin 0.25] [--deadline-target 0.9] [--seed S]
The last line is `SUMMARY {json}` (scripts/sim_bounds.sh collects it over the 10 runs).
"""
import argparse
import bisect
import collections
import csv
import json
import math
import random
import sys

TIERS = ("device", "edge", "cloud")


def pct(v, p):
    """Nearest-rank percentile, as the simulator's metrics compute it."""
    v = sorted(v)
    if not v:
        return 0.0
    return v[max(0, math.ceil(p * len(v)) - 1)]


def num(x):
    return float(x) if x != "" else None


class Req:
    """One request: what the workload drew, the labels, each tier's idle timing and cost, and what
    adaptive predicted for it."""

    __slots__ = ("i", "client", "uc", "deadline", "ttft_deadline", "min_q", "cls", "offline", "up", "dev_ttft",
                 "dec", "srv", "rtt", "sigma", "upload", "loss", "rto", "jit", "cost", "correct", "as_good", "q",
                 "p_meet", "tc", "out", "p_cal")

    def __init__(self, r):
        self.i = int(r["request"])
        self.client = int(r["client"])
        self.uc = r["use_case"]
        self.deadline = num(r["deadline_ms"])
        self.ttft_deadline = num(r["ttft_deadline_ms"])
        self.min_q = float(r["min_quality"])
        self.cls = r["client_class"]
        self.tc = self.deadline is not None and self.deadline <= 3000
        self.offline = r["offline"] == "1"
        self.up = {"device": True, "edge": r["edge_up"] == "1" and not self.offline,
                   "cloud": r["cloud_up"] == "1" and not self.offline}
        # Idle server TTFT (before jitter), decode time, link median RTT, per tier.
        self.srv = {"device": float(r["device_ttft_ms"]), "edge": float(r["edge_server_ttft_ms"]),
                    "cloud": float(r["cloud_server_ttft_ms"])}
        self.rtt = {"device": 0.0, "edge": float(r["edge_rtt_ms"]), "cloud": float(r["cloud_rtt_ms"])}
        self.upload = float(r["upload_ms"])
        self.dec = {"device": float(r["device_e2e_ms"]) - self.srv["device"],
                    "edge": float(r["edge_e2e_ms"]) - self.srv["edge"] - self.rtt["edge"] - self.upload,
                    "cloud": float(r["cloud_e2e_ms"]) - self.srv["cloud"] - self.rtt["cloud"] - self.upload}
        self.sigma = float(r["rtt_sigma"])
        self.loss = float(r["loss"])
        self.rto = float(r["rto_ms"])
        self.jit = {t: float(r[t + "_jitter"]) for t in TIERS}
        self.cost = {t: float(r[t + "_cost_usd"]) for t in TIERS}
        cc = r["cloud_correct"] == "1"
        self.correct = {"device": r["device_correct"] == "1", "edge": r["edge_correct"] == "1", "cloud": cc}
        self.as_good = {t: not (cc and not self.correct[t]) for t in TIERS}
        self.q = {"device": float(r["q_device"]), "edge": float(r["q_edge"]), "cloud": 1.0}
        self.p_meet = {t: float(r["p_meet_" + t]) for t in TIERS}
        self.out = int(r["output_tokens"])
        self.p_cal = None  # calibrated_p_meet

    def tiers(self):
        return [t for t in TIERS if self.up[t]]


class Outcome:
    __slots__ = ("completed", "tier", "ttft", "ok", "correct", "in_time", "cost", "as_good", "sent", "wait", "bar", "p_meet_edge", "q_edge")

    def __init__(self, r):
        self.completed = r["completed"] == "1"
        self.tier = r["tier"]
        self.ttft = float(r["ttft_ms"])
        self.correct = self.completed and r["correct"] == "1"
        self.in_time = self.completed and r["met_deadline"] == "1"
        self.ok = self.correct and self.in_time
        self.cost = float(r["cost_usd"])
        self.as_good = r["as_good"] == "1"
        self.sent = float(r["answer_sent_ms"])
        self.wait = float(r["slot_wait_ms"])
        self.bar = float(r["quality_bar"])
        self.p_meet_edge = float(r["p_meet_edge"])
        self.q_edge = float(r["q_edge"])


def load(path):
    reqs, out = {}, collections.defaultdict(dict)
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            pol = r["policy"]
            if pol not in ("adaptive", "cloud-only", "oracle"):
                continue
            i = int(r["request"])
            if i not in reqs:
                reqs[i] = Req(r)
            out[pol][i] = Outcome(r)
    missing = {"adaptive", "cloud-only", "oracle"} - set(out)
    if missing:
        sys.exit(f"sim_bounds: {path} has no rows for {', '.join(sorted(missing))} (run simulate with --policy adaptive,cloud-only,oracle)")
    n = len(reqs)
    return [reqs[i] for i in range(n)], {p: [o[i] for i in range(n)] for p, o in out.items()}


class Draws:
    """The simulator's noise around the idle timing: per attempt, RTT ~ median x exp(sigma Z), one RTO
    with the link's loss, server TTFT x lognormal jitter of mean 1 (sim/client_network.cc,
    emulate/tier_model.cc). Handovers are left out (in the routing's favour)."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def jitter(self, s):
        return math.exp(s * self.rng.gauss(0, 1) - s * s / 2) if s > 0 else 1.0

    def ttft(self, r, t, extra_rtt=0.0):
        if t == "device":
            return r.srv["device"] * self.jitter(r.jit["device"])
        rto = r.rto if self.rng.random() < r.loss else 0.0
        return (r.rtt[t] + extra_rtt) * math.exp(r.sigma * self.rng.gauss(0, 1)) + r.upload + r.srv[t] * self.jitter(r.jit[t]) + rto


def lagrange(items, need):
    """items: per request a list of options (g, v); picks one option per request to maximise sum v
    subject to sum g >= need, by the Lagrangian (argmax v + lam g, lam the smallest that meets the
    constraint; exact up to the last request switched). Returns the chosen option index per item."""
    choice, events, g_sum = [], [], 0.0
    for k, opts in enumerate(items):
        cur = max(range(len(opts)), key=lambda j: (opts[j][1], opts[j][0]))
        choice.append(cur)
        g_sum += opts[cur][0]
        lam = 0.0
        while True:  # the upper hull of (g, v), walked towards higher g
            best, best_lam = None, None
            for j, (g, v) in enumerate(opts):
                if g <= opts[cur][0] + 1e-12:
                    continue
                sw = (opts[cur][1] - v) / (g - opts[cur][0])
                if best is None or sw < best_lam - 1e-15 or (abs(sw - best_lam) <= 1e-15 and g > opts[best][0]):
                    best, best_lam = j, sw
            if best is None:
                break
            best_lam = max(best_lam, lam)
            events.append((best_lam, k, cur, best))
            cur, lam = best, best_lam
    if g_sum >= need - 1e-9:
        return choice
    events.sort(key=lambda e: e[0])
    for lam, k, frm, to in events:
        if choice[k] != frm:
            continue
        choice[k] = to
        g_sum += items[k][to][0] - items[k][frm][0]
        if g_sum >= need - 1e-9:
            break
    return choice


def calibrated_p_meet(reqs, k, sigma, target_seed):
    """What a perfectly calibrated P(meet) would say: the chance the request is in time on each tier,
    knowing its input tokens and link but not its answer's length (drawn from its use case's lognormal
    around the run's mean length, sigma = the scenario's token_sigma), nothing queued. Sets r.p_cal."""
    dr = Draws(target_seed)
    mean_out = collections.defaultdict(list)
    per_token = collections.defaultdict(list)
    for r in reqs:
        mean_out[r.uc].append(r.out)
        if r.out > 1:
            for t in TIERS:
                per_token[(t, r.cls)].append(r.dec[t] / (r.out - 1))
    mean_out = {uc: sum(v) / len(v) for uc, v in mean_out.items()}
    per_token = {key: pct(v, 0.5) for key, v in per_token.items()}
    mu = {uc: math.log(m) - sigma * sigma / 2 for uc, m in mean_out.items()}
    for r in reqs:
        p = {}
        for t in r.tiers():
            met = 0
            for _ in range(k):
                ttft = dr.ttft(r, t)
                out = max(1, round(math.exp(dr.rng.gauss(mu[r.uc], sigma))))
                e2e = ttft + per_token[(t, r.cls)] * (out - 1)
                met += (r.deadline is None or e2e <= r.deadline) and (r.ttft_deadline is None or ttft <= r.ttft_deadline)
            p[t] = met / k
        r.p_cal = p


def by_class(reqs, idx=None):
    groups = collections.defaultdict(list)
    for k in idx if idx is not None else range(len(reqs)):
        groups[reqs[k].uc].append(k)
    return groups


# ---------------------------------------------------------------------------------------------
# 1. Adaptive's TC TTFT tail


def ttft_tail(reqs, out, T):
    a = out["adaptive"]
    tc = [k for k, r in enumerate(reqs) if r.tc and a[k].completed]
    n = len(tc)
    cells = collections.Counter()
    slow = collections.Counter()
    causes = collections.Counter()
    for k in tc:
        o, r = a[k], reqs[k]
        cells[(r.uc, o.tier)] += 1
        if o.ttft <= T:
            continue
        slow[(r.uc, o.tier)] += 1
        if o.sent > 0:
            cause = "after a failover or as a hedge"
        elif o.wait > 10:
            cause = "queued or waiting for a model load"
        elif o.tier == "cloud":
            edge_feasible = o.p_meet_edge >= 0
            if not edge_feasible:
                cause = "cloud: the edge was down or filtered"
            elif o.p_meet_edge < DEADLINE_TARGET:
                cause = "cloud: edge P(meet) below the deadline target"
            elif o.q_edge + 1e-9 < o.bar:
                cause = "cloud: edge quality below the class bar"
            else:
                cause = "cloud: other"
        elif o.tier == "device":
            cause = "device: offline (coverage gap)" if r.offline else "device: other"
        else:
            cause = "edge: prefill >= T/2" if r.srv["edge"] >= T / 2 else "edge: network (RTT tail, loss, handover)"
        causes[cause] += 1
    print(f"\n1. adaptive's TC answers slower than 0.6x cloud-only's p95 ({T:.0f} ms): {sum(slow.values())} of {n} "
          f"({100 * sum(slow.values()) / n:.2f}%; p95 <= {T:.0f} ms needs <= 5%)")
    print(f"   {'use case':28s} {'tier':6s} {'answers':>8s} {'slower':>7s} {'% of TC':>8s}")
    for key in sorted(cells):
        print(f"   {key[0]:28s} {key[1]:6s} {cells[key]:8d} {slow[key]:7d} {100 * slow[key] / n:8.2f}")
    print("   by cause:")
    for c, v in causes.most_common():
        print(f"     {c:50s} {v:6d} ({100 * v / n:.2f}% of TC)")
    return sum(slow.values()) / n, {c: v / n for c, v in causes.items()}


# ---------------------------------------------------------------------------------------------
# 2. TTFT bounds


class TtftOptions:
    """Per TC request, K draws of its first token on each tier that is up (the home edge site and the
    other one 15 ms further), and the hedged pairs (both sent at once, the first byte wins)."""

    PAIRS = (("edge", "edge2"), ("edge", "cloud"), ("device", "edge"), ("device", "cloud"))

    def __init__(self, reqs, idx, k, seed):
        dr = Draws(seed)
        self.idx, self.k = idx, k
        self.opts = []      # per request: list of (sorted draws, {tier: share of wins})
        self.one = []       # per request: one draw per tier (the clairvoyant bound)
        for i in idx:
            r = reqs[i]
            tiers = r.tiers()
            names = list(tiers) + (["edge2"] if "edge" in tiers else [])
            d = [{t: dr.ttft(r, "edge" if t == "edge2" else t, 15.0 if t == "edge2" else 0.0) for t in names} for _ in range(k)]
            o = [(sorted(x[t] for x in d), {("edge" if t == "edge2" else t): 1.0}) for t in names]
            for a, b in self.PAIRS:
                if a in names and b in names:
                    wa = sum(x[a] <= x[b] for x in d) / k
                    ta, tb = ("edge" if a == "edge2" else a), ("edge" if b == "edge2" else b)
                    share = collections.Counter()
                    share[ta] += wa
                    share[tb] += 1 - wa
                    o.append((sorted(min(x[a], x[b]) for x in d), dict(share)))
            self.opts.append(o)
            self.one.append({t: v for t, v in d[0].items()})


def q_of(rule, r, t):
    if rule == "labels":
        return 1.0 if r.as_good[t] else 0.0
    return r.q[t]


def slow_expected(reqs, to, T, rule, margin, deadline_rule=False):
    """Non-clairvoyant: the fewest expected TC answers slower than T, choosing per request one tier or
    one hedged pair from its TTFT distribution, with each class's quality rule held. With
    `deadline_rule`, only tiers adaptive predicted to meet the deadline with P >= the deadline target
    (when any was) may serve, as adaptive's picker requires."""
    total, per = 0.0, {}
    groups = collections.defaultdict(list)
    for j, i in enumerate(to.idx):
        groups[reqs[i].uc].append(j)
    for uc, js in groups.items():
        m = reqs[to.idx[js[0]]].min_q
        tau = m + margin * (1 - m)
        items = []
        for j in js:
            r = reqs[to.idx[j]]
            allowed = set(r.tiers())
            if deadline_rule:
                pm = r.p_meet if deadline_rule == "adaptive" else r.p_cal
                allowed = {t for t in allowed if pm.get(t, -1) >= DEADLINE_TARGET} or allowed
            items.append([(sum(w * q_of(rule, r, t) for t, w in share.items()), bisect.bisect_right(d, T) / to.k)
                          for d, share in to.opts[j] if set(share) <= allowed])
        ch = lagrange(items, tau * len(js))
        s = sum(1 - items[x][c][1] for x, c in enumerate(ch))
        per[uc] = s
        total += s
    return total, per


def slow_clairvoyant(reqs, to, T):
    """Clairvoyant (hindsight on the draws and the labels): per class, requests with an as-good tier
    under T are fast; with none under T they are slow anyway (and go where the answer is as good);
    the rest are fast only where the answer is not as good, and enough of them are sent to a slow
    as-good tier to keep the share >= the minimum."""
    total = 0
    groups = collections.defaultdict(list)
    for j, i in enumerate(to.idx):
        groups[reqs[i].uc].append(j)
    for uc, js in groups.items():
        good, slow, flexible = 0, 0, 0
        for j in js:
            r = reqs[to.idx[j]]
            d = {}
            for t, v in to.one[j].items():  # the better of the two edge sites
                name = "edge" if t == "edge2" else t
                d[name] = min(d.get(name, math.inf), v)
            fast = [t for t, v in d.items() if v <= T]
            if not fast:
                slow += 1
                good += any(r.as_good[t] for t in d)
            elif any(r.as_good[t] for t in fast):
                good += 1
            else:
                flexible += any(r.as_good[t] for t in d)
        need = math.ceil(reqs[to.idx[js[0]]].min_q * len(js) - 1e-9)
        total += slow + min(flexible, max(0, need - good))
    return total


def lowest_t(fn, allowed, lo, hi, steps=12):
    for _ in range(steps):
        mid = (lo + hi) / 2
        if fn(mid) <= allowed:
            hi = mid
        else:
            lo = mid
    return hi


# ---------------------------------------------------------------------------------------------
# 3 and 4. U


def u_terms(reqs, outs, norm):
    """Per use case, the correct-in-time and the cost terms of the mean U (over all requests)."""
    n = len(reqs)
    ok, cost = collections.Counter(), collections.Counter()
    for r, o in zip(reqs, outs):
        ok[r.uc] += o.ok / n
        cost[r.uc] += 0.5 * o.cost / norm / n
    return ok, cost


def main():
    global DEADLINE_TARGET
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv")
    ap.add_argument("--draws", type=int, default=16, help="draws per request and tier (default 16)")
    ap.add_argument("--margin", type=float, default=0.25, help="the class controller's margin (mixed.yaml quality_margin)")
    ap.add_argument("--deadline-target", type=float, default=0.9, help="adaptive's P(meet) (mixed.yaml deadline_target)")
    ap.add_argument("--token-sigma", type=float, default=0.6, help="the answers' lognormal sigma (mixed.yaml token_sigma)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    DEADLINE_TARGET = args.deadline_target
    reqs, out = load(args.csv)
    n = len(reqs)
    norm = sum(o.cost for o in out["cloud-only"]) / n
    U = {p: sum(o.ok - 0.5 * o.cost / norm for o in out[p]) / n for p in out}
    need_u = U["cloud-only"] + 0.7 * (U["oracle"] - U["cloud-only"])
    share = (U["adaptive"] - U["cloud-only"]) / (U["oracle"] - U["cloud-only"])
    tc_ttft = {p: pct([o.ttft for r, o in zip(reqs, out[p]) if r.tc and o.completed], 0.95) for p in out}
    T = 0.6 * tc_ttft["cloud-only"]
    tc_idx = [k for k, r in enumerate(reqs) if r.tc]
    allowed = len(tc_idx) - math.ceil(0.95 * len(tc_idx))
    print(f"{args.csv}: {n} requests, {len(tc_idx)} time-critical")
    print(f"simulated: TC TTFT p95 cloud-only {tc_ttft['cloud-only']:.0f} ms, adaptive {tc_ttft['adaptive']:.0f} ms "
          f"({tc_ttft['adaptive'] / tc_ttft['cloud-only']:.3f}x), oracle {tc_ttft['oracle']:.0f} ms "
          f"({tc_ttft['oracle'] / tc_ttft['cloud-only']:.3f}x); target 0.6x = {T:.0f} ms")
    print(f"simulated: U cloud-only {U['cloud-only']:.4f}, adaptive {U['adaptive']:.4f}, oracle {U['oracle']:.4f}: "
          f"adaptive has {100 * share:.1f}% of the oracle's gain; 70% needs U {need_u:.4f} (+{need_u - U['adaptive']:.4f})")

    slow_share, causes = ttft_tail(reqs, out, T)

    # 2. Bounds on the TC TTFT p95.
    to = TtftOptions(reqs, tc_idx, args.draws, args.seed)
    cp = tc_ttft["cloud-only"]
    print(f"\n2. lower bounds on the TC TTFT p95, nothing queued ({args.draws} draws per request and tier; hedges on two tiers allowed):")
    bounds = {}
    t_c = lowest_t(lambda x: slow_clairvoyant(reqs, to, x), allowed, 0.3 * cp, 2.5 * cp)
    bounds["clairvoyant"] = t_c / cp
    print(f"   {'hindsight on the draws and the labels, share >= minimum':80s} {t_c:5.0f} ms = {t_c / cp:.3f}x")
    rules = (("labels", 0.0, False, "no hindsight on the draws; labels, share >= minimum", "labels"),
             ("pred", 0.0, False, "no hindsight on the draws; predictions, class mean >= minimum", "pred_min"),
             ("pred", args.margin, False, f"no hindsight; predictions, class mean >= adaptive's target (margin {args.margin})", "pred_target"),
             ("labels", 0.0, "calibrated", f"no hindsight; labels, share >= minimum; calibrated P(meet) >= {args.deadline_target}", "labels_deadline_cal"),
             ("labels", 0.0, "adaptive", f"no hindsight; labels, share >= minimum; adaptive's P(meet) >= {args.deadline_target}", "labels_deadline"),
             ("pred", args.margin, "calibrated", "no hindsight; predictions at adaptive's target; calibrated P(meet) rule", "target_deadline_cal"),
             ("pred", args.margin, "adaptive", "no hindsight; predictions at adaptive's target; adaptive's P(meet) rule", "adaptive_rules"))
    per_target = None
    calibrated_p_meet(reqs, args.draws, args.token_sigma, args.seed + 2)
    for rule, margin, dl, name, key in rules:
        t_b = lowest_t(lambda x: slow_expected(reqs, to, x, rule, margin, dl)[0], allowed, 0.5 * cp, 2.5 * cp, steps=11)
        s0, per = slow_expected(reqs, to, T, rule, margin, dl)
        bounds[key] = t_b / cp
        print(f"   {name:80s} {t_b:5.0f} ms = {t_b / cp:.3f}x; at {T:.0f} ms {100 * s0 / len(tc_idx):.2f}% slower")
        if key == "pred_target":
            per_target = per
    print(f"   at adaptive's target, the expected share slower than {T:.0f} ms by use case:")
    for uc, s in sorted(per_target.items()):
        print(f"     {uc:28s} {100 * s / len(tc_idx):5.2f}% of TC")
    sweep = {}
    for margin in (0.05, 0.1, 0.15, 0.2):
        sweep[margin] = slow_expected(reqs, to, T, "pred", margin)[0] / len(tc_idx)
    print("   expected share slower than 0.6x with predictions, by margin: " +
          ", ".join(f"{m}: {100 * s:.2f}%" for m, s in sorted(sweep.items())))

    # 3. U per use case.
    terms = {p: u_terms(reqs, out[p], norm) for p in out}
    print("\n3. U per use case: correct-in-time term, cost term (0.5 x cost / cloud-only's mean cost), as shares of the mean U")
    print(f"   {'use case':28s} {'correct in time a / o / c':>27s} {'cost a / o / c':>24s} {'gap o - a':>10s} {'correct':>8s} {'cost':>7s}")
    gap_ok = gap_cost = 0.0
    for uc in sorted(terms["adaptive"][0]):
        a_ok, a_c = terms["adaptive"][0][uc], terms["adaptive"][1][uc]
        o_ok, o_c = terms["oracle"][0][uc], terms["oracle"][1][uc]
        c_ok, c_c = terms["cloud-only"][0][uc], terms["cloud-only"][1][uc]
        gap_ok += o_ok - a_ok
        gap_cost += a_c - o_c
        print(f"   {uc:28s} {a_ok:8.4f} {o_ok:8.4f} {c_ok:8.4f}  {a_c:7.4f} {o_c:7.4f} {c_c:7.4f} {o_ok - a_ok + a_c - o_c:10.4f} {o_ok - a_ok:8.4f} {a_c - o_c:7.4f}")
    print(f"   {'all':28s} {'':27s} {'':24s} {gap_ok + gap_cost:10.4f} {gap_ok:8.4f} {gap_cost:7.4f}")
    print("   the correct-in-time term split: answered correctly / within the deadline / both, adaptive vs oracle, and the cloud's share")
    split = {}
    for p in ("adaptive", "oracle"):
        c = collections.defaultdict(lambda: [0, 0, 0, 0, 0])
        for r, o in zip(reqs, out[p]):
            x = c[r.uc]
            x[0] += 1
            x[1] += o.correct
            x[2] += o.in_time
            x[3] += o.ok
            x[4] += o.tier == "cloud"
        split[p] = c
    for uc in sorted(split["adaptive"]):
        a, o = split["adaptive"][uc], split["oracle"][uc]
        print(f"   {uc:28s} correct {a[1] / a[0]:.3f} / {o[1] / o[0]:.3f}  in time {a[2] / a[0]:.3f} / {o[2] / o[0]:.3f}  "
              f"both {a[3] / a[0]:.3f} / {o[3] / o[0]:.3f}  cloud {a[4] / a[0]:.3f} / {o[4] / o[0]:.3f}")

    # 4. The ladder.
    ladder = u_ladder(reqs, out, norm, U, args)
    summary = {"run": args.csv, "tc_ttft_ratio": tc_ttft["adaptive"] / cp, "oracle_tc_ttft_ratio": tc_ttft["oracle"] / cp,
               "slow_share": slow_share, "bounds": bounds, "margin_sweep": sweep,
               "U": U, "share": share, "gap_correct": gap_ok, "gap_cost": gap_cost, "ladder": ladder,
               "causes": causes}
    print("SUMMARY " + json.dumps(summary, sort_keys=True))


def u_ladder(reqs, out, norm, U, args):
    n = len(reqs)
    dr = Draws(args.seed + 1)
    k_draws = max(4, args.draws // 2)
    # P(in time) per tier with the true lengths, nothing queued.
    p_in = []
    for r in reqs:
        p = {}
        for t in r.tiers():
            met = 0
            for _ in range(k_draws):
                ttft = dr.ttft(r, t)
                met += (r.deadline is None or ttft + r.dec[t] <= r.deadline) and (r.ttft_deadline is None or ttft <= r.ttft_deadline)
            p[t] = met / k_draws
        p_in.append(p)
    # A perfectly calibrated reading of the complexity model: P(correct) and P(as good) per tier in
    # 20 bins of its edge quality (and the device class for the device), from this run's labels.
    qs = sorted(r.q["edge"] for r in reqs)
    edges = [qs[int(b * n / 20)] for b in range(1, 20)]
    cal = collections.defaultdict(lambda: [0, 0, 0])
    for r in reqs:
        for t in TIERS:
            key = (bisect.bisect_right(edges, r.q["edge"]), t, r.cls if t == "device" else "")
            c = cal[key]
            c[0] += 1
            c[1] += r.correct[t]
            c[2] += r.as_good[t]

    def calib(r, t):
        c = cal[(bisect.bisect_right(edges, r.q["edge"]), t, r.cls if t == "device" else "")]
        return c[1] / c[0], c[2] / c[0]

    groups = by_class(reqs)

    def score(choice):
        u = 0.0
        for r, t in zip(reqs, choice):
            if t is not None:
                u += r.correct[t] * p_in[r.i].get(t, 0.0) - 0.5 * r.cost[t] / norm  # down at the arrival: late
        return u / n

    def solve(value, gate, tiers_of, margin):
        choice = [None] * n
        for uc, idx in groups.items():
            m = reqs[idx[0]].min_q
            items, names = [], []
            for k in idx:
                r = reqs[k]
                ts = tiers_of(r)
                names.append(ts)
                items.append([(gate(r, t), value(r, t)) for t in ts])
            ch = lagrange(items, (m + margin * (1 - m)) * len(idx))
            for x, k in enumerate(idx):
                choice[k] = names[x][ch[x]]
        return choice

    rungs = []
    label_q = lambda r, t: 1.0 if r.as_good[t] else 0.0
    u_true = lambda r, t: r.correct[t] * p_in[r.i][t] - 0.5 * r.cost[t] / norm
    u_cal = lambda r, t: calib(r, t)[0] * p_in[r.i][t] - 0.5 * r.cost[t] / norm
    u_cal_pc = lambda r, t: calib(r, t)[0] * r.p_cal[t] - 0.5 * r.cost[t] / norm
    u_cal_pm = lambda r, t: calib(r, t)[0] * max(0.0, r.p_meet[t]) - 0.5 * r.cost[t] / norm
    raw_q = lambda r, t: r.q[t]
    all_tiers = lambda r: r.tiers()

    def rule_tiers(pm):  # the tiers with P(meet) >= the deadline target, when any has it
        def tiers(r):
            ts = r.tiers()
            return [t for t in ts if pm(r).get(t, -1) >= args.deadline_target] or ts
        return tiers

    rungs.append(("L0 labels, true lengths, max U, share >= minimum (offline optimum)", solve(u_true, label_q, all_tiers, 0.0)))
    rungs.append(("L1 no labels (calibrated model), true lengths, max U, expected share >= minimum",
                  solve(u_cal, lambda r, t: calib(r, t)[1], all_tiers, 0.0)))
    rungs.append((f"L2 ... class mean of predicted quality >= adaptive's target (margin {args.margin})", solve(u_cal, raw_q, all_tiers, args.margin)))
    rungs.append(("L3 ... lengths unknown (a calibrated P(meet))", solve(u_cal_pc, raw_q, all_tiers, args.margin)))
    rungs.append((f"L4 ... only tiers with that P(meet) >= {args.deadline_target} when any has it (the deadline target)",
                  solve(u_cal_pc, raw_q, rule_tiers(lambda r: r.p_cal), args.margin)))
    rungs.append(("L5 ... adaptive's own P(meet) instead of a calibrated one", solve(u_cal_pm, raw_q, rule_tiers(lambda r: r.p_meet), args.margin)))

    def feasible_or_degrade(r):  # adaptive's picker: the feasible tiers, else its degraded choice
        ts = r.tiers()
        f = [t for t in ts if r.p_meet[t] >= args.deadline_target]
        return f or [max(ts, key=lambda t: r.p_meet[t] * r.q[t])]

    rungs.append(("L6 ... min cost instead of max U (adaptive's objective): a static price of quality per use case",
                  solve(lambda r, t: -r.cost[t] / norm, raw_q, feasible_or_degrade, args.margin)))
    # L7: adaptive's rule, ideal: one static quality bar per use case, cheapest feasible candidate at or above it.
    choice = [None] * n
    for uc, idx in groups.items():
        m = reqs[idx[0]].min_q
        tau = m + args.margin * (1 - m)

        def pick(bar):
            ch, s = [], 0.0
            for k in idx:
                r = reqs[k]
                t = adaptive_pick(r, r.tiers(), bar, args.deadline_target, quality_first_fallback=False)
                ch.append(t)
                s += r.q[t]
            return ch, s

        lo, hi = 0.0, 1.0
        for _ in range(25):
            mid = (lo + hi) / 2
            if pick(mid)[1] >= tau * len(idx):
                hi = mid
            else:
                lo = mid
        for k, t in zip(idx, pick(hi)[0]):
            choice[k] = t
    rungs.append(("L7 ... adaptive's rule: the cheapest at or above one static quality bar per use case", choice))
    rungs.append(("L8 ... the bar from one online controller per client and use case (learn/quality_budget.h)",
                  replica(reqs, args)))
    rungs.append(("adaptive's own choices in the simulation, scored the same way", [o.tier or None for o in out["adaptive"]]))
    rungs.append(("oracle's own choices in the simulation, scored the same way", [o.tier or None for o in out["oracle"]]))
    print("\n4. offline routings scored with the labels, nothing queued (U; share of the simulated oracle's gain over cloud-only)")
    res = {}
    base, top = U["cloud-only"], U["oracle"]
    for name, ch in rungs:
        u = score(ch)
        res[name.split(" ")[0] if name.startswith("L") else name.split("'")[0]] = u
        cost = sum(r.cost[t] for r, t in zip(reqs, ch) if t) / n / norm
        print(f"   {name:110s} U {u:.4f} = {100 * (u - base) / (top - base):5.1f}%, cost {cost:.3f}x")
    print(f"   simulated: adaptive U {U['adaptive']:.4f} = {100 * (U['adaptive'] - base) / (top - base):.1f}%, "
          f"oracle {top:.4f}; 70% = {base + 0.7 * (top - base):.4f}")
    return res


def adaptive_pick(r, ts, bar, deadline_target, quality_first_fallback):
    """Adaptive's picker: the cheapest tier likely to meet the deadline at or above the quality bar;
    else the best quality among those likely in time; else (none likely in time) the likeliest in
    time among those at the bar when `quality_first_fallback`, or the best P(meet) x quality."""
    feas = [t for t in ts if r.p_meet[t] >= deadline_target]
    ok = [t for t in feas if r.q[t] + 1e-9 >= bar]
    if ok:
        return min(ok, key=lambda t: r.cost[t])
    if feas:
        return max(feas, key=lambda t: r.q[t])
    okq = [t for t in ts if r.q[t] + 1e-9 >= bar] if quality_first_fallback else []
    return max(okq, key=lambda t: r.p_meet[t]) if okq else max(ts, key=lambda t: r.p_meet[t] * r.q[t])


def replica(reqs, args):
    """learn/quality_budget.h per client and use case (step 1, cap 1, starting at the target with no
    credit) in front of adaptive's picker (cheapest feasible candidate at or above the bar)."""
    state = {}
    choice = [None] * len(reqs)
    for r in sorted(reqs, key=lambda x: x.i):
        ts = r.tiers()
        if not ts:
            continue
        m = r.min_q
        tau = m + args.margin * (1 - m)
        s = state.setdefault((r.client, r.uc), [0.0, 0.0])
        bar = min(tau, max(tau + s[0], tau - s[1]))
        t = adaptive_pick(r, ts, bar, args.deadline_target, quality_first_fallback=True)
        choice[r.i] = t
        gap = tau - r.q[t]
        s[1] = max(-1.0, min(1.0, s[1] - gap))
        s[0] = max(-tau, min(0.0, s[0] + gap))
    return choice


DEADLINE_TARGET = 0.9

if __name__ == "__main__":
    main()
