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

// The mask PNG holds object ids in the DAVIS palette; the browser decodes it to those colours,
// so background is black: make it transparent, object pixels half, contour pixels opaque.
export async function drawMask(canvas, url) {
  const image = await loadImage(url);
  const { width, height } = canvas;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.clearRect(0, 0, width, height);
  ctx.drawImage(image, 0, 0, width, height);
  const pixels = ctx.getImageData(0, 0, width, height);
  const d = pixels.data;
  const key = (i) => (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
  const keys = new Int32Array(width * height);
  for (let p = 0; p < keys.length; p++) keys[p] = key(p * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const k = keys[p];
      if (k === 0) { d[p * 4 + 3] = 0; continue; }
      const edge = (x > 0 && keys[p - 1] !== k) || (x < width - 1 && keys[p + 1] !== k)
        || (y > 0 && keys[p - width] !== k) || (y < height - 1 && keys[p + width] !== k);
      d[p * 4 + 3] = edge ? 255 : 120;
    }
  }
  ctx.putImageData(pixels, 0, 0);
}

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

// DAVIS / PASCAL VOC palette colour of an object id (the server draws masks with it).
export function paletteColor(id) {
  let r = 0, g = 0, b = 0, c = id;
  for (let shift = 7; shift >= 0; shift--) {
    r |= (c & 1) << shift; g |= ((c >> 1) & 1) << shift; b |= ((c >> 2) & 1) << shift;
    c >>= 3;
  }
  return `rgb(${r}, ${g}, ${b})`;
}
