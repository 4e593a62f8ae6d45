// The dashboard page: polls GET /api/dashboard every second and redraws in place (no reload).
// Text from the server (backend names, reasons, errors) only ever goes into textContent.
'use strict';
(function () {
  const TIERS = ['device', 'edge', 'cloud', 'none'];
  const COLORS = { device: '#2e9d5b', edge: '#2f6fdb', cloud: '#9b51e0', none: '#999999' };
  const POLL_MS = 1000;
  const SPLIT_SECONDS = 10;

  // The bearer token: ?token=... opens the page (the address bar then drops it); it is kept for
  // this tab only and sent as a header on every poll.
  const params = new URLSearchParams(location.search);
  let token = params.get('token');
  if (token) {
    sessionStorage.setItem('mecrouter.token', token);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
  } else {
    token = sessionStorage.getItem('mecrouter.token');
  }
  const headers = token ? { Authorization: 'Bearer ' + token } : {};

  const $ = (id) => document.getElementById(id);
  // What the page holds, for people poking at it from the console and for the end-to-end test.
  const state = { polls: 0, failures: 0, lastError: '', charts: {}, data: null };
  window.mecDashboard = state;

  function cell(text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }
  function row(cells) {
    const tr = document.createElement('tr');
    for (const c of cells) tr.appendChild(c);
    return tr;
  }
  function fill(tbody, rows) {
    tbody.replaceChildren(...rows);
  }
  const ms = (s) => (s === null || s === undefined || !isFinite(s) ? '–' : s * 1000 < 10 ? (s * 1000).toFixed(1) : Math.round(s * 1000).toLocaleString());
  // Microseconds, for the gateway's own time (µs when under a millisecond).
  const us = (s) => (s === null || s === undefined || !isFinite(s) ? '–' : s < 1e-3 ? `${Math.round(s * 1e6)} µs` : `${ms(s)} ms`);
  const usd = (v) => (v === null || v === undefined || !isFinite(v) ? '–' : v === 0 ? '$0' : Math.abs(v) < 0.01 ? '$' + v.toPrecision(3) : '$' + v.toFixed(4));
  const pct = (v) => (isFinite(v) ? (v * 100).toFixed(0) + '%' : '–');
  const clock = (unix) => new Date(unix * 1000).toLocaleTimeString([], { hour12: false });

  // ---- charts (uPlot) ----
  const haveCharts = typeof uPlot !== 'undefined';
  function makeChart(id, series, fmt) {
    const node = $(id);
    if (!haveCharts) {
      node.textContent = 'Charts are unavailable: this binary was built without uPlot (run scripts/setup.sh, then rebuild).';
      node.className = 'chart notice';
      return null;
    }
    const opts = {
      width: Math.max(node.clientWidth, 300),
      height: 220,
      scales: { x: { time: true } },
      series: [{}].concat(series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: 2,
        dash: s.dash,
        value: (u, v) => (v === null || v === undefined ? '–' : fmt(v)),
      }))),
      axes: [{ space: 60 }, { size: 76, values: (u, vals) => vals.map(fmt) }],
      legend: { live: true },
    };
    const chart = new uPlot(opts, [[]].concat(series.map(() => [])), node);
    state.charts[id.replace('chart-', '')] = chart;
    return chart;
  }
  const tierSeries = (tiers) => tiers.map((t) => ({ label: t, color: COLORS[t] }));
  const charts = {
    traffic: makeChart('chart-traffic', tierSeries(TIERS).concat([{ label: 'errors', color: '#c62828', dash: [4, 4] }]), (v) => String(+v.toFixed(2))),
    ttft: makeChart('chart-ttft', tierSeries(TIERS.slice(0, 3)), (v) => ms(v)),
    latency: makeChart('chart-latency', tierSeries(TIERS.slice(0, 3)), (v) => ms(v)),
    cost: makeChart('chart-cost', [{ label: 'actual $/min', color: '#2e9d5b' }, { label: 'cloud-only $/min', color: '#9b51e0', dash: [6, 4] }], (v) => usd(v)),
  };
  // The learning chart's x axis counts verdicts, not time.
  function makeLearningChart() {
    const node = $('chart-learning');
    if (!haveCharts) return null;
    const fmt = (v) => (+v).toFixed(2);
    const chart = new uPlot({
      width: Math.max(node.clientWidth, 300),
      height: 220,
      scales: { x: { time: false }, y: { range: [0, 1] } },
      series: [{ label: 'verdicts' },
        { label: 'predicted', stroke: COLORS.edge, width: 2, value: (u, v) => (v == null ? '–' : fmt(v)) },
        { label: 'judged', stroke: '#c62828', width: 2, dash: [4, 4], value: (u, v) => (v == null ? '–' : fmt(v)) }],
      axes: [{ space: 60 }, { size: 60, values: (u, vals) => vals.map(fmt) }],
      legend: { live: true },
    }, [[], [], []], node);
    state.charts.learning = chart;
    return chart;
  }
  charts.learning = null;
  function renderLearning(l) {
    if (!l || !l.enabled) { $('learning-panel').hidden = true; return; }
    const panel = $('learning-panel');
    if (panel.hidden) {
      panel.hidden = false;
      if (!charts.learning) charts.learning = makeLearningChart();
    }
    $('learning-window').textContent = String(l.window);
    const b = (text) => { const e = document.createElement('b'); e.textContent = text; return e; };
    const sm = (text) => { const e = document.createElement('small'); e.textContent = text; return e; };
    $('learning-summary').replaceChildren(
      document.createTextNode('live model '), b(l.model),
      document.createTextNode(' · verdicts '), b(String(l.samples)),
      document.createTextNode(' · judge spend '), b(usd(l.spend_usd)),
      sm(`sample rate ${pct(l.sample_rate)}, reference ${l.reference}, judge ${l.judge}; ${l.promotions} promoted, ${l.rejections} kept aside` +
         (l.last_gate ? `; last: ${l.last_gate}` : '')));
    if (charts.learning) charts.learning.setData([l.history.n, l.history.predicted, l.history.judged]);
  }
  async function pollLearning() {
    try {
      const r = await fetch('/api/learning', { headers, cache: 'no-store' });
      if (r.ok) {
        const l = await r.json();
        state.learning = l;
        renderLearning(l);
      }
    } catch (e) {
      // the main poll reports connection problems
    } finally {
      setTimeout(pollLearning, 2 * POLL_MS);
    }
  }

  function resize() {
    for (const [name, c] of Object.entries(charts)) {
      if (!c) continue;
      const node = $('chart-' + name);
      c.setSize({ width: Math.max(node.clientWidth, 300), height: 220 });
    }
  }
  window.addEventListener('resize', resize);

  // ---- panels ----
  function renderBackends(backends) {
    fill($('backends').tBodies[0], backends.map((b) => {
      const badge = document.createElement('span');
      badge.className = 'badge ' + b.health.replace('-', '_');
      badge.textContent = b.health + (b.routable ? '' : ' (not routable)');
      const health = document.createElement('td');
      health.appendChild(badge);
      const ejection = b.ejected ? `ejected, ${b.ejected_for_s.toFixed(1)} s left` : b.health === 'half-open' ? 'half-open: probing' : 'in service';
      return row([
        cell(b.name), cell(b.tier), health,
        cell(ejection + (b.ejections ? ` (${b.ejections} ejection${b.ejections > 1 ? 's' : ''})` : '')),
        cell(`${b.in_flight} / ${b.capacity}`, 'num'),
        cell(pct(b.error_rate), 'num'),
        cell(ms(b.ttft_median_s) + ' ms', 'num'),
        cell(b.tokens_per_s ? b.tokens_per_s.toFixed(0) : '–', 'num'),
        cell(engineText(b.engine)),
      ]);
    }));
  }

  // What the backend's serving engine said last (docs/engines.md): queue, KV use, slots, warm models.
  function engineText(e) {
    if (!e) return '–';
    if (e.age_s === null) return `${e.kind}: no reading` + (e.saturated ? ' (saturated)' : '');
    const parts = [];
    if (e.loading) parts.push('loading its model');
    if (e.waiting !== null) parts.push(`${e.waiting} waiting`);
    if (e.running !== null) parts.push(`${e.running} running`);
    if (e.kv_usage !== null) parts.push(`KV ${pct(e.kv_usage)}`);
    if (e.total_slots !== null && e.busy_slots !== null) parts.push(`slots ${e.busy_slots}/${e.total_slots}`);
    if (e.prefix_hit_rate !== null) parts.push(`prefix hits ${pct(e.prefix_hit_rate)}`);
    if (e.loaded_models.length) parts.push(`warm: ${e.loaded_models.join(', ')}`);
    return `${e.kind}: ${parts.join(' · ') || 'idle'}` + (e.saturated ? ` (saturated: ${e.saturation})` : '');
  }

  function renderKeys(keys) {
    $('keys-panel').hidden = !keys;
    if (!keys) return;
    fill($('keys').tBodies[0], keys.map((k) => row([
      cell(k.name), cell(String(k.requests), 'num'), cell(String(k.refused), 'num'), cell(usd(k.spend_usd), 'num'),
    ])));
  }

  function renderSplit(traffic) {
    const n = traffic.t.length;
    const from = Math.max(0, n - SPLIT_SECONDS);
    const sums = TIERS.map((t) => traffic.requests[t].slice(from).reduce((a, b) => a + b, 0));
    const total = sums.reduce((a, b) => a + b, 0);
    const parts = TIERS.map((t, i) => {
      const span = document.createElement('span');
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = COLORS[t];
      span.appendChild(sw);
      span.appendChild(document.createTextNode(`${t} ${total ? pct(sums[i] / total) : '–'} (${(sums[i] / SPLIT_SECONDS).toFixed(1)}/s)`));
      return span;
    });
    const note = document.createElement('small');
    note.textContent = `last ${SPLIT_SECONDS} s`;
    parts.push(note);
    $('split').replaceChildren(...parts);
  }

  function renderPercentiles(d) {
    fill($('percentiles').tBodies[0], TIERS.map((t) => {
      const p = d.percentiles[t];
      const m = d.last_min[t];
      return row([
        cell(t), cell(String(m.requests), 'num'), cell(String(m.errors), 'num'),
        cell(ms(p.ttft_s.p50), 'num'), cell(ms(p.ttft_s.p95), 'num'), cell(ms(p.ttft_s.p99), 'num'),
        cell(ms(p.latency_s.p50), 'num'), cell(ms(p.latency_s.p95), 'num'), cell(ms(p.latency_s.p99), 'num'),
        cell(us(p.overhead_s.p50), 'num'), cell(us(p.overhead_s.p99), 'num'),
      ]);
    }));
  }

  function renderCost(cost) {
    const box = $('cost-summary');
    const parts = [];
    const b = (text) => { const e = document.createElement('b'); e.textContent = text; return e; };
    const s = (text) => { const e = document.createElement('small'); e.textContent = text; return e; };
    parts.push(document.createTextNode('last minute '), b(usd(cost.last_min_usd)));
    if (cost.cloud_reference) {
      parts.push(document.createTextNode(' vs cloud-only '), b(usd(cost.last_min_cloud_only_usd)));
      const saved = cost.last_min_cloud_only_usd > 0 ? 1 - cost.last_min_usd / cost.last_min_cloud_only_usd : NaN;
      if (isFinite(saved)) parts.push(s(saved >= 0 ? `${pct(saved)} saved` : `${pct(-saved)} more`));
      parts.push(s(`since start ${usd(cost.total_usd)} vs ${usd(cost.total_cloud_only_usd)}; cloud-only priced as ${cost.cloud_reference}`));
    } else {
      parts.push(s('no cloud backend configured: no cloud-only comparison'));
    }
    box.replaceChildren(...parts);
  }

  function renderDecisions(decisions) {
    fill($('decisions').tBodies[0], decisions.map((d) => {
      const ok = d.status === 'ok';
      const reason = cell(d.reason || d.error || '', 'reason');
      reason.title = d.error ? `error: ${d.error}` : '';
      return row([
        cell(clock(d.time)), cell(d.id), cell(d.policy || '–'), cell(d.tier), cell(d.backend || '–'),
        cell(`${d.status} ${d.http_status || ''}`.trim(), ok ? 'status-ok' : 'status-bad'),
        cell(d.ttft_ms === null ? '–' : ms(d.ttft_ms / 1000) + ' ms', 'num'),
        cell(ms(d.latency_ms / 1000) + ' ms', 'num'),
        cell(usd(d.cost_usd), 'num'),
        reason,
      ]);
    }));
  }

  function renderCharts(d) {
    if (charts.traffic) charts.traffic.setData([d.traffic.t].concat(TIERS.map((t) => d.traffic.requests[t]), [d.traffic.errors]));
    if (charts.ttft) charts.ttft.setData([d.latency.t].concat(TIERS.slice(0, 3).map((t) => d.latency.ttft_p95_s[t])));
    if (charts.latency) charts.latency.setData([d.latency.t].concat(TIERS.slice(0, 3).map((t) => d.latency.latency_p95_s[t])));
    if (charts.cost) charts.cost.setData([d.cost.t, d.cost.usd_per_min, d.cost.cloud_only_usd_per_min]);
  }

  function render(d) {
    for (const e of document.querySelectorAll('.step')) e.textContent = String(d.step_s);
    renderBackends(d.backends);
    renderSplit(d.traffic);
    renderPercentiles(d);
    renderCost(d.cost);
    renderDecisions(d.decisions);
    renderKeys(d.keys);
    renderCharts(d);
    const st = d.stats || {};
    $('status').textContent = `updated ${clock(d.now)} · ${st.requests ?? 0} requests, ${st.in_flight ?? 0} in flight, ${st.failed ?? 0} failed, ${st.shed ?? 0} shed`;
    $('status').className = 'status';
  }

  async function poll() {
    try {
      const r = await fetch('/api/dashboard', { headers, cache: 'no-store' });
      if (r.status === 401) throw new Error('unauthorized: open /dashboard?token=YOUR_TOKEN (dashboard.token_env)');
      if (!r.ok) throw new Error(`GET /api/dashboard: HTTP ${r.status}`);
      const d = await r.json();
      state.data = d;
      render(d);
      state.polls++;
      state.lastError = '';
    } catch (e) {
      state.failures++;
      state.lastError = String(e.message || e);
      $('status').textContent = `cannot update: ${state.lastError}`;
      $('status').className = 'status error';
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  // ---- a simulator report (mecrouter simulate --report FILE.html), read from a local file and
  // shown in a sandboxed frame: no scripts, no access to this page or its token ----
  $('report-file').addEventListener('change', async (ev) => {
    const f = ev.target.files && ev.target.files[0];
    if (!f) return;
    $('report-frame').srcdoc = await f.text();
    $('report-name').textContent = f.name;
    $('report-panel').hidden = false;
    $('report-panel').scrollIntoView();
  });
  $('report-close').addEventListener('click', () => {
    $('report-panel').hidden = true;
    $('report-frame').srcdoc = '';
    $('report-name').textContent = '';
    $('report-file').value = '';
  });

  poll();
  pollLearning();
})();
