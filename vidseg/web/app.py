"""The HTTP API and the page: ``create_app(ServeConfig)`` gives the FastAPI application.

Routes (JSON unless said; every edit carries the project ``version`` the page last saw, and a
stale one is answered 409 with a message saying another tab changed the project; an edit answers
with the project as ``GET /api/projects/{id}`` does):

    GET  /                                   the page (vidseg/web/static/index.html)
    GET  /api/videos                         videos and folders of frames (ending in /) in the data folder's videos/
    GET  /api/projects                       projects, newest first
    POST /api/projects {video}               the project of a video or folder of frames of the data folder
    POST /api/upload?name=FILE               body: the video's bytes; a project for it
    GET  /api/projects/{id}                  the project: objects, prompted and computed frames, job
    GET  /api/projects/{id}/frames/{i}.jpg   frame i
    GET  /api/projects/{id}/masks/{i}.png    frame i's label map (index PNG, DAVIS palette)
    POST /api/projects/{id}/box {version, frame, obj_id, box}
    POST /api/projects/{id}/clicks {version, frame, obj_id, clicks: [[x, y, positive], ...]}
    POST /api/projects/{id}/undo {version}   the last click or box taken back (its frame's prompt as before)
    DELETE /api/projects/{id}/objects/{obj}?version=N   the object out of every prompt and mask
    PATCH /api/projects/{id}/objects/{obj} {name}        the object's name
    PATCH /api/projects/{id} {name}          the project's name
    DELETE /api/projects/{id}                the project, its masks and (if uploaded) its video
    POST /api/projects/{id}/propagate {version, resume}
    POST /api/projects/{id}/cancel
    GET  /api/projects/{id}/export?kinds=masks,overlay,alpha,rle   a zip
"""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from vidseg.errors import InputError, OutputError
from vidseg.io.atomic import write_bytes_atomic
from vidseg.io.masks import DAVIS_PALETTE
from vidseg.ops.boxes import Box
from vidseg.web import exports, jobs, uploads
from vidseg.web.security import Guard, GuardMiddleware, is_loopback
from vidseg.web.store import ConflictError, Store
from vidseg.web.workspace import Workspace

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeConfig:
    data: Path
    host: str = "127.0.0.1"
    port: int = 8000  # the port served: on loopback, the one a request's Host must name
    token: str | None = None
    max_upload_bytes: int = 500 * 2**20
    method: str = "default"  # the propagation method (see vidseg.engine.vos.methods)
    interactive_model: str = "default"
    backend: str = "auto"  # "torch", "onnxruntime", or "auto": ONNX Runtime where installed


class OpenVideo(BaseModel):
    video: str


class BoxEdit(BaseModel):
    version: int
    frame: int
    obj_id: int
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 (x1, y1 exclusive), as a Box


class ClicksEdit(BaseModel):
    version: int
    frame: int
    obj_id: int
    clicks: list[tuple[float, float, bool]]


class VersionOnly(BaseModel):
    version: int


class Rename(BaseModel):
    name: str


class PropagateRequest(BaseModel):
    version: int
    resume: bool = False


def create_app(config: ServeConfig) -> FastAPI:
    store = Store(config.data)
    workspace = Workspace(store, method=config.method, interactive_model=config.interactive_model,
                          backend=config.backend)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        # A server stopped cleanly lets running passes finish their frame and records them as cancelled.
        await run_in_threadpool(jobs.stop_all, workspace)
        workspace.close()
        store.close()

    app = FastAPI(title="vidseg", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.workspace = workspace
    guard = Guard(config.token, loopback_only=is_loopback(config.host), port=config.port)
    app.add_middleware(GuardMiddleware, guard=guard)
    _add_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})

    @app.get("/api/config")
    def server_config() -> dict:
        return {"max_upload_bytes": config.max_upload_bytes, "method": config.method,
                "video_types": uploads.SUPPORTED, "models_ready": workspace.models_ready}

    @app.get("/api/videos")
    def videos() -> list[str]:
        return uploads.data_videos(store)

    @app.get("/api/projects")
    def projects() -> list[dict]:
        return [{"id": p.id, "name": p.name, "num_frames": p.num_frames} for p in store.projects()]

    @app.post("/api/projects")
    def open_video(body: OpenVideo) -> dict:
        return describe(workspace, uploads.open_data_video(store, body.video).id)

    @app.post("/api/upload")
    async def upload(request: Request, name: str) -> dict:
        uploads.check_upload_name(name)
        uploads.check_declared_size(request.headers.get("content-length"), config.max_upload_bytes)
        tmp, digest = await uploads.save_upload(request.stream(), store, name, config.max_upload_bytes)
        project = await run_in_threadpool(uploads.keep_upload, store, tmp, name, digest)
        return await run_in_threadpool(describe, workspace, project.id)

    @app.get("/api/projects/{project_id}")
    def project(project_id: int) -> dict:
        return describe(workspace, project_id)

    @app.get("/api/projects/{project_id}/frames/{frame}.jpg")
    def frame_image(project_id: int, frame: int) -> Response:
        return Response(frame_jpeg(workspace, project_id, frame), media_type="image/jpeg",
                        headers={"cache-control": "private, max-age=3600"})

    @app.get("/api/projects/{project_id}/masks/{frame}.png")
    def mask_image(project_id: int, frame: int) -> Response:
        labels = workspace.frame_labels(project_id, frame)
        return Response(index_png(labels), media_type="image/png", headers={"cache-control": "no-store"})

    @app.post("/api/projects/{project_id}/box")
    def box(project_id: int, body: BoxEdit) -> dict:
        workspace.add_box(project_id, body.version, body.frame, body.obj_id, Box(*body.box))
        return describe(workspace, project_id)

    @app.post("/api/projects/{project_id}/clicks")
    def clicks(project_id: int, body: ClicksEdit) -> dict:
        workspace.add_clicks(project_id, body.version, body.frame, body.obj_id, body.clicks)
        return describe(workspace, project_id)

    @app.post("/api/projects/{project_id}/undo")
    def undo(project_id: int, body: VersionOnly) -> dict:
        frame = workspace.undo(project_id, body.version)
        return {**describe(workspace, project_id), "undone_frame": frame}

    @app.delete("/api/projects/{project_id}/objects/{obj_id}")
    def delete_object(project_id: int, obj_id: int, version: int) -> dict:
        workspace.delete_object(project_id, version, obj_id)
        return describe(workspace, project_id)

    @app.patch("/api/projects/{project_id}/objects/{obj_id}")
    def rename_object(project_id: int, obj_id: int, body: Rename) -> dict:
        if obj_id not in describe(workspace, project_id)["objects"]:
            raise InputError(f"object {obj_id} is not in this project; select it on a frame before naming it")
        workspace.store.rename_object(project_id, obj_id, body.name)
        return describe(workspace, project_id)

    @app.patch("/api/projects/{project_id}")
    def rename_project(project_id: int, body: Rename) -> dict:
        workspace.store.rename_project(project_id, body.name)
        return describe(workspace, project_id)

    @app.delete("/api/projects/{project_id}")
    def delete_project(project_id: int) -> dict:
        uploads.forget_video(workspace.store, workspace.delete_project(project_id))
        return {"deleted": project_id}

    @app.post("/api/projects/{project_id}/propagate")
    def propagate(project_id: int, body: PropagateRequest) -> dict:
        jobs.start(workspace, project_id, body.version, resume=body.resume)
        return describe(workspace, project_id)

    @app.post("/api/projects/{project_id}/cancel")
    def cancel(project_id: int) -> dict:
        jobs.cancel(workspace, project_id)
        return {"cancelling": True}

    @app.get("/api/projects/{project_id}/export")
    def export(project_id: int, kinds: str = "masks") -> FileResponse:
        path = exports.export_zip(workspace, project_id, exports.parse_kinds(kinds))
        return FileResponse(path, media_type="application/zip", filename=path.name)

    return app


def describe(workspace: Workspace, project_id: int) -> dict:
    """The project as the page needs it (the session's view, so it includes unsaved-to-disk nothing)."""
    project = workspace.store.project(project_id)
    held = workspace.get(project_id).session.snapshot()
    job = workspace.store.job(project_id)
    return {"id": project.id, "name": project.name, "num_frames": project.num_frames, "width": project.width,
            "height": project.height, "fps": project.fps, "version": project.version,
            "objects": sorted(set(held.objects).union(*(p.objects for p in held.prompts.values()))),
            "names": {str(k): v for k, v in workspace.store.object_names(project_id).items()},
            "can_undo": workspace.store.can_undo(project_id),
            "prompted": sorted(held.prompts),
            "pending": sorted(held.pending),
            "computed": [i for i in range(project.num_frames) if i in held.computed],
            "job": None if job is None else job.to_json()}


def frame_jpeg(workspace: Workspace, project_id: int, frame: int) -> bytes:
    """Frame ``frame`` as JPEG, decoded once and kept under the project's folder."""
    path = workspace.store.frame_path(project_id, frame)
    if path.is_file():
        return path.read_bytes()
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(workspace.read_frame(project_id, frame)).save(buffer, format="JPEG", quality=88)
    data = buffer.getvalue()
    write_bytes_atomic(path, data)
    return data


def index_png(labels) -> bytes:
    from PIL import Image

    image = Image.fromarray(labels)
    image.putpalette(DAVIS_PALETTE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _add_error_handlers(app: FastAPI) -> None:
    """A user's mistake answers with its one-line message; the status says which kind."""

    def status_of(error: Exception) -> int:
        if isinstance(error, ConflictError):
            return 409
        if isinstance(error, uploads.TooLarge):
            return 413
        if isinstance(error, uploads.NotAVideo):
            return 415
        if isinstance(error, LookupError):
            return 404
        if isinstance(error, OutputError):
            return 500
        return 400

    async def handler(request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": message_of(error)}, status_code=status_of(error))

    async def disconnected(request: Request, error: ClientDisconnect) -> Response:
        # The client went away mid-request (a closed tab, a cancelled upload): nothing of it was kept
        # (save_upload removes its partial file), so one line in the log, not a traceback.
        log.warning("%s %s: the client disconnected before the request was complete; nothing was kept",
                    request.method, request.url.path)
        return Response(status_code=400)  # nobody reads it

    for kind in (InputError, OutputError, LookupError):
        app.add_exception_handler(kind, handler)
    app.add_exception_handler(ClientDisconnect, disconnected)


def message_of(error: Exception) -> str:
    """The error's message. ``str(KeyError("x"))`` is ``"'x'"``, so a KeyError gives its argument;
    stripping quotes off every message instead cut the opening quote of one that begins with a
    quoted file name (``notes.txt' is not a video file``)."""
    if isinstance(error, KeyError) and len(error.args) == 1:
        return str(error.args[0])
    return str(error)
