// fabriclab view: draws the graph from /api/info and applies frames (live: server-sent
// events from /api/events; replay: /api/recording and a time slider). A frame holds the
// load of every link direction ("<link>:ab" / "<link>:ba"), every switch port's queue,
// drops and ECN marks, each switch's routing mode and ECN thresholds, and INT paths.
"use strict";

const HISTORY_S = 60;
const view = {
  window: HISTORY_S,  // seconds the time series spans (a replay: at most its length)
  info: null, cy: null, history: [], frames: 0, lastFrame: null, selected: null, t0: null,
  dirs: {},  // direction id -> {src, sport, dst, dport, rate}
};
window.fabricView = view;  // for tests and for the curious (read it in the console)

function setStatus(level, text) {
  const el = document.getElementById("status");
  el.dataset.level = level;
  el.textContent = text;
}

function timeText(s) {
  const a = Math.abs(s);
  if (a >= 1 || a === 0) return s.toFixed(1) + " s";
  if (a >= 1e-3) return (s * 1e3).toFixed(2) + " ms";
  return (s * 1e6).toFixed(1) + " us";
}

function loadColor(pct) {
  const p = Math.max(0, Math.min(100, pct || 0));
  return `hsl(${Math.round(120 - 1.2 * p)}, 75%, ${p > 0 ? 45 : 70}%)`;
}

function rateText(bps) {
  if (bps == null) return "unlimited";
  if (bps >= 1e9) return (bps / 1e9).toFixed(2) + " Gb/s";
  if (bps >= 1e6) return (bps / 1e6).toFixed(2) + " Mb/s";
  return (bps / 1e3).toFixed(1) + " kb/s";
}

function buildGraph(graph) {
  const elements = [];
  for (const n of graph.nodes) {
    elements.push({ group: "nodes", classes: n.kind, position: { x: n.x, y: n.y },
      data: { id: n.id, kind: n.kind, label: n.id, switch: n.switch } });
  }
  for (const l of graph.links) {
    const [ab, ba] = Object.keys(l.dirs);
    view.dirs[ab] = { src: l.a, sport: l.a_port, dst: l.b, dport: l.b_port, rate: l.dirs[ab] };
    view.dirs[ba] = { src: l.b, sport: l.b_port, dst: l.a, dport: l.a_port, rate: l.dirs[ba] };
    for (const id of [ab, ba]) {
      const d = view.dirs[id];
      elements.push({ group: "edges", classes: "dir", data: { id, source: d.src, target: d.dst,
        pct: 0, bps: 0, width: 1.5, color: loadColor(0), portLabel: "" } });
    }
  }
  view.cy = cytoscape({
    container: document.getElementById("graph"), elements, layout: { name: "preset" },
    wheelSensitivity: 0.3, autoungrabify: true, maxZoom: 2,
    style: [
      { selector: "node", style: { label: "data(label)", "font-size": 9, "text-wrap": "wrap",
        "text-valign": "bottom", "text-margin-y": 3, width: 22, height: 22,
        "background-color": "#64748b" } },
      { selector: "node.host", style: { shape: "round-rectangle", "background-color": "#94a3b8",
        width: 16, height: 16 } },
      { selector: "node.leaf", style: { "background-color": "#2563eb" } },
      { selector: "node.spine, node.agg", style: { "background-color": "#7c3aed" } },
      { selector: "node.core, node.border", style: { "background-color": "#b45309",
        shape: "diamond" } },
      { selector: "node.scaleup", style: { "background-color": "#0f766e", shape: "hexagon" } },
      { selector: "edge.dir", style: { width: "data(width)", "line-color": "data(color)",
        "target-arrow-color": "data(color)", "target-arrow-shape": "triangle",
        "arrow-scale": 0.6, "curve-style": "bezier", "control-point-step-size": 14,
        "source-label": "data(portLabel)", "source-text-offset": 34, "font-size": 7,
        color: "#334155", "text-background-color": "#fff", "text-background-opacity": 0.8,
        "text-background-padding": 1 } },
      { selector: "edge.int", style: { width: 2, "line-style": "dashed", "line-color": "#db2777",
        "curve-style": "bezier", "control-point-step-size": 30, "target-arrow-shape": "vee",
        "target-arrow-color": "#db2777", opacity: 0.8 } },
      { selector: ":selected", style: { "overlay-color": "#0ea5e9", "overlay-opacity": 0.25,
        "overlay-padding": 4 } },
    ],
  });
  view.cy.on("tap mouseover", "edge.dir", (ev) => select({ kind: "link", id: ev.target.id() }));
  view.cy.on("tap", "node", (ev) => select({ kind: "node", id: ev.target.id() }));
  view.cy.fit(undefined, 30);
}

function portText(p) {
  if (!p) return "";
  const parts = [];
  if (p.q != null && (p.q > 0 || p.qmax > 0)) parts.push(`q${p.q}/${p.qmax}`);
  else if (p.qmax > 0) parts.push(`q-/${p.qmax}`);
  if (p.drops > 0) parts.push(`d${p.drops}`);
  if (p.ecn > 0) parts.push(`e${p.ecn}`);
  return parts.join(" ");
}

function apply(frame) {
  view.lastFrame = frame;
  const cy = view.cy;
  cy.batch(() => {
    for (const [id, d] of Object.entries(view.dirs)) {
      const load = frame.loads[id];
      const pct = load && load.pct != null ? load.pct : 0;
      const edge = cy.getElementById(id);
      edge.data({ pct, bps: load ? load.bps : 0, width: 1.5 + Math.min(pct, 100) * 0.09,
        color: loadColor(pct), portLabel: portText(frame.ports[`${d.src}:${d.sport}`]) });
    }
    for (const [name, s] of Object.entries(frame.switches || {})) {
      cy.getElementById(name).data("label", `${name}\n${s.mode} · ECN ${s.ecn}`);
    }
    cy.remove("edge.int");
    (frame.int_paths || []).forEach((path, k) => {
      for (let i = 0; i + 1 < path.length; i++) {
        if (cy.getElementById(path[i]).empty() || cy.getElementById(path[i + 1]).empty()) continue;
        cy.add({ group: "edges", classes: "int",
          data: { id: `int-${k}-${i}`, source: path[i], target: path[i + 1] } });
      }
    });
  });
  if (view.t0 == null) view.t0 = frame.t;
  document.getElementById("clock").textContent = `t = ${timeText(frame.t - view.t0)}`;
  showDetails();
}

function select(what) {
  view.selected = what;
  showDetails();
}

function showDetails() {
  const el = document.getElementById("details");
  const sel = view.selected, frame = view.lastFrame;
  if (!sel) return;
  if (sel.kind === "link") {
    const d = view.dirs[sel.id];
    const load = frame && frame.loads[sel.id];
    const p = frame && frame.ports[`${d.src}:${d.sport}`];
    el.innerHTML = `<b>${d.src}:${d.sport} → ${d.dst}:${d.dport}</b> (${rateText(d.rate)})<br>` +
      `load now: <span id="sel-load">${load && load.pct != null ? load.pct.toFixed(1) : "0"}</span> %` +
      ` (${rateText(load ? load.bps : 0)})` +
      (p ? `<br>queue ${p.q ?? "-"} now, ${p.qmax} peak; ${p.drops} drops; ${p.ecn} ECN marks` : "");
    drawSeries(sel.id);
  } else {
    const ports = Object.entries((frame && frame.ports) || {})
      .filter(([k]) => k.split(":")[0] === sel.id);
    const s = frame && frame.switches ? frame.switches[sel.id] : null;
    el.innerHTML = `<b>${sel.id}</b>` + (s ? ` mode ${s.mode}, ECN ${s.ecn}` : "") +
      (ports.length ? "<table><tr><th>port</th><th>queue</th><th>peak</th><th>drops</th><th>ECN</th></tr>" +
        ports.map(([k, p]) => `<tr><td>${k.split(":")[1]}</td><td>${p.q ?? "-"}</td>` +
          `<td>${p.qmax}</td><td>${p.drops}</td><td>${p.ecn}</td></tr>`).join("") + "</table>" : "");
  }
}

function drawSeries(id) {
  const canvas = document.getElementById("series");
  const g = canvas.getContext("2d"), W = canvas.width, H = canvas.height, pad = 24;
  g.clearRect(0, 0, W, H);
  const frames = view.history;
  if (!frames.length) return;
  const tEnd = frames[frames.length - 1].t, tStart = tEnd - view.window;
  const d = view.dirs[id];
  const back = Object.keys(view.dirs).find((k) => view.dirs[k].src === d.dst &&
    view.dirs[k].sport === d.dport);
  let top = 10;
  for (const f of frames) for (const k of [id, back]) {
    const l = f.loads[k]; if (l && l.pct != null) top = Math.max(top, l.pct);
  }
  g.strokeStyle = "#ccc"; g.strokeRect(pad, 4, W - pad - 4, H - pad - 4);
  g.fillStyle = "#555"; g.font = "10px sans-serif";
  g.fillText(`${top.toFixed(0)}%`, 0, 12); g.fillText("0", 8, H - pad);
  g.fillText("-" + timeText(view.window), pad, H - 8); g.fillText("now", W - 26, H - 8);
  for (const [k, colour] of [[id, "#dc2626"], [back, "#2563eb"]]) {
    if (!k) continue;
    g.strokeStyle = colour; g.beginPath();
    let started = false;
    for (const f of frames) {
      const l = f.loads[k]; if (!l || l.pct == null) continue;
      const x = pad + (f.t - tStart) / view.window * (W - pad - 4);
      const y = H - pad - l.pct / top * (H - pad - 8);
      if (started) g.lineTo(x, y); else { g.moveTo(x, y); started = true; }
    }
    g.stroke();
  }
  g.fillStyle = "#dc2626"; g.fillText(`${d.src}→${d.dst}`, pad + 4, 16);
  g.fillStyle = "#2563eb"; g.fillText(`${d.dst}→${d.src}`, pad + 70, 16);
}

function pushHistory(frame) {
  view.history.push(frame);
  while (view.history.length && frame.t - view.history[0].t > HISTORY_S) view.history.shift();
}

function startLive() {
  const source = new EventSource("/api/events");
  source.addEventListener("frame", (ev) => {
    const frame = JSON.parse(ev.data);
    pushHistory(frame);
    apply(frame);
    view.frames += 1;
    document.body.dataset.frames = String(view.frames);
  });
  source.addEventListener("status", (ev) => {
    const s = JSON.parse(ev.data);
    setStatus(s.level, s.level === "ok" ? `live: run ${view.info.run}` : s.text);
    if (s.level === "ended") source.close();
  });
  source.onerror = () => {
    if (document.getElementById("status").dataset.level !== "ended") {
      setStatus("lost", "lost the connection to `fabriclab view` (stopped?): retrying");
    }
  };
}

async function startReplay() {
  const reply = await fetch("/api/recording");
  const { frames } = await reply.json();
  const slider = document.getElementById("slider"), play = document.getElementById("play");
  document.getElementById("replay").hidden = false;
  slider.max = String(frames.length - 1);
  const span = frames[frames.length - 1].t - frames[0].t;
  view.window = Math.min(HISTORY_S, span) || HISTORY_S;
  const show = (i) => {
    const t = frames[i].t;
    view.history = frames.filter((f) => f.t <= t && f.t > t - view.window);
    apply(frames[i]);
    view.frames += 1;
    document.body.dataset.frames = String(view.frames);
    document.getElementById("slider-time").textContent =
      `${timeText(t - frames[0].t)} of ${timeText(span)} (${view.info.clock || "virtual"} time)`;
  };
  slider.addEventListener("input", () => show(Number(slider.value)));
  let timer = null;
  play.addEventListener("click", () => {
    if (timer) { clearInterval(timer); timer = null; play.textContent = "play"; return; }
    play.textContent = "pause";
    timer = setInterval(() => {
      const next = (Number(slider.value) + 1) % frames.length;
      slider.value = String(next); show(next);
    }, 100);
  });
  view.t0 = frames[0].t;
  show(0);
  setStatus("ok", `replay: ${view.info.run} (${frames.length} frames)`);
}

async function main() {
  try {
    view.info = await (await fetch("/api/info")).json();
  } catch (err) {
    setStatus("lost", "cannot reach `fabriclab view`: " + err);
    return;
  }
  document.getElementById("what").textContent =
    `${view.info.mode} · ${view.info.graph.name} · ${view.info.run}`;
  buildGraph(view.info.graph);
  if (view.info.mode === "replay") await startReplay(); else startLive();
}

main();
