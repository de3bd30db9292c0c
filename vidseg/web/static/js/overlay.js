// Drawing: the frame, the objects' masks over it (half-transparent, solid contour), and the box being dragged.

const loadImage = (url) => new Promise((resolve, reject) => {
  const image = new Image();
  image.onload = () => resolve(image);
  image.onerror = () => reject(new Error(`could not load ${url}`));
  image.src = url;
});

export async function drawFrame(canvas, url) {
  const image = await loadImage(url);
  canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
}

// The mask PNG holds object ids in the DAVIS palette (dark colours, made for files); the page maps
// each palette colour back to its id and draws the id in a bright colour: objects half-transparent,
// their contours opaque, background transparent.
let idOfColor = null;

function paletteIds() {
  if (!idOfColor) {
    idOfColor = new Map();
    for (let id = 1; id < 256; id++) {
      const [r, g, b] = paletteRgb(id);
      idOfColor.set((r << 16) | (g << 8) | b, id);
    }
  }
  return idOfColor;
}

export async function drawMask(canvas, url) {
  const image = await loadImage(url);
  const { width, height } = canvas;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.clearRect(0, 0, width, height);
  ctx.drawImage(image, 0, 0, width, height);
  const pixels = ctx.getImageData(0, 0, width, height);
  const d = pixels.data;
  const lookup = paletteIds();
  const ids = new Uint8Array(width * height);
  // Masks come in long runs of one colour: the map is asked only where the colour changes.
  let lastColor = -1, lastId = 0;
  for (let p = 0; p < ids.length; p++) {
    const color = (d[p * 4] << 16) | (d[p * 4 + 1] << 8) | d[p * 4 + 2];
    if (color !== lastColor) { lastColor = color; lastId = lookup.get(color) || 0; }
    ids[p] = lastId;
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const id = ids[p];
      const q = p * 4;
      if (id === 0) { d[q + 3] = 0; continue; }
      const edge = (x > 0 && ids[p - 1] !== id) || (x < width - 1 && ids[p + 1] !== id)
        || (y > 0 && ids[p - width] !== id) || (y < height - 1 && ids[p + width] !== id);
      const [r, g, b] = BRIGHT[(id - 1) % BRIGHT.length];
      d[q] = r; d[q + 1] = g; d[q + 2] = b; d[q + 3] = edge ? 255 : 130;
    }
  }
  ctx.putImageData(pixels, 0, 0);
}

const BRIGHT = [[255, 59, 48], [52, 199, 89], [0, 122, 255], [255, 204, 0], [175, 82, 222], [255, 149, 0],
  [90, 200, 250], [255, 45, 85]];

export function clearCanvas(canvas) {
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
}

export function drawBox(canvas, box, color) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!box) return;
  ctx.strokeStyle = color;
  ctx.lineWidth = Math.max(2, canvas.width / 400);
  ctx.setLineDash([8, 5]);
  ctx.strokeRect(box[0], box[1], box[2] - box[0], box[3] - box[1]);
}

export function drawClicks(canvas, clicks) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const r = Math.max(4, canvas.width / 160);
  for (const [x, y, positive] of clicks) {
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fillStyle = positive ? "#2ecc40" : "#ff4136";
    ctx.fill();
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#fff";
    ctx.stroke();
  }
}

// The DAVIS / PASCAL VOC palette colour of an object id, as the server writes masks with it.
function paletteRgb(id) {
  let r = 0, g = 0, b = 0, c = id;
  for (let shift = 7; shift >= 0; shift--) {
    r |= (c & 1) << shift; g |= ((c >> 1) & 1) << shift; b |= ((c >> 2) & 1) << shift;
    c >>= 3;
  }
  return [r, g, b];
}

// The colour the page shows object ``id`` in.
export function objectColor(id) {
  const [r, g, b] = BRIGHT[(id - 1) % BRIGHT.length];
  return `rgb(${r}, ${g}, ${b})`;
}
