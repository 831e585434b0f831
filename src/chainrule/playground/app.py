"""The playground's web server: a Starlette app whose endpoints drive chainrule itself.

    GET    /                               the page (every asset is served from this package)
    GET    /api/options                    the choices and caps the page offers
    POST   /api/sessions                   a new session from settings -> {id, frame}
    POST   /api/sessions/{id}/reset        new settings (or the same), weights drawn afresh -> frame
    POST   /api/sessions/{id}/step         one mini-batch -> frame
    POST   /api/sessions/{id}/play|pause   start or stop training in the stream
    GET    /api/sessions/{id}/stream       server-sent events: a frame after every few batches
    GET    /api/sessions/{id}/explain      every number of one forward and backward pass
    DELETE /api/sessions/{id}              release a session
    GET    /api/digits                     the digit model: where it came from, training progress
    POST   /api/digits                     a drawing -> ten probabilities and the input the model saw

Bad requests get a 4xx answer {"error": "..."} in the library's wording; nothing a page sends
can crash the server.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import secrets
import time
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import session as session_module
from .digits import MAX_SIDE, DigitModel, decode_drawing
from .session import Session
from .trace import explanation_json

STATIC = Path(__file__).resolve().parent / "static"
MAX_SESSIONS = 32
IDLE_SECONDS = 600.0   # a session nobody has asked about for this long is released
MAX_BODY = 1 << 20     # bytes of a request body
FRAME_SECONDS = 1 / 20  # the stream sends at most 20 frames a second


class Sessions:
    """The live sessions by id; idle ones are released."""

    def __init__(self, limit=MAX_SESSIONS, idle=IDLE_SECONDS):
        self.limit, self.idle, self.items = limit, idle, {}

    def prune(self):
        now = time.monotonic()
        for key in [k for k, s in self.items.items() if now - s.last_seen > self.idle]:
            del self.items[key]

    def create(self, config):
        self.prune()
        if len(self.items) >= self.limit:
            raise HTTPException(429, f"the playground holds {self.limit} sessions already; close a tab "
                                     "or wait for an idle one to be released")
        key = secrets.token_urlsafe(12)
        self.items[key] = Session(config)
        return key, self.items[key]

    def get(self, key):
        self.prune()
        s = self.items.get(key)
        if s is None:
            raise HTTPException(404, f"no session {key!r} (sessions left alone for {self.idle:g} s are "
                                     "released): reload the page")
        s.last_seen = time.monotonic()
        return s


async def _json_body(request, required=True):
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        raise HTTPException(413, f"the request body is over {MAX_BODY} bytes")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, f"the request body is over {MAX_BODY} bytes")
    if not body:
        if required:
            raise HTTPException(400, "the request needs a JSON body")
        return {}
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise HTTPException(400, f"the request body is not valid JSON: {err}") from None


def _locked(s, fn, *args):
    with s.lock:
        return fn(*args)


def create_app(digit_model=None, model_source=None, data_dir=None, train_mnist=True,
               idle_seconds=IDLE_SECONDS, max_sessions=MAX_SESSIONS):
    """The playground app. ``digit_model`` a trained 10-class model for the digit pad (else one is
    trained: on MNIST in the background if its files are found, the bundled digits meanwhile)."""
    sessions = Sessions(max_sessions, idle_seconds)
    state = {"closing": False, "digits": None}

    def digits():
        if state["digits"] is None:  # built on first use: a test of the training page needs none
            state["digits"] = DigitModel(digit_model, model_source, data_dir, train_mnist)
        return state["digits"]

    async def index(request):
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def options(request):
        s = session_module
        return JSONResponse({"datasets": s.DATASETS, "activations": s.HIDDEN_ACTIVATIONS,
                             "optimizers": list(session_module.OPTIMIZERS), "regularizations": s.REGULARIZATIONS,
                             "defaults": s.DEFAULTS, "caps": {"hidden_layers": s.MAX_HIDDEN_LAYERS,
                             "width": s.MAX_WIDTH, "batch_size": s.MAX_BATCH, "samples": s.MAX_SAMPLES}})

    async def create(request):
        config = await _json_body(request, required=False)
        key, s = await run_in_threadpool(sessions.create, config)
        return JSONResponse({"id": key, "frame": await run_in_threadpool(_locked, s, s.frame)})

    async def reset(request):
        s = sessions.get(request.path_params["id"])
        config = await _json_body(request, required=False)

        def work():
            s.config = session_module.parse_config({**s.config, **config})
            s.reset()
            return s.frame()
        return JSONResponse(await run_in_threadpool(_locked, s, work))

    async def step(request):
        s = sessions.get(request.path_params["id"])

        def work():
            s.playing = False
            s.step(1)
            return s.frame(points=False)
        return JSONResponse(await run_in_threadpool(_locked, s, work))

    async def play(request):
        s = sessions.get(request.path_params["id"])
        s.playing = request.url.path.endswith("/play")
        return JSONResponse({"playing": s.playing})

    async def explain(request):
        s = sessions.get(request.path_params["id"])
        ex, rows, batch = await run_in_threadpool(_locked, s, s.explain)
        return JSONResponse(explanation_json(ex, rows, batch, s.config["optimizer"]))

    async def release(request):
        sessions.get(request.path_params["id"])
        del sessions.items[request.path_params["id"]]
        return JSONResponse({"released": True})

    async def stream(request):
        key = request.path_params["id"]
        sessions.get(key)

        def advance(s):
            s.step(s.config["steps_per_frame"])
            return s.frame(points=False)

        async def events():
            quiet = 0.0
            while not state["closing"]:
                s = sessions.items.get(key)
                if s is None:
                    yield "event: gone\ndata: {}\n\n"
                    return
                s.last_seen = time.monotonic()
                if not s.playing:
                    await asyncio.sleep(FRAME_SECONDS)
                    quiet += FRAME_SECONDS
                    if quiet > 15:  # a comment now and then keeps proxies from closing the stream
                        quiet = 0.0
                        yield ": still here\n\n"
                    continue
                started = time.monotonic()
                try:
                    frame = await run_in_threadpool(_locked, s, advance, s)
                except FloatingPointError as err:
                    s.playing = False
                    yield f"event: problem\ndata: {json.dumps({'error': str(err)})}\n\n"
                    continue
                yield f"data: {json.dumps(frame)}\n\n"
                await asyncio.sleep(max(0.0, FRAME_SECONDS - (time.monotonic() - started)))

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def digit_status(request):
        return JSONResponse((await run_in_threadpool(digits)).status())

    async def digit_predict(request):
        body = await _json_body(request)
        if not isinstance(body, dict) or not {"width", "height", "pixels"} <= set(body):
            raise HTTPException(400, "playground: a drawing is {\"width\": w, \"height\": h, \"pixels\": "
                                     "base64 of w x h grey bytes}")
        width, height = body["width"], body["height"]
        for name, value in (("width", width), ("height", height)):
            if not isinstance(value, int) or isinstance(value, bool) or not 8 <= value <= MAX_SIDE:
                raise HTTPException(400, f"playground: {name} must be an integer in [8, {MAX_SIDE}]; "
                                         f"received {value!r}")
        try:
            pixels = base64.b64decode(str(body["pixels"]), validate=True)
        except (binascii.Error, ValueError):
            raise HTTPException(400, "playground: pixels must be base64 text") from None
        model = await run_in_threadpool(digits)
        p, seen = await run_in_threadpool(model.predict, decode_drawing(width, height, pixels))
        return JSONResponse({"probabilities": [round(float(v), 6) for v in p], "prediction": int(np.argmax(p)),
                             "input": np.round(seen, 3).tolist(), "empty": not bool(np.any(seen)),
                             **model.status()})

    async def bad_value(request, err):
        return JSONResponse({"error": str(err)}, status_code=400)

    async def http_error(request, err):
        return JSONResponse({"error": err.detail}, status_code=err.status_code)

    async def problem(request, err):
        return JSONResponse({"error": str(err)}, status_code=409)

    @asynccontextmanager
    async def lifespan(app):
        yield
        state["closing"] = True
        if state["digits"] is not None:
            state["digits"].stop()

    routes = [
        Route("/", index),
        Route("/api/options", options),
        Route("/api/sessions", create, methods=["POST"]),
        Route("/api/sessions/{id}/reset", reset, methods=["POST"]),
        Route("/api/sessions/{id}/step", step, methods=["POST"]),
        Route("/api/sessions/{id}/play", play, methods=["POST"]),
        Route("/api/sessions/{id}/pause", play, methods=["POST"]),
        Route("/api/sessions/{id}/stream", stream),
        Route("/api/sessions/{id}/explain", explain),
        Route("/api/sessions/{id}", release, methods=["DELETE"]),
        Route("/api/digits", digit_status),
        Route("/api/digits", digit_predict, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        ValueError: bad_value, TypeError: bad_value, HTTPException: http_error, FloatingPointError: problem})
    app.state.sessions, app.state.playground = sessions, state
    app.state.digits = digits
    app.state.close = lambda: state.update(closing=True)  # the streams end: the server can stop at once
    return app
