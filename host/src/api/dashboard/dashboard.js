// The vesting dashboard: reads /dashboard/data every few seconds and draws it with uPlot
// (vendored, /assets/uPlot.iife.min.js). No build step: plain browser JavaScript.
// Every chart container gets data-series / data-points once uPlot has drawn it (the
// browser test fails on a chart without data).
"use strict";

const REFRESH_MS = 5000;
// Lag samples kept for the lag chart (half an hour at the refresh rate).
const MAX_SAMPLES = 360;
const charts = {};
const samples = [[], [], []];

const $ = (id) => document.getElementById(id);
const fmt = (v, d = 3) => (v == null || !Number.isFinite(v) ? "–" : v.toFixed(d));
const short = (s) => (s && s.length > 14 ? s.slice(0, 6) + "…" + s.slice(-6) : s || "");
const colour = (i) => `hsl(${(i * 137.5) % 360} 62% 44%)`;
const fromZero = (u, min, max) => [0, max > 0 ? max * 1.08 : 1];

function text(id, value) {
  $(id).textContent = value;
}

// How many series and points of a chart's data are real numbers.
function count(data) {
  let series = 0;
  let points = 0;
  for (let i = 1; i < data.length; i++) {
    const n = data[i].filter((v) => v != null && Number.isFinite(v)).length;
    if (n > 0) {
      series++;
      points += n;
    }
  }
  return { series, points };
}

// Marks a chart's container with what uPlot drew (called from its draw hook).
function mark(u) {
  const el = u.root.parentElement;
  const { series, points } = count(u.data);
  el.dataset.series = series;
  el.dataset.points = points;
  el.classList.toggle("empty", points === 0);
}

// Draws `data` into #id with the options `make` returns; reuses the chart while its series
// stay the same, else builds it anew.
function chart(id, make, data) {
  const el = $(id);
  const opts = make();
  const key = opts.series.map((s) => s.label).join("|");
  const c = charts[id];
  if (c && c.key === key) {
    c.u.setData(data);
    return;
  }
  if (c) c.u.destroy();
  el.textContent = "";
  opts.width = Math.max(el.clientWidth, 300);
  opts.height = 240;
  opts.hooks = { draw: [mark] };
  charts[id] = { key, u: new uPlot(opts, data, el) };
}

const bars = () => uPlot.paths.bars({ size: [0.7, 40] });
const line = (label, stroke, extra = {}) => ({ label, stroke, width: 2, ...extra });
// Points without a line: filled, or hollow and larger (to show a point drawn over it).
const dots = (label, stroke, extra = {}, hollow = false) => ({
  label,
  stroke,
  paths: () => null,
  points: hollow
    ? { show: true, size: 11, width: 2, stroke, fill: "#fff" }
    : { show: true, size: 6, width: 1, stroke, fill: stroke },
  ...extra,
});
const blockAxis = { values: (u, splits) => splits.map((v) => "#" + v) };
const blockX = (label) => ({ label, value: (u, v) => (v == null ? "–" : "#" + v) });

function drawHistory(d) {
  const data = [d.epochs, ...d.miners.map((m) => m.series)];
  chart(
    "chart-history",
    () => ({
      scales: { x: { time: false }, y: { range: fromZero } },
      legend: { show: d.miners.length <= 12 },
      series: [
        blockX("epoch"),
        ...d.miners.map((m, i) =>
          line(`uid ${m.uid}`, colour(i), {
            width: 1.5,
            points: { show: d.miners.length <= 12 },
            value: (u, v) => fmt(v),
          }),
        ),
      ],
      axes: [blockAxis, { label: "multiplier" }],
    }),
    data,
  );
}

function drawCurrent(d) {
  const uids = d.miners.map((m) => m.uid);
  const eligible = d.miners.map((m) => (m.eligible ? m.multiplier : null));
  const other = d.miners.map((m) => (m.eligible ? null : m.multiplier));
  chart(
    "chart-current",
    () => ({
      scales: { x: { time: false }, y: { range: fromZero } },
      series: [
        { label: "uid" },
        line("eligible", "#3b6fd4", { fill: "#3b6fd4", paths: bars(), points: { show: false } }),
        line("not eligible", "#b8c0cc", { fill: "#b8c0cc", paths: bars(), points: { show: false } }),
      ],
      axes: [{ label: "uid" }, { label: "multiplier" }],
    }),
    [uids, eligible, other],
  );
}

function drawFlows(d) {
  const f = d.flows;
  chart(
    "chart-flows",
    () => ({
      scales: { x: { time: false } },
      series: [
        blockX("epoch"),
        line("earned", "#1b7f3b", { fill: "rgba(27,127,59,0.12)" }),
        line("manual in", "#2456b8"),
        line("manual out", "#b42318"),
      ],
      axes: [blockAxis, { label: "alpha" }],
    }),
    [f.map((e) => e.block), f.map((e) => e.earned), f.map((e) => e.manual_in), f.map((e) => e.manual_out)],
  );
}

// The holders in the order the holders chart draws them (its legend names them by index).
let holderOrder = [];

function drawHolders(d) {
  const hs = [...d.holders].sort((a, b) => b.held_fraction - a.held_fraction);
  holderOrder = hs;
  const name = (u, v) => (v == null || !holderOrder[v] ? "–" : short(holderOrder[v].holder));
  chart(
    "chart-holders",
    () => ({
      scales: { x: { time: false }, frac: { range: [0, 1.05] }, days: { range: fromZero } },
      series: [
        { label: "holder", value: name },
        line("held fraction", "#7a4cc2", {
          scale: "frac",
          fill: "rgba(122,76,194,0.35)",
          paths: bars(),
          points: { show: false },
          value: (u, v) => fmt(v),
        }),
        dots("holding days", "#d97706", { scale: "days", value: (u, v) => fmt(v, 1) }),
      ],
      axes: [
        { label: "holders, by held fraction", values: (u, s) => s.map(() => "") },
        { scale: "frac", label: "held fraction" },
        { scale: "days", side: 1, label: "holding days", grid: { show: false } },
      ],
    }),
    [hs.map((_, i) => i), hs.map((h) => h.held_fraction), hs.map((h) => h.holding_days)],
  );
}

function drawLag(h) {
  samples[0].push(Date.now() / 1000);
  samples[1].push(h.lag_blocks);
  samples[2].push(h.decision_age_seconds);
  if (samples[0].length > MAX_SAMPLES) samples.forEach((s) => s.shift());
  chart(
    "chart-lag",
    () => ({
      scales: { lag: { range: fromZero }, age: { range: fromZero } },
      series: [
        {},
        line("lag (blocks)", "#b42318", { scale: "lag", points: { show: true, size: 5 } }),
        line("decision age (s)", "#2456b8", { scale: "age", points: { show: true, size: 5 } }),
      ],
      axes: [{}, { scale: "lag", label: "blocks" }, { scale: "age", side: 1, label: "seconds", grid: { show: false } }],
    }),
    samples.map((s) => s.slice()),
  );
}

function drawShadow(d) {
  const s = d.shadow;
  const rows = s ? s.miners : [];
  const name = (sha) => (d.policy.names.find((n) => n[0] === sha) || [sha, short(sha)])[1];
  text(
    "shadow-summary",
    s
      ? `(${name(s.candidate)} vs ${name(s.active)} at #${s.block}: ${s.miners_changed} miners' weights change,` +
          ` total weight difference ${fmt(s.total_weight_diff, 4)}${s.error ? "; error: " + s.error : ""})`
      : "(no policy runs in shadow: vesting policy shadow <name>)",
  );
  chart(
    "chart-shadow",
    () => ({
      scales: { x: { time: false }, y: { range: fromZero } },
      series: [
        { label: "uid" },
        dots("in service", "#3b6fd4", { value: (u, v) => fmt(v) }, true),
        dots("shadow candidate", "#d97706", { value: (u, v) => fmt(v) }),
      ],
      axes: [{ label: "uid" }, { label: "multiplier" }],
    }),
    [rows.map((m) => m.uid), rows.map((m) => m.active_multiplier), rows.map((m) => m.candidate_multiplier)],
  );
}

function cell(tr, value, cls) {
  const td = document.createElement("td");
  if (value instanceof Node) td.appendChild(value);
  else td.textContent = value;
  if (cls) td.className = cls;
  tr.appendChild(td);
}

function drawTable(d) {
  const body = $("miners");
  const shadow = new Map((d.shadow ? d.shadow.miners : []).map((m) => [m.uid, m]));
  const max = Math.max(1e-9, ...d.miners.map((m) => m.multiplier));
  const rows = d.miners.map((m) => {
    const tr = document.createElement("tr");
    tr.className = m.eligible ? "miner" : "miner ineligible";
    tr.dataset.uid = m.uid;
    cell(tr, String(m.uid));
    const a = document.createElement("a");
    a.href = "/explain/" + encodeURIComponent(m.hotkey);
    a.title = m.hotkey + " (why this multiplier)";
    a.textContent = short(m.hotkey);
    cell(tr, a);
    const holder = document.createElement("code");
    holder.title = m.holder;
    holder.textContent = short(m.holder);
    cell(tr, holder);
    const mult = document.createElement("span");
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = Math.round((60 * m.multiplier) / max) + "px";
    mult.append(bar, fmt(m.multiplier));
    cell(tr, mult);
    cell(tr, m.eligible ? "yes" : "no");
    cell(tr, fmt(m.held_fraction));
    cell(tr, fmt(m.holding_days, 1));
    const sh = shadow.get(m.uid);
    const delta = sh ? sh.candidate_multiplier - sh.active_multiplier : null;
    cell(
      tr,
      delta == null ? "–" : (delta > 0 ? "+" : "") + fmt(delta),
      delta > 1e-9 ? "up" : delta < -1e-9 ? "down" : "",
    );
    return tr;
  });
  body.replaceChildren(...rows);
}

function drawFacts(d) {
  const h = d.health;
  const p = d.policy;
  const name = (sha) => (sha ? (p.names.find((n) => n[0] === sha) || [sha, short(sha)])[1] : null);
  text("subnet", `subnet ${d.netuid}`);
  const badge = $("health");
  badge.textContent = h.status === "ok" ? "healthy" : "unavailable";
  badge.className = "badge " + h.status;
  const extra = [
    p.state.pending && `pending ${name(p.state.pending)}`,
    p.state.shadow && `shadow ${name(p.state.shadow)}`,
  ].filter(Boolean);
  text("policy", p.label + (extra.length ? ` (${extra.join(", ")})` : ""));
  text("last-block", h.last_block == null ? "–" : "#" + h.last_block);
  text("lag", h.lag_blocks == null ? "–" : `${h.lag_blocks} blocks (max ${h.max_lag_blocks})`);
  text(
    "decision-age",
    h.decision_age_seconds == null
      ? "–"
      : `${h.decision_age_seconds} s (max ${h.max_decision_age_seconds}), #${h.decision_block}`,
  );
  text("monitor", h.monitor + (h.monitor_failures ? `, ${h.monitor_failures} failures` : ""));
  text("updated", new Date().toLocaleTimeString());
  $("reason").hidden = !h.reason;
  text("reason", h.reason || "");
}

async function refresh() {
  try {
    const r = await fetch("/dashboard/data", { cache: "no-store" });
    const body = await r.json();
    if (!r.ok) throw new Error(body.error || r.statusText);
    $("error").hidden = true;
    drawFacts(body);
    drawHistory(body);
    drawCurrent(body);
    drawFlows(body);
    drawHolders(body);
    drawLag(body.health);
    drawShadow(body);
    drawTable(body);
  } catch (e) {
    $("error").hidden = false;
    text("error", "Cannot read /dashboard/data: " + e.message + " (retrying)");
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}

window.addEventListener("resize", () => {
  for (const id in charts) charts[id].u.setSize({ width: Math.max($(id).clientWidth, 300), height: 240 });
});
refresh();
