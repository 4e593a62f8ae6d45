#!/usr/bin/env python3
"""An upper bound on what prefix affinity can gain on the Mooncake conversation trace
(docs/simulator.md, "Prefix reuse"). Replays the trace's hash_ids (512-token prefix blocks, cut into
vLLM's 16-token blocks as the simulator does) into 4 replicas' LRU prefix caches of a given capacity,
with no queueing, no failures and no cloud: each request either on a uniformly random replica or on
its conversation's replica (a conversation is named by its second block id, as in the simulator),
and prints the share of prompt tokens found cached (the last prompt token is always computed, as in
vLLM). Python 3 standard library only. Usage:
  scripts/prefix_bound.py [TRACE.jsonl] [--rows N] [--capacity-tokens T ...] [--seed S]
"""
import argparse
import json
import random
from collections import OrderedDict


def engine_blocks(row):
    out, left = [], row["input_length"]
    for h in row["hash_ids"]:
        for j in range(32):
            if left < 16:
                return out
            out.append(h * 32 + j)
            left -= 16
    return out


class Lru:
    def __init__(self, capacity):
        self.capacity, self.d = capacity, OrderedDict()

    def look_up(self, blocks):
        matched = 0
        for b in blocks:
            if b not in self.d:
                break
            matched += 1
        for b in reversed(blocks):  # the head ends most recent: the tail is evicted first
            self.d[b] = 1
            self.d.move_to_end(b, last=False)
        while len(self.d) > self.capacity:
            self.d.popitem(last=True)
        return matched


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace", nargs="?", default="../shared/data/traces/mooncake_fast25_conversation.jsonl")
    ap.add_argument("--rows", type=int, default=0)
    ap.add_argument("--capacity-tokens", type=int, nargs="+", default=[147456, 589824, 2359296])
    ap.add_argument("--replicas", type=int, default=4)
    ap.add_argument("--seed", type=int, default=3)
    a = ap.parse_args()
    rows = [json.loads(line) for line in open(a.trace) if line.strip()]
    if a.rows:
        rows = rows[: a.rows]
    for cap in a.capacity_tokens:
        rates = {}
        for mode in ("random", "affine"):
            rng = random.Random(a.seed)
            caches = [Lru(cap // 16) for _ in range(a.replicas)]
            where, queried, hit = {}, 0, 0
            for r in rows:
                ids = r["hash_ids"]
                key = ids[1] if len(ids) > 1 else None
                if mode == "random" or key is None:
                    i = rng.randrange(a.replicas)
                else:
                    i = where.setdefault(key, rng.randrange(a.replicas))
                m = caches[i].look_up(engine_blocks(r))
                hit += min(m * 16, max(0, r["input_length"] - 1))
                queried += r["input_length"]
            rates[mode] = hit / queried
        print(f"{cap} tokens per replica: random {rates['random']:.3f}, affine {rates['affine']:.3f}, "
              f"ratio {rates['affine'] / rates['random']:.2f}")


if __name__ == "__main__":
    main()
