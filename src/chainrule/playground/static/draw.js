// Drawing helpers: the page only paints the numbers the server sends.
"use strict";

const ORANGE = [245, 147, 34], WHITE = [250, 250, 250], BLUE = [8, 119, 189];

// byte 0..255 -> colour: 0 orange, 128 white, 255 blue
function colour(byte) {
  const t = byte / 255;
  const [a, b, u] = t < 0.5 ? [ORANGE, WHITE, t * 2] : [WHITE, BLUE, (t - 0.5) * 2];
  return [0, 1, 2].map(i => Math.round(a[i] + (b[i] - a[i]) * u));
}
const PALETTE = Array.from({length: 256}, (_, i) => colour(i));

function decodeBytes(b64) {
  const text = atob(b64), out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function encodeBytes(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

// a side x side picture of bytes, painted (smoothly scaled) over the whole canvas
const scratch = document.createElement("canvas");
function paintHeat(canvas, bytes, side, alpha = 255) {
  scratch.width = scratch.height = side;
  const sctx = scratch.getContext("2d"), img = sctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const c = PALETTE[bytes[i]];
    img.data.set([c[0], c[1], c[2], alpha], i * 4);
  }
  sctx.putImageData(img, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(scratch, 0, 0, canvas.width, canvas.height);
}

// the train (filled) and test (ringed) points over [-view, view]^2
function paintPoints(canvas, points, view, ringed) {
  const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  points.x.forEach(([x, y], i) => {
    const px = (x + view) / (2 * view) * w, py = (view - y) / (2 * view) * h;
    const c = points.y[i] ? "rgb(8,119,189)" : "rgb(245,147,34)";
    ctx.beginPath();
    ctx.arc(px, py, 3.2, 0, 2 * Math.PI);
    if (ringed) { ctx.strokeStyle = c; ctx.lineWidth = 1.6; ctx.fillStyle = "#fff"; ctx.fill(); ctx.stroke(); }
    else { ctx.fillStyle = c; ctx.strokeStyle = "#fff"; ctx.lineWidth = 1; ctx.fill(); ctx.stroke(); }
  });
}

// the train and test loss against the step
function paintCurve(canvas, history) {
  const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height, pad = 4;
  ctx.clearRect(0, 0, w, h);
  const steps = history.step, last = Math.max(1, steps[steps.length - 1]);
  const top = Math.max(1e-9, ...history.train, ...history.test);
  ctx.strokeStyle = "#eee"; ctx.strokeRect(0.5, 0.5, w - 1, h - 1);
  [["test", "#999"], ["train", "#222"]].forEach(([key, c]) => {
    ctx.beginPath(); ctx.strokeStyle = c; ctx.lineWidth = 1.5;
    history[key].forEach((v, i) => {
      const x = pad + steps[i] / last * (w - 2 * pad), y = h - pad - v / top * (h - 2 * pad);
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
  });
  ctx.fillStyle = "#888"; ctx.font = "10px sans-serif";
  ctx.fillText(top.toFixed(3), 4, 11); ctx.fillText("train —  test ‒", w - 80, 11);
}

function svgLine(svg, x1, y1, x2, y2, width, stroke, title) {
  const line = document.createElementNS("http://www.w3.org/2000/svg", "line");
  Object.entries({x1, y1, x2, y2, stroke, "stroke-width": width, "stroke-opacity": 0.75})
    .forEach(([k, v]) => line.setAttribute(k, v));
  const t = document.createElementNS("http://www.w3.org/2000/svg", "title");
  t.textContent = title; line.appendChild(t);
  svg.appendChild(line);
  return line;
}
