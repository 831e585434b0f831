// The training page: settings go to the server, frames come back (server-sent events) and are drawn.
"use strict";

const $ = id => document.getElementById(id);
const SETTINGS = ["dataset", "noise", "test_fraction", "samples", "batch_size", "steps_per_frame",
                  "activation", "lr", "optimizer", "regularization", "reg_rate"];
const NUMBERS = new Set(["noise", "test_fraction", "samples", "batch_size", "steps_per_frame", "lr", "reg_rate"]);
const state = {id: null, hidden: [8, 8], seed: 0, playing: false, stream: null, points: null,
               pending: null, net: null, caps: {hidden_layers: 6, width: 16}, traceShown: false};

async function api(path, method = "GET", body) {
  const init = {method, headers: {"Content-Type": "application/json"}};
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(path, init);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function showProblem(message) { $("problem").textContent = message || ""; }

function settings() {
  const c = {hidden: state.hidden, seed: state.seed};
  SETTINGS.forEach(name => { const v = $(name).value; c[name] = NUMBERS.has(name) ? Number(v) : v; });
  return c;
}

function fill(select, values, chosen) {
  select.innerHTML = "";
  values.forEach(v => { const o = document.createElement("option"); o.textContent = v; o.selected = v === chosen; select.appendChild(o); });
}

function setPlaying(playing) {
  state.playing = playing;
  $("train").innerHTML = playing ? "&#10074;&#10074; pause" : "&#9654; play";
}

// -- the network diagram: built when the widths change, repainted every frame -------------------

function buildNet(widths) {
  const net = $("net"), W = net.clientWidth || 420, H = 330;
  net.innerHTML = "";
  net.style.height = (H + 60) + "px";
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", W); svg.setAttribute("height", H + 60);
  net.appendChild(svg);
  const most = Math.max(...widths), size = Math.max(16, Math.min(36, Math.floor(H / most) - 6));
  const gap = (W - size - 20) / Math.max(1, widths.length - 1);
  const cells = widths.map((n, l) => Array.from({length: n}, (_, k) => {
    const x = 10 + l * gap, y = 50 + (H - n * (size + 6)) / 2 + k * (size + 6);
    const c = document.createElement("canvas");
    c.width = c.height = 32; c.className = "neuron" + (l === 0 ? " input" : "");
    Object.assign(c.style, {left: x + "px", top: y + "px", width: size + "px", height: size + "px"});
    c.title = l === 0 ? `x${k + 1}` : (l === widths.length - 1 ? `A[${l}]: the output` : `A[${l}] neuron ${k + 1}`);
    net.appendChild(c);
    return {c, x, y};
  }));
  widths.forEach((n, l) => {
    const label = document.createElement("div");
    label.className = "layer-label";
    label.textContent = l === 0 ? "input A[0]" : (l === widths.length - 1 ? `output A[${l}]` : `A[${l}]: ${n}`);
    Object.assign(label.style, {left: (10 + l * gap + size / 2 - 35) + "px", top: "0px"});
    net.appendChild(label);
    if (l > 0 && l < widths.length - 1) {  // + and - for this hidden layer's width
      const box = document.createElement("div");
      box.className = "width-buttons";
      Object.assign(box.style, {left: (10 + l * gap + size / 2 - 22) + "px", top: "14px"});
      [["+", 1], ["\u2212", -1]].forEach(([text, delta]) => {
        const b = document.createElement("button");
        b.textContent = text; b.title = `${delta > 0 ? "add a neuron to" : "remove a neuron from"} layer ${l}`;
        b.onclick = () => changeWidth(l - 1, delta);
        box.appendChild(b);
      });
      net.appendChild(box);
    }
  });
  const edges = [];
  for (let l = 1; l < widths.length; l++) {
    edges.push(cells[l - 1].map(a => cells[l].map(b =>
      svgLine(svg, a.x + size, a.y + size / 2, b.x, b.y + size / 2, 1, "#999", ""))));
  }
  // the inputs are the coordinates themselves: x1 grows to the right, x2 upwards
  const side = 32, ramp = [new Uint8Array(side * side), new Uint8Array(side * side)];
  for (let i = 0; i < side; i++) for (let j = 0; j < side; j++) {
    ramp[0][i * side + j] = Math.round(j / (side - 1) * 255);
    ramp[1][i * side + j] = Math.round((side - 1 - i) / (side - 1) * 255);
  }
  cells[0].forEach((cell, k) => paintHeat(cell.c, ramp[k], side));
  state.net = {key: widths.join("-"), cells, edges};
}

function paintNet(frame) {
  const widths = frame.widths;
  if (!state.net || state.net.key !== widths.join("-")) buildNet(widths);
  const {cells, edges} = state.net, side = frame.grid;
  let n = 0;
  for (let l = 1; l < widths.length - 1; l++)
    cells[l].forEach(cell => paintHeat(cell.c, decodeBytes(frame.neurons[n++]), side));
  paintHeat(cells[widths.length - 1][0].c, decodeBytes(frame.boundary), side);
  frame.weights.forEach((layer, l) => layer.W.forEach((row, j) => row.forEach((w, k) => {
    const line = edges[l][j][k];
    line.setAttribute("stroke-width", Math.min(6, 0.3 + 2.5 * Math.abs(w)).toFixed(2));
    line.setAttribute("stroke", w >= 0 ? "rgb(8,119,189)" : "rgb(245,147,34)");
    line.firstChild.textContent = `W[${l + 1}][${j + 1}, ${k + 1}] = ${w}`;
  })));
}

// -- a frame ------------------------------------------------------------------------------------

function render(frame) {
  if (frame.train) state.points = {train: frame.train, test: frame.test};
  if (frame.playing === false && state.playing && !frame.fromStream) setPlaying(false);
  $("step-count").textContent = frame.step;
  $("epoch-count").textContent = frame.epoch;
  $("loss-train").textContent = frame.loss.train.toFixed(3);
  $("loss-test").textContent = frame.loss.test.toFixed(3);
  $("net-shape").textContent = frame.widths.join("-");
  const b = $("boundary");
  paintHeat(b, decodeBytes(frame.boundary), frame.grid, 190);
  paintPoints(b, state.points.train, frame.view, false);
  paintPoints(b, state.points.test, frame.view, true);
  paintCurve($("curve"), frame.history);
  paintNet(frame);
  $("layer-add").disabled = state.hidden.length >= state.caps.hidden_layers;
  $("layer-remove").disabled = state.hidden.length === 0;
}

// the stream may outpace the screen: draw only the newest frame, once per animation frame
function schedule(frame) {
  const idle = state.pending === null;
  state.pending = frame;
  if (idle) requestAnimationFrame(() => { const f = state.pending; state.pending = null; render(f); });
}

function openStream() {
  if (state.stream) state.stream.close();
  state.stream = new EventSource(`/api/sessions/${state.id}/stream`);
  state.stream.onmessage = e => { const f = JSON.parse(e.data); f.fromStream = true; schedule(f); };
  state.stream.addEventListener("problem", e => { setPlaying(false); showProblem(JSON.parse(e.data).error); });
  state.stream.addEventListener("gone", () => { state.stream.close(); showProblem("this session was released: reload the page"); });
}

async function reset() {
  showProblem("");
  try {
    render(await api(`/api/sessions/${state.id}/reset`, "POST", settings()));
    setPlaying(false);
    if (state.traceShown) await explain();
  } catch (err) { showProblem(err.message); }
}

function changeWidth(i, delta) {
  const w = state.hidden[i] + delta;
  if (w < 1 || w > state.caps.width) return;
  state.hidden = state.hidden.map((v, j) => j === i ? w : v);
  reset();
}

async function explain() {
  const data = await api(`/api/sessions/${state.id}/explain`);
  state.traceShown = true;
  const trace = $("trace");
  trace.innerHTML = "";
  const note = document.createElement("p"); note.className = "hint"; note.textContent = data.note;
  trace.appendChild(note);
  const table = document.createElement("table");
  data.notation.forEach(([name, shape, meaning]) => {
    const tr = table.insertRow();
    [name, shape, meaning].forEach((text, i) => { const td = tr.insertCell(); td.textContent = text; if (i < 2) td.className = "mono"; });
  });
  trace.appendChild(table);
  data.sections.forEach(section => {
    const h = document.createElement("h3"); h.textContent = section.title; trace.appendChild(h);
    if (section.text) { const p = document.createElement("pre"); p.textContent = section.text; trace.appendChild(p); }
    section.steps.forEach(step => {
      const div = document.createElement("div"); div.className = "step";
      div.innerHTML = `<div class="eq"></div><div class="shapes"></div><pre></pre>`;
      div.querySelector(".eq").textContent = step.equation;
      div.querySelector(".shapes").textContent = step.shapes;
      div.querySelector("pre").textContent = step.matrix;
      if (step.check !== null) {
        const c = document.createElement("pre"); c.className = "check";
        c.textContent = `finite differences (relative error ${step.error.toExponential(1)}):\n${step.check}`;
        div.appendChild(c);
      }
      trace.appendChild(div);
    });
  });
}

async function startTraining() {
  try {
    const options = await api("/api/options");
    state.caps = options.caps;
    const d = options.defaults;
    fill($("dataset"), options.datasets, d.dataset);
    fill($("activation"), options.activations, d.activation);
    fill($("optimizer"), options.optimizers, d.optimizer);
    fill($("regularization"), options.regularizations, d.regularization);
    const created = await api("/api/sessions", "POST", settings());
    state.id = created.id;
    render(created.frame);
    openStream();
  } catch (err) { showProblem(err.message); }
}

$("train").onclick = async () => {
  try { setPlaying((await api(`/api/sessions/${state.id}/${state.playing ? "pause" : "play"}`, "POST")).playing); }
  catch (err) { showProblem(err.message); }
};
$("step").onclick = async () => {
  try {
    setPlaying(false);
    render(await api(`/api/sessions/${state.id}/step`, "POST"));
    if (state.traceShown) await explain();
  } catch (err) { showProblem(err.message); }
};
$("reset").onclick = () => { state.seed += 1; reset(); };
$("explain").onclick = () => explain().catch(err => showProblem(err.message));
$("layer-add").onclick = () => { if (state.hidden.length < state.caps.hidden_layers) { state.hidden = [...state.hidden, 4]; reset(); } };
$("layer-remove").onclick = () => { state.hidden = state.hidden.slice(0, -1); reset(); };
SETTINGS.forEach(name => $(name).addEventListener("change", reset));
$("noise").addEventListener("input", () => { $("noise-out").textContent = $("noise").value; });
$("test_fraction").addEventListener("input", () => { $("test-out").textContent = Math.round($("test_fraction").value * 100) + "%"; });
window.addEventListener("beforeunload", () => { if (state.stream) state.stream.close(); });

document.querySelectorAll(".tab").forEach(tab => tab.onclick = () => {
  document.querySelectorAll(".tab").forEach(t => t.classList.toggle("active", t === tab));
  document.querySelectorAll(".view").forEach(v => { v.hidden = v.id !== tab.dataset.view; });
  if (tab.dataset.view === "digit-view") startDigits();
});

startTraining();
