#!/usr/bin/env python3
"""Within-subject signal of cheap prompt features on MMLU (docs/complexity.md, round 5).

For each candidate feature, the pooled within-subject correlation (feature and outcome both centred
on their MMLU subject's mean) with the label "weak as good" and with the gain (1 - strong + weak)/2.
A feature that only separates subjects scores 0 here: this is what a router that already knows the
subject could still learn from it. Exploratory analysis on all non-contaminated MMLU items (no
train/test split: nothing here is a model or picks anything that ships). Standard library only.

    python3 scripts/analysis/within_subject_probe.py [../shared/data/router_eval]
"""
import collections
import csv
import json
import math
import re
import sys

DATA = sys.argv[1] if len(sys.argv) > 1 else '../shared/data/router_eval'
OPTION = re.compile(r'^([A-D])\. (.*)$', re.M)
WORD = re.compile(r'[a-z0-9]+')


def words(text):
    return WORD.findall(text.lower())


def features(prompt, df, n):
    stem = OPTION.sub('', prompt).replace('Answer:', '')
    options = [o for _, o in OPTION.findall(prompt)]
    ow = [set(words(o)) for o in options]
    w = words(prompt)
    idf = [math.log(n / df[x]) for x in w] or [0.0]
    pairs = [len(a & b) / len(a | b) for i, a in enumerate(ow) for b in ow[i + 1:] if a | b]
    lens = [len(o) for o in options] or [0]
    mean_len = sum(lens) / len(lens)
    return {
        'log stem chars': math.log1p(len(stem)),
        'log mean option chars': math.log1p(mean_len),
        'option length cv': math.sqrt(sum((x - mean_len) ** 2 for x in lens) / len(lens)) / mean_len if mean_len else 0.0,
        'max option overlap': max(pairs, default=0.0),
        'mean option overlap': sum(pairs) / len(pairs) if pairs else 0.0,
        'all numeric options': float(bool(options) and all(re.fullmatch(r'\s*[-$]?[0-9.,]+\s*%?\s*', o) for o in options)),
        'all/none of the above': float(any(re.search(r'(all|none|both|neither) of (the )?(above|these)', o.lower()) for o in options)),
        'negation (NOT/EXCEPT/LEAST)': float(bool(re.search(r'\b(NOT|EXCEPT|LEAST|FALSE)\b', stem))),
        'question mark': float(stem.rstrip().endswith('?')),
        'numbers': float(len(re.findall(r'\d+(?:\.\d+)?', prompt))),
        'operators': float(len(re.findall(r'[=+*/^<>]', prompt))),
        'digit share of stem': sum(c.isdigit() for c in stem) / max(1, len(stem)),
        'mean idf': sum(idf) / len(idf),
        'max idf': max(idf),
        'rare words (df <= 3)': sum(1 for x in w if df[x] <= 3) / max(1, len(w)),
        'long words (>= 10)': sum(1 for x in w if len(x) >= 10) / max(1, len(w)),
        'logic words': float(sum(1 for x in w if x in ('if', 'then', 'because', 'therefore', 'unless', 'only', 'implies', 'must'))),
        'quotes': float(prompt.count('"') + prompt.count("'")),
        'parentheses': float(prompt.count('(')),
    }


def main():
    prompts = {}
    with open(f'{DATA}/routellm_prompts.jsonl') as f:
        for line in f:
            o = json.loads(line)
            prompts[o['item_id']] = o['prompt']
    with open(f'{DATA}/routellm_mmlu_gsm8k_correctness.csv') as f:
        rows = [r for r in csv.DictReader(f) if r['contaminated'] == '0' and r['benchmark'] == 'mmlu']
    df = collections.Counter()
    for r in rows:
        df.update(set(words(prompts[r['item_id']])))
    by_subject = collections.defaultdict(list)
    for r in rows:
        weak, strong = int(r['mixtral_8x7b_correct']), int(r['gpt4_1106_correct'])
        by_subject[r['subject']].append((features(prompts[r['item_id']], df, len(rows)),
                                         float(not (strong and not weak)), (1 - strong + weak) / 2))
    names = list(next(iter(by_subject.values()))[0][0])
    print(f'{len(rows)} MMLU items, {len(by_subject)} subjects; pooled within-subject correlation')
    print(f'{"feature":30s} {"label":>8s} {"gain":>8s}')
    for k in names:
        sxx = sxl = sll = sxg = sgg = 0.0
        for items in by_subject.values():
            mx = sum(f[k] for f, _, _ in items) / len(items)
            ml = sum(l for _, l, _ in items) / len(items)
            mg = sum(g for _, _, g in items) / len(items)
            for f, l, g in items:
                dx = f[k] - mx
                sxx += dx * dx
                sxl += dx * (l - ml)
                sll += (l - ml) ** 2
                sxg += dx * (g - mg)
                sgg += (g - mg) ** 2
        cl = sxl / math.sqrt(sxx * sll) if sxx > 0 else 0.0
        cg = sxg / math.sqrt(sxx * sgg) if sxx > 0 else 0.0
        print(f'{k:30s} {cl:+8.3f} {cg:+8.3f}')


if __name__ == '__main__':
    main()
