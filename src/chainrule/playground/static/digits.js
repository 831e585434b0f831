// The digit pad: strokes on a black canvas; the server makes the MNIST-style input and reads it.
"use strict";

const pad = {started: false, drawing: false, last: null, poll: null, busy: false, again: false};

function padContext() {
  const ctx = $("digit-canvas").getContext("2d");
  ctx.lineCap = ctx.lineJoin = "round"; ctx.lineWidth = 18; ctx.strokeStyle = "#fff";
  return ctx;
}

function clearPad() {
  const c = $("digit-canvas"), ctx = c.getContext("2d");
  ctx.fillStyle = "#000"; ctx.fillRect(0, 0, c.width, c.height);
  $("digit-prediction").textContent = "?";
  showBars(null);
  const input = $("digit-input"); input.getContext("2d").clearRect(0, 0, input.width, input.height);
}

function showBars(probabilities) {
  const box = $("digit-probabilities");
  box.innerHTML = "";
  const best = probabilities ? probabilities.indexOf(Math.max(...probabilities)) : -1;
  for (let d = 0; d < 10; d++) {
    const p = probabilities ? probabilities[d] : 0;
    const label = document.createElement("span"); label.textContent = d;
    const bar = document.createElement("div"); bar.className = "bar";
    bar.innerHTML = `<div style="width:${(p * 100).toFixed(1)}%"></div>`;
    const value = document.createElement("span"); value.className = "value";
    value.textContent = probabilities ? (p * 100).toFixed(1) + "%" : "";
    if (d === best) label.className = "best";
    box.append(label, bar, value);
  }
}

function showInput(rows) {
  const c = $("digit-input"), side = rows.length, ctx = c.getContext("2d");
  const img = ctx.createImageData(side, side);
  rows.flat().forEach((v, i) => { const g = Math.round(v * 255); img.data.set([g, g, g, 255], i * 4); });
  scratch.width = scratch.height = side;
  scratch.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(scratch, 0, 0, c.width, c.height);
}

function showModel(status) {
  let text = `Model: ${status.source}.`;
  if (status.side === 8) text += " Your drawing is read at 8x8, the size of the bundled digits.";
  if (status.training) text += ` Training a network on MNIST in the background: ${Math.round(status.progress * 100)}%.`;
  if (status.error) text += ` (${status.error})`;
  $("digit-model").textContent = text;
  $("digit-input-note").hidden = status.side === 8;
  $("digit-progress").hidden = !status.training;
  $("digit-progress").firstChild.style.width = (status.progress * 100).toFixed(0) + "%";
  if (!status.training && pad.poll) { clearInterval(pad.poll); pad.poll = null; }
}

async function read() {
  if (pad.busy) { pad.again = true; return; }  // one request at a time; the newest drawing wins
  pad.busy = true;
  try {
    const c = $("digit-canvas"), rgba = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    const grey = new Uint8Array(c.width * c.height);
    for (let i = 0; i < grey.length; i++) grey[i] = rgba[i * 4];
    const r = await api("/api/digits", "POST", {width: c.width, height: c.height, pixels: encodeBytes(grey)});
    showModel(r);
    if (r.empty) { $("digit-prediction").textContent = "?"; showBars(null); }
    else { $("digit-prediction").textContent = r.prediction; showBars(r.probabilities); }
    showInput(r.input);
  } catch (err) { $("digit-model").textContent = err.message; }
  pad.busy = false;
  if (pad.again) { pad.again = false; read(); }
}

function point(e) {
  const c = $("digit-canvas"), r = c.getBoundingClientRect();
  return [(e.clientX - r.left) * c.width / r.width, (e.clientY - r.top) * c.height / r.height];
}

async function startDigits() {
  if (pad.started) return;
  pad.started = true;
  clearPad();
  const c = $("digit-canvas");
  c.addEventListener("pointerdown", e => {
    pad.drawing = true; pad.last = point(e); c.setPointerCapture(e.pointerId);
    const ctx = padContext(); ctx.beginPath(); ctx.arc(...pad.last, 9, 0, 2 * Math.PI); ctx.fillStyle = "#fff"; ctx.fill();
  });
  c.addEventListener("pointermove", e => {
    if (!pad.drawing) return;
    const p = point(e), ctx = padContext();
    ctx.beginPath(); ctx.moveTo(...pad.last); ctx.lineTo(...p); ctx.stroke();
    pad.last = p;
  });
  const end = () => { if (pad.drawing) { pad.drawing = false; read(); } };
  c.addEventListener("pointerup", end);
  c.addEventListener("pointercancel", end);
  $("digit-clear").onclick = clearPad;
  const refresh = async () => showModel(await api("/api/digits"));
  try { await refresh(); } catch (err) { $("digit-model").textContent = err.message; }
  pad.poll = setInterval(() => refresh().catch(() => {}), 1000);
}
