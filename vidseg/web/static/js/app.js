// The page: open a video, select objects with clicks or a box, propagate, correct, export.
import * as api from "./api.js";
import { clearCanvas, drawBox, drawClicks, drawFrame, drawMask, objectColor } from "./overlay.js";

const $ = (id) => document.getElementById(id);
const canvases = { frame: $("frame-canvas"), mask: $("mask-canvas"), input: $("input-canvas") };
const state = { project: null, frame: 0, objId: 1, clicks: [], drag: null, timer: null, playing: false, follow: true };

function say(text, isError = false) {
  $("message").textContent = text;
  $("message").className = isError ? "error" : "";
}

function fail(error) {
  say(error.message, true);
  $("reload").hidden = !(error.status === 409 && /another tab/.test(error.message));
}

async function busy(work) {
  document.body.dataset.state = "busy";
  try { return await work(); } catch (error) { fail(error); return undefined; }
  finally { document.body.dataset.state = "idle"; }
}

// ---- lists ------------------------------------------------------------------------------------

async function refreshLists() {
  const [videos, projects] = await Promise.all([api.get("/api/videos"), api.get("/api/projects")]);
  $("data-videos").replaceChildren(...(videos.length ? videos.map((v) => new Option(v, v))
    : [new Option("no video or folder of frames in the data folder's videos/", "")]));
  $("open-video").disabled = videos.length === 0;
  $("projects").replaceChildren(...projects.map((p) => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `#project=${p.id}`;
    link.textContent = `${p.name} (${p.num_frames} frames)`;
    link.title = link.textContent;
    link.className = state.project && state.project.id === p.id ? "open" : "";
    const rename = button("Rename", `rename project ${p.name}`, () => renameProject(p));
    const remove = button("Delete", `delete project ${p.name}`, () => deleteProject(p));
    item.append(link, rename, remove);
    return item;
  }));
}

function button(text, label, action) {
  const element = document.createElement("button");
  element.textContent = text;
  element.setAttribute("aria-label", label);
  element.addEventListener("click", action);
  return element;
}

async function renameProject(p) {
  const name = window.prompt(`New name for ${p.name}:`, p.name);
  if (name === null) return;
  await busy(async () => {
    const project = await api.patch(`/api/projects/${p.id}`, { name });
    if (state.project && state.project.id === p.id) update(project);
    await refreshLists();
    say(`Renamed to ${project.name}.`);
  });
}

async function deleteProject(p) {
  if (!window.confirm(`Delete the project ${p.name} and its masks? This cannot be undone.`)) return;
  await busy(async () => {
    await api.del(`/api/projects/${p.id}`);
    if (state.project && state.project.id === p.id) closeProject();
    await refreshLists();
    say(`Deleted ${p.name}.`);
  });
}

function closeProject() {
  state.project = null;
  state.playing = false;
  clearTimeout(state.timer);
  history.replaceState(null, "", location.pathname + location.search);
  $("project-name").textContent = "no project open";
  delete document.body.dataset.version;
  showStart(true);
  updateExportLink();
}

function showStart(shown) {
  $("start").hidden = !shown;
  $("stage").hidden = shown;
  for (const id of ["propagate", "new-object", "play", "prev", "next", "frame-slider"]) $(id).disabled = shown;
  if (shown) for (const id of ["undo", "rename-object", "delete-object"]) $(id).disabled = true;
}

// ---- project ----------------------------------------------------------------------------------

async function openProject(project) {
  state.project = project;
  for (const canvas of Object.values(canvases)) { canvas.width = project.width; canvas.height = project.height; }
  // Small videos are shown at up to twice their size, large ones fit the page.
  document.querySelector("main").style.maxWidth = `${Math.max(2 * project.width, 480)}px`;
  $("frame-slider").max = project.num_frames - 1;
  state.objId = project.objects.length ? project.objects[0] : 1;
  state.clicks = [];
  location.hash = `project=${project.id}`;
  say(`Opened ${project.name}: ${project.num_frames} frames, ${project.width}x${project.height}. ` +
      "Click on an object to select it.");
  $("reload").hidden = true;
  showStart(false);
  update(project);
  await Promise.all([showFrame(0), refreshLists()]);
  if (project.job && project.job.state === "running") poll();
}

function update(project) {
  state.project = project;
  document.body.dataset.version = project.version;
  $("project-name").textContent = project.name;
  const ids = [...new Set([...project.objects, state.objId])].sort((a, b) => a - b);
  const names = project.names || {};
  $("object-select").replaceChildren(...ids.map((id) => new Option(
    names[id] ? `object ${id}: ${names[id]}` : `object ${id}`, id, false, id === state.objId)));
  const known = project.objects.includes(state.objId);
  $("rename-object").disabled = !known;
  $("delete-object").disabled = !known;
  $("undo").disabled = !project.can_undo;
  $("object-swatch").style.background = objectColor(state.objId);
  const computed = new Set(project.computed), prompted = new Set(project.prompted);
  $("computed-strip").replaceChildren(...Array.from({ length: project.num_frames }, (_, i) => {
    const cell = document.createElement("span");
    cell.className = prompted.has(i) ? "prompt" : computed.has(i) ? "done" : "";
    return cell;
  }));
  showJob(project.job);
  updateExportLink();
}

function showJob(job) {
  const running = Boolean(job && job.state === "running");
  document.body.dataset.job = job ? job.state : "none";
  $("propagate").disabled = running;
  $("cancel").hidden = !running;
  $("resume").hidden = !job || !["cancelled", "interrupted", "failed"].includes(job.state);
  $("progress").max = job ? Math.max(job.total, 1) : 1;
  $("progress").value = job ? job.done : 0;
  const text = !job ? "" : running ? `propagating: ${job.done} / ${job.total} frames`
    : job.state === "done" ? `propagated ${job.done} frames` : `${job.state}: ${job.message}`;
  $("status").textContent = text;
}

async function reloadProject() {
  const project = await api.get(`/api/projects/${state.project.id}`);
  update(project);
  await showFrame(state.frame);
  $("reload").hidden = true;
  say("Reloaded the project.");
}

// ---- frames -----------------------------------------------------------------------------------

async function showFrame(frame) {
  const project = state.project;
  if (!project) return;
  frame = Math.max(0, Math.min(project.num_frames - 1, frame));
  if (frame !== state.frame) state.clicks = [];
  state.frame = frame;
  $("frame-slider").value = frame;
  $("frame-label").textContent = `${frame} / ${project.num_frames - 1}`;
  await Promise.all([drawFrame(canvases.frame, api.frameUrl(project.id, frame)), showMask()]);
  document.body.dataset.frame = frame;
}

// The current frame's masks and clicks drawn again (after an edit: the frame itself is unchanged).
async function showMask() {
  const project = state.project;
  const tag = `${project.version}-${project.job ? project.job.done : 0}`;
  await drawMask(canvases.mask, api.maskUrl(project.id, state.frame, tag));
  drawClicks(canvases.input, state.clicks);
}

function togglePlay() {
  state.playing = !state.playing;
  $("play").textContent = state.playing ? "Pause" : "Play";
  if (state.playing) playNext();
}

async function playNext() {
  if (!state.playing || !state.project) return;
  const started = performance.now();
  const next = state.frame + 1 >= state.project.num_frames ? 0 : state.frame + 1;
  await showFrame(next);
  const period = 1000 / (state.project.fps || 24);
  setTimeout(playNext, Math.max(0, period - (performance.now() - started)));
}

// ---- edits ------------------------------------------------------------------------------------

function toPixels(event) {
  const rect = canvases.input.getBoundingClientRect();
  const x = (event.clientX - rect.left) * canvases.input.width / rect.width;
  const y = (event.clientY - rect.top) * canvases.input.height / rect.height;
  return [Math.max(0, Math.min(canvases.input.width - 1, x)), Math.max(0, Math.min(canvases.input.height - 1, y))];
}

async function edit(kind, payload) {
  const project = state.project;
  if (!project) return say("Open a video first.", true);
  const body = { version: project.version, frame: state.frame, obj_id: state.objId, ...payload };
  await busy(async () => {
    const started = performance.now();
    update(await api.post(`/api/projects/${project.id}/${kind}`, body));
    await showMask();
    const ms = Math.round(performance.now() - started);
    document.body.dataset.lastEditMs = ms;
    say(`Object ${state.objId} on frame ${state.frame} updated (${ms} ms). Correct it with more clicks, ` +
        "on this or any frame, then Propagate.");
  });
}

function onPointerDown(event) {
  if (!state.project || event.button > 2) return;
  event.preventDefault();
  if (document.body.dataset.state === "busy") return say("Still working on the previous edit; click again in a moment.");
  const [x, y] = toPixels(event);
  const tool = document.querySelector("input[name=tool]:checked").value;
  if (tool === "box") {
    state.drag = [x, y, x, y];
    canvases.input.setPointerCapture(event.pointerId);
    return;
  }
  const positive = event.button === 0 && !event.shiftKey;
  state.clicks.push([x, y, positive]);
  drawClicks(canvases.input, state.clicks);
  edit("clicks", { clicks: [[x, y, positive]] });
}

function onPointerMove(event) {
  if (!state.drag) return;
  [state.drag[2], state.drag[3]] = toPixels(event);
  drawBox(canvases.input, state.drag, objectColor(state.objId));
}

function onPointerUp() {
  if (!state.drag) return;
  const [x0, y0, x1, y1] = state.drag;
  state.drag = null;
  clearCanvas(canvases.input);
  const box = [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1) + 1, Math.max(y0, y1) + 1];
  if (box[2] - box[0] < 4 || box[3] - box[1] < 4) return say("Drag a larger box around the object.", true);
  state.clicks = [];
  edit("box", { box });
}

// ---- propagation ------------------------------------------------------------------------------

async function propagate(resume) {
  const project = state.project;
  if (!project) return say("Open a video first.", true);
  await busy(async () => {
    update(await api.post(`/api/projects/${project.id}/propagate`, { version: project.version, resume }));
    say("Propagating; the masks appear as they are computed. You can cancel at any time.");
    state.follow = true;
    poll();
  });
}

async function poll() {
  clearTimeout(state.timer);
  if (!state.project) return;
  const id = state.project.id;
  let project;
  try { project = await api.get(`/api/projects/${id}`); } catch (error) { fail(error); return; }
  if (!state.project || state.project.id !== id) return;
  update(project);
  const job = project.job;
  if (state.follow && job && job.last_frame !== null && !state.playing) await showFrame(job.last_frame);
  if (job && job.state === "running") {
    state.timer = setTimeout(poll, 300);
  } else if (job) {
    say(job.state === "done" ? `Propagation finished: ${job.done} frames. Scrub to check, correct any frame, export.`
      : `Propagation ${job.state}: ${job.message}`, job.state === "failed");
  }
}

async function cancel() {
  await busy(async () => {
    await api.post(`/api/projects/${state.project.id}/cancel`);
    say("Cancelling after the current frame; the frames done are kept.");
  });
}

// ---- export and objects -----------------------------------------------------------------------

function updateExportLink() {
  const kinds = ["masks", "overlay", "alpha", "rle"].filter((k) => $(`export-${k}`).checked);
  const link = $("export-link");
  link.href = state.project && kinds.length ? api.exportUrl(state.project.id, kinds) : "#";
  link.setAttribute("aria-disabled", String(link.getAttribute("href") === "#"));
}

async function undo() {
  const project = state.project;
  if (!project || $("undo").disabled) return;
  await busy(async () => {
    const answer = await api.post(`/api/projects/${project.id}/undo`, { version: project.version });
    state.clicks = [];
    if (!answer.objects.includes(state.objId) && answer.objects.length) state.objId = answer.objects[0];
    update(answer);
    await showFrame(answer.undone_frame);
    say(`Undid the last click or box on frame ${answer.undone_frame}.`);
  });
}

async function renameObject() {
  const project = state.project;
  const current = (project.names || {})[state.objId] || "";
  const name = window.prompt(`Name of object ${state.objId}:`, current);
  if (name === null) return;
  await busy(async () => {
    update(await api.patch(`/api/projects/${project.id}/objects/${state.objId}`, { name }));
    say(`Object ${state.objId} is now called ${state.project.names[state.objId]}.`);
  });
}

async function deleteObject() {
  const project = state.project, objId = state.objId;
  if (!window.confirm(`Delete object ${objId} from every frame?`)) return;
  await busy(async () => {
    const answer = await api.del(`/api/projects/${project.id}/objects/${objId}?version=${project.version}`);
    state.objId = answer.objects.length ? answer.objects[0] : 1;
    state.clicks = [];
    update(answer);
    await showFrame(state.frame);
    say(`Deleted object ${objId}.`);
  });
}

function newObject() {
  if (!state.project) return;
  const ids = [...state.project.objects, state.objId];
  state.objId = Math.max(0, ...ids) + 1;
  state.clicks = [];
  update(state.project);
  say(`New object ${state.objId}: click on it or drag a box around it.`);
}

async function uploadFile(file) {
  say(`Uploading ${file.name} (${(file.size / 2 ** 20).toFixed(1)} MB)...`);
  await busy(async () => openProject(await api.upload(file)));
  $("upload-input").value = "";
}

async function openFromHash() {
  const match = /project=(\d+)/.exec(location.hash);
  if (match && (!state.project || state.project.id !== Number(match[1]))) {
    await busy(async () => openProject(await api.get(`/api/projects/${match[1]}`)));
  }
}

function wire() {
  $("upload-input").addEventListener("change", (e) => e.target.files[0] && uploadFile(e.target.files[0]));
  $("open-video").addEventListener("click", () => busy(async () =>
    openProject(await api.post("/api/projects", { video: $("data-videos").value }))));
  $("frame-slider").addEventListener("input", (e) => { state.follow = false; showFrame(Number(e.target.value)); });
  $("prev").addEventListener("click", () => { state.follow = false; showFrame(state.frame - 1); });
  $("next").addEventListener("click", () => { state.follow = false; showFrame(state.frame + 1); });
  $("play").addEventListener("click", togglePlay);
  $("propagate").addEventListener("click", () => propagate(false));
  $("resume").addEventListener("click", () => propagate(true));
  $("cancel").addEventListener("click", cancel);
  $("reload").addEventListener("click", () => busy(reloadProject));
  $("new-object").addEventListener("click", newObject);
  $("undo").addEventListener("click", undo);
  $("rename-object").addEventListener("click", renameObject);
  $("delete-object").addEventListener("click", deleteObject);
  $("object-select").addEventListener("change", (e) => { state.objId = Number(e.target.value); state.clicks = []; update(state.project); });
  for (const kind of ["masks", "overlay", "alpha", "rle"]) $(`export-${kind}`).addEventListener("change", updateExportLink);
  $("export-link").addEventListener("click", (e) => { if ($("export-link").getAttribute("href") === "#") { e.preventDefault(); say("Open a project and choose what to export.", true); } });
  const input = canvases.input;
  input.addEventListener("pointerdown", onPointerDown);
  input.addEventListener("pointermove", onPointerMove);
  input.addEventListener("pointerup", onPointerUp);
  input.addEventListener("contextmenu", (e) => e.preventDefault());
  window.addEventListener("hashchange", openFromHash);
  document.addEventListener("keydown", (e) => {
    if (e.target.tagName === "INPUT" && e.target.type !== "range") return;
    if (e.key === "ArrowRight") showFrame(state.frame + 1);
    if (e.key === "ArrowLeft") showFrame(state.frame - 1);
    if (e.key === "z" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); undo(); }
  });
}

wire();
showStart(true);
refreshLists().then(openFromHash).catch(fail).finally(() => { document.body.dataset.ready = "1"; });
