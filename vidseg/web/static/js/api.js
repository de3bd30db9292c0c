// The server's HTTP API: every call returns parsed JSON or throws an ApiError with the server's message.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function parse(response) {
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    let detail = body && body.detail !== undefined ? body.detail : body;
    if (Array.isArray(detail)) detail = detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
    throw new ApiError(response.status, String(detail || response.statusText));
  }
  return body;
}

export async function get(path) {
  return parse(await fetch(path, { headers: { accept: "application/json" } }));
}

export async function post(path, data) {
  return parse(await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(data ?? {}),
  }));
}

async function send(method, path, data) {
  return parse(await fetch(path, {
    method,
    headers: { "content-type": "application/json", accept: "application/json" },
    body: data === undefined ? undefined : JSON.stringify(data),
  }));
}

export const patch = (path, data) => send("PATCH", path, data);
export const del = (path) => send("DELETE", path);

export async function upload(file) {
  const type = file.type || "application/octet-stream";
  return parse(await fetch(`/api/upload?name=${encodeURIComponent(file.name)}`, {
    method: "POST", headers: { "content-type": type }, body: file,
  }));
}

export const frameUrl = (id, frame) => `/api/projects/${id}/frames/${frame}.jpg`;
export const maskUrl = (id, frame, tag) => `/api/projects/${id}/masks/${frame}.png?t=${tag}`;
export const exportUrl = (id, kinds) => `/api/projects/${id}/export?kinds=${kinds.join(",")}`;
