"""The LibreTranslate HTTP API over translate_kit, as FastAPI routes.

Why FastAPI on Starlette and uvicorn: an ASGI app answers many waiting clients from one process
while the model works in its own thread (micro-batching needs requests to wait cheaply, not a
thread each); FastAPI writes the OpenAPI schema the fuzz tests and clients read, Starlette brings
form and multipart parsing (python-multipart), CORS and background tasks, and uvicorn stops
gracefully on SIGTERM (stops accepting, lets requests in flight finish, then runs the shutdown
that closes the cache). Flask (LibreTranslate's own) is synchronous: one thread per waiting
request, and no schema of its own.

The routes follow LibreTranslate's API as its clients call it: parameters in a JSON body, or
form-encoded (libretranslatepy, browser extensions), or in the query string; errors are
{"error": "..."} with LibreTranslate's statuses (400 bad request, 403 key, 429 slow down, 500
translation error), plus 413 for text over --char-limit or a file over the size limit (where
LibreTranslate says 400, and for an upload that expands too much), 408 for a body that stalls and
503 with Retry-After when a request times out. Every field is validated into a 400 before use;
text goes through one gate (`checked_text`). An exception nobody foresaw is a 500 (Guard), the
server goes on. No error body ever holds a path, a traceback or where a model lives: library
errors are logged on the server and answered in general words. /health is exactly LibreTranslate's
{"status": "ok"}; the batcher's figures are at /stats; /spec is the OpenAPI schema.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from ..errors import TkError
from ..options import DecodeOptions, RunOptions
from . import service
from .batcher import Batcher, Job, QueueFull
from .files import FileStore, safe_name
from .lanes import Lane

log = logging.getLogger("translate_kit")
MAX_ALTERNATIVES = 5  # the beam is widened to alternatives + 1: more would cost every such request dearly
LANGUAGES_TTL = 5.0  # seconds a /languages answer (and the pair checks) may be old



@dataclass(frozen=True)
class Settings:
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    run: RunOptions = field(default_factory=RunOptions.from_env)
    char_limit: int = 20_000  # characters per request (all of q); -1: none
    file_limit: int = 2_000_000  # bytes per uploaded file
    timeout: float = 120.0  # seconds a request may wait for its translation
    queue: int = 64  # requests waiting for the model; past it, 429
    batch_wait: float = 0.005  # seconds the worker waits for more requests to join a group
    api_keys: frozenset[str] = frozenset()  # empty: no key needed
    cors_origins: tuple[str, ...] = ()
    file_ttl: float = 600.0
    upload_limits: service.UploadLimits = field(default_factory=service.UploadLimits)  # what an upload may expand to
    read_timeout: float = 30.0  # seconds a request body may stall before a 408
    glossary: object = None  # a glossary.Enforcer every request follows (tk serve --glossary), or None

    @property
    def body_limit(self) -> int:
        chars = self.char_limit if self.char_limit > 0 else 1_000_000
        return max(self.file_limit, chars * 4) + 65_536


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def error_response(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class Guard:
    """The outermost layer of every request: what no route should have to think about.

    - the body is read here, whole, before the route runs: over `limit` bytes is a 413 (by
      Content-Length or as it streams in), a body that stalls `read_timeout` seconds is a 408 (not
      a connection held for minutes);
    - then the connection is watched: a client that leaves while its request is worked on has
      that work cancelled (a job not yet started is skipped; see Job.gone) and one log line;
    - an exception nobody foresaw is a 500 `{"error": ...}` (issue 22): its traceback goes to the
      log, never to the client, and the server goes on serving.
    """

    def __init__(self, app, limit: int, read_timeout: float = 30.0):
        self.app, self.limit, self.read_timeout = app, limit, read_timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        where = f"{scope['method']} {scope['path']}"
        try:
            body = await self._body(scope, receive)
        except ApiError as err:
            return await error_response(err.status, err.message, err.headers)(scope, receive, send)
        except ClientDisconnect:
            log.info("%s: the client went away before its request was read", where)
            return
        started = finished = False

        async def replay():
            nonlocal body
            if body is not None:
                message, body = {"type": "http.request", "body": body, "more_body": False}, None
                return message
            await gone.wait()
            return {"type": "http.disconnect"}

        async def tracked_send(message):
            nonlocal started, finished
            started = started or message["type"] == "http.response.start"
            finished = finished or (message["type"] == "http.response.body" and not message.get("more_body"))
            await send(message)

        gone = asyncio.Event()
        work = asyncio.ensure_future(self.app(scope, replay, tracked_send))
        watcher = asyncio.ensure_future(self._watch(receive, gone, work))
        try:
            await work
        except asyncio.CancelledError:
            if not gone.is_set() or finished:
                raise
            log.info("%s: the client went away; its work was cancelled", where)
        except Exception:  # noqa: BLE001 - issue 22: one request's failure is that request's alone
            log.exception("internal error on %s", where)
            if not started:
                await error_response(500, "Internal server error (see the server log)")(scope, receive, send)
        finally:
            watcher.cancel()

    async def _body(self, scope, receive) -> bytes:
        length = dict(scope.get("headers", [])).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            raise ApiError(413, f"Request too large (over {self.limit} bytes)")
        chunks, seen = [], 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), self.read_timeout)
            except asyncio.TimeoutError:
                raise ApiError(408, f"Request body not received within {self.read_timeout:g} s",
                               {"Connection": "close"}) from None
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.limit:
                raise ApiError(413, f"Request too large (over {self.limit} bytes)", {"Connection": "close"})
            if not message.get("more_body"):
                return b"".join(chunks)

    @staticmethod
    async def _watch(receive, gone: asyncio.Event, work: asyncio.Future) -> None:
        """Wait for the client to leave; then cancel its work (unless it is already answered)."""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                gone.set()
                if not work.done():
                    work.cancel()
                return


def JsonCors(app, **options):
    """Starlette's CORS middleware, whose refusal of a preflight (an origin, method or header not
    allowed) is plain text: here it is `{"error": ...}` like every other error."""
    from starlette.middleware.cors import CORSMiddleware

    class _JsonCors(CORSMiddleware):
        def preflight_response(self, request_headers):
            response = super().preflight_response(request_headers)
            if response.status_code < 400:
                return response
            headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
            return error_response(response.status_code, f"CORS refused: {response.body.decode(errors='replace')}",
                                  headers)

    return _JsonCors(app, **options)


# --- request parameters ---------------------------------------------------------------------------


async def parameters(request: Request) -> dict:
    """A JSON body, else form fields (urlencoded or multipart), over the query string; a field
    given twice counts once, its FIRST value (as LibreTranslate's Flask reads it). Every string is
    checked here, before anything else sees it (see `checked_text`)."""
    values = _first(request.query_params.multi_items())
    if "json" in request.headers.get("content-type", ""):
        body = parse_json(await request.body())
        values.update(body)
        values["_json"] = True
    elif request.method == "POST":
        try:
            form = await request.form()
        except (ApiError, ClientDisconnect):
            raise
        except Exception:  # noqa: BLE001 - malformed multipart or form body
            raise ApiError(400, "Invalid request: cannot parse the form data") from None
        values.update(_first(form.multi_items()))
    for name, value in values.items():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                checked_text(name, text)
    return values


def _first(items) -> dict:
    values: dict = {}
    for key, value in items:
        values.setdefault(key, value)
    return values


def parse_json(raw: bytes) -> dict:
    """The JSON body as an object, or 400: not JSON, not an object, or nested so deep that the
    parser runs out of stack (`[[[[...]]]]` 100 000 deep is a RecursionError, not a 500)."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, "Invalid JSON format") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid JSON format")
    return body


def checked_text(name: str, text: str) -> str:
    """The one gate for text a client sends: JSON's \\ud800 escapes decode to lone surrogates,
    which no encoder (UTF-8 cache keys, the tokenizer, the answer) can take. Refused with a 400
    here, so nothing downstream ever meets such a string."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(400, f"Invalid request: {name} parameter is not valid Unicode text "
                            "(it holds a lone surrogate)") from None
    return text


def text_param(values: dict, name: str, required: bool = True) -> str:
    value = values.get(name)
    if value is None or value == "":
        if required:
            raise ApiError(400, f"Invalid request: missing {name} parameter")
        return ""
    if not isinstance(value, str):
        raise ApiError(400, f"Invalid request: {name} parameter must be a string")
    return value


def language_param(values: dict, name: str) -> str:
    """A language code as LibreTranslate takes it: trimmed and lower-cased ("EN" is "en")."""
    return text_param(values, name).strip().lower()


def texts_param(values: dict) -> tuple[list[str], bool]:
    q = values.get("q")
    if q is None or q == "" or q == []:
        raise ApiError(400, "Invalid request: missing q parameter")
    batch = isinstance(q, list)
    texts = q if batch else [q]
    if not all(isinstance(t, str) for t in texts):
        raise ApiError(400, "Invalid request: q must be a string or a list of strings")
    if not values.get("_json"):
        texts = ["\n".join(t.splitlines()) for t in texts]  # as LibreTranslate: LF only, then count
    return texts, batch


def checks_param(values: dict) -> bool:
    """tk's own `checks=true`: add each text's verdicts to the answer (LibreTranslate's stays as it is without)."""
    raw = values.get("checks", False)
    if isinstance(raw, bool):
        return raw
    if str(raw).strip().lower() in ("true", "1", "yes", "on"):
        return True
    if str(raw).strip().lower() in ("", "false", "0", "no", "off"):
        return False
    raise ApiError(400, "Invalid request: checks parameter must be true or false")


def alternatives_param(values: dict) -> int:
    """A whole number (JSON 2 or 2.0, form "2"); anything else, 1e999 and NaN included, is a 400."""
    raw = values.get("alternatives")
    if raw is None or raw == "":
        return 0
    if isinstance(raw, str) and re.fullmatch(r"\s*[-+]?\d{1,9}\s*", raw):
        number = int(raw)
    elif isinstance(raw, int) and not isinstance(raw, bool):
        number = raw
    elif isinstance(raw, float) and raw.is_integer():
        number = int(raw)
    else:
        raise ApiError(400, "Invalid request: alternatives parameter is not a number")
    return max(0, min(number, MAX_ALTERNATIVES))


# --- the app -------------------------------------------------------------------------------------


def create_app(settings: Settings | None = None, make_service=None) -> FastAPI:
    settings = settings or Settings()
    make_service = make_service or (lambda: service.Service(settings.decode, settings.run, settings.glossary))
    state: dict = {"languages": service.languages(), "languages_at": time.monotonic()}
    fields = _language_fields(state["languages"])  # the schema's examples: what was there at start

    def served_languages() -> list[dict]:
        """What the lock and the local cache can serve, read again every LANGUAGES_TTL seconds:
        a model pulled (`tk models pull`) while the server runs is offered without a restart."""
        if time.monotonic() - state["languages_at"] > LANGUAGES_TTL:
            state["languages"], state["languages_at"] = service.languages(), time.monotonic()
        return state["languages"]

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state["batcher"] = await asyncio.to_thread(
            Batcher, make_service, settings.queue, settings.batch_wait, settings.run.batch_tokens or 4096)
        state["files"] = FileStore(settings.file_ttl)
        state["read"], state["detect"] = Lane("read", 2), Lane("detect", 2)  # never behind each other (lanes.py)
        try:
            yield
        finally:  # requests in flight have finished (uvicorn waits for them); then the worker
            await asyncio.to_thread(state["batcher"].close)
            state["files"].close()

    app = FastAPI(title="translate_kit", summary="A LibreTranslate-compatible API over local OPUS-MT models",
                  version=_version(), lifespan=lifespan, docs_url="/docs", redoc_url=None)
    _errors(app)
    if settings.cors_origins:
        app.add_middleware(JsonCors, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST"], allow_headers=["*"])
    app.add_middleware(Guard, limit=settings.body_limit, read_timeout=settings.read_timeout)

    def check_key(values: dict) -> None:
        if not settings.api_keys:
            return
        key = values.get("api_key")
        given = key.encode("utf-8", "surrogatepass") if isinstance(key, str) else b""
        if not given or not any(secrets.compare_digest(given, k.encode("utf-8")) for k in settings.api_keys):
            raise ApiError(403, "Invalid API key")

    def source_languages() -> set[str]:
        return {entry["code"] for entry in served_languages() if entry["targets"]}

    def check_pair(src: str, tgt: str) -> None:
        known = {entry["code"]: entry for entry in served_languages()}
        if src not in known or not known[src]["targets"]:
            raise ApiError(400, f"{src} is not supported")
        if tgt not in known:
            raise ApiError(400, f"{tgt} is not supported")
        if tgt != src and tgt not in known[src]["targets"]:
            raise ApiError(400, f"{known[tgt]['name']} ({tgt}) is not available as a target language "
                                f"from {known[src]['name']} ({src})")

    async def detected(texts: list[str]) -> dict:
        ranked = await state["detect"].run(service.detect, "\n".join(texts), source_languages())
        return ranked[0]

    async def translated(src: str, tgt: str, texts: list[str], alternatives: int = 0) -> list:
        if src == tgt:
            return [_Same(t) for t in texts]
        job = Job(src, tgt, texts, alternatives=alternatives)
        try:
            future = state["batcher"].submit(job)
        except QueueFull as full:
            raise ApiError(429, "Slowdown: too many requests waiting; retry in a moment",
                           {"Retry-After": str(full.retry_after)}) from None
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), settings.timeout)
        except asyncio.CancelledError:  # the client left (Guard): not started, skipped; started, stopped
            job.gone.set()
            future.cancel()
            raise
        except asyncio.TimeoutError:
            job.gone.set()
            future.cancel()
            raise ApiError(503, f"Translation timed out after {settings.timeout:g} s; retry later",
                           {"Retry-After": str(state["batcher"].retry_after())}) from None
        except TkError as err:
            log.error("%s-%s: %s", src, tgt, err)
            raise ApiError(500, f"Cannot translate text: the {src}-{tgt} model could not be used "
                                "(see the server log)") from None

    async def request_pair(values: dict, texts: list[str]) -> tuple[str, str, dict | None]:
        source, target = language_param(values, "source"), language_param(values, "target")
        found = None
        if source == "auto":
            found = await detected(texts)
            source = found["language"]
        check_pair(source, target)
        return source, target, found

    def check_chars(texts: list[str]) -> None:
        size = sum(len(t) for t in texts)
        if settings.char_limit > 0 and size > settings.char_limit:
            raise ApiError(413, f"Invalid request: request ({size}) exceeds text limit ({settings.char_limit})")

    @app.post("/translate", openapi_extra=_body(fields, ["q", "source", "target"]), responses=RESPONSES)
    async def translate(request: Request):
        """Translate text: q a string or a list of strings; source a code or auto; target a code."""
        values = await parameters(request)
        check_key(values)
        texts, batch = texts_param(values)
        alternatives = alternatives_param(values)
        checks = checks_param(values)
        fmt = text_param(values, "format", required=False) or "text"
        if fmt not in ("text", "html"):
            raise ApiError(400, f"{fmt} format is not supported")
        check_chars(texts)
        src, tgt, found = await request_pair(values, texts)
        others: list[list[str]] = [[] for _ in texts]
        verdicts = None
        if fmt == "html":  # alternatives (as LibreTranslate) and verdicts of marked-up text: none
            outputs = await _translate_html(translated, src, tgt, texts)
        else:
            pieces = await translated(src, tgt, texts, alternatives)
            outputs = [piece.text() for piece in pieces]
            if alternatives:
                others = [piece.alternatives(piece.others, alternatives) if isinstance(piece, service.Piece) else []
                          for piece in pieces]
            if checks:
                verdicts = [piece.verdict(src, tgt) if isinstance(piece, service.Piece) else _Same.VERDICT
                            for piece in pieces]
        result: dict = {"translatedText": outputs if batch else outputs[0]}
        if found is not None:
            result["detectedLanguage"] = [found] * len(texts) if batch else found
        if alternatives:
            result["alternatives"] = others if batch else others[0]
        if verdicts is not None:
            result["verdicts"] = verdicts if batch else verdicts[0]
        return result

    @app.post("/translate_segments", openapi_extra=_body(fields, ["q", "source", "target"]), responses=RESPONSES)
    async def translate_segments(request: Request):
        """tk's own: the sentences of one text and their translations, for the page at /."""
        values = await parameters(request)
        check_key(values)
        texts, _ = texts_param(values)
        check_chars(texts)
        src, tgt, found = await request_pair(values, texts)
        pieces = await translated(src, tgt, texts[:1])
        segments = [{"para": s.para, "source": s.text, "target": s.target.strip()}
                    for s in pieces[0].segments if s.kind != "meta"]
        answer = {"source": src, "target": tgt, "segments": segments, "detectedLanguage": found}
        if src == tgt:  # say so, rather than an empty result
            answer["note"] = f"The text is already in {service.NAMES.get(tgt, tgt)}: nothing to translate."
        return answer

    @app.post("/detect", openapi_extra=_body({"q": {"type": "string"}, "api_key": {"type": "string"}}, ["q"]),
              responses=RESPONSES)
    async def detect(request: Request):
        """Detect the language of a text: [{confidence, language}], best first."""
        values = await parameters(request)
        check_key(values)
        texts, _ = texts_param(values)
        check_chars(texts)
        return await state["detect"].run(service.detect, "\n".join(texts), source_languages())

    @app.get("/languages", responses=RESPONSES)
    async def languages():
        """Languages this server can translate from, each with its targets (pivots through English included)."""
        return served_languages()

    @app.post("/translate_file", openapi_extra=_file_body(fields), responses=RESPONSES)
    async def translate_file(request: Request):
        """Translate a file of any format tk translate reads (multipart: file, source, target): in its
        own format where tk can write one (HTML, DOCX, Markdown, subtitles), else as text (.txt); in
        the same language, the file itself, unchanged."""
        values = await parameters(request)
        check_key(values)
        upload = values.get("file")
        if upload is None or isinstance(upload, str):
            raise ApiError(400, "Invalid request: missing file parameter")
        name = upload.filename or ""
        suffix = Path(safe_name(name)).suffix.lower()
        if not name:
            raise ApiError(400, "Invalid request: empty file")
        if suffix not in service.file_suffixes():
            raise ApiError(400, "Invalid request: file format not supported")
        path = await _receive_upload(upload, state["files"], settings.file_limit)
        try:
            doc = await _read_upload(state["read"], path, safe_name(name), settings.upload_limits)
            src, tgt, _ = await request_pair(values, [doc.text[:service_sample()]])
            if src == tgt:  # nothing to translate: the file itself, as it came
                answer = service.Answer(path.read_bytes(), safe_name(name), service.media_type(name, doc.encoding))
            else:
                pieces = await translated(src, tgt, [doc.text])
                answer = await state["read"].run(service.translated_file, doc, pieces[0], safe_name(name), tgt)
        finally:
            path.unlink(missing_ok=True)
        token = state["files"].put(answer.data, answer.name, answer.media_type)
        return {"translatedFileUrl": str(request.url_for("download_file", token=token))}

    @app.get("/download_file/{token}", responses=RESPONSES)
    async def download_file(token: str):
        """A translated file, once (then it is deleted)."""
        found = state["files"].take(token)
        if found is None:
            raise ApiError(404, "File not found or expired")
        data, name, media_type = found
        return Response(data, media_type=media_type,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.get("/frontend/settings")
    async def frontend_settings():
        """What LibreTranslate's front ends read: limits, keys, file formats, default languages."""
        codes = [entry["code"] for entry in served_languages()]
        target = "en" if "en" in codes else (codes[0] if codes else "en")
        return {
            "charLimit": settings.char_limit,
            "frontendTimeout": 500,
            "apiKeys": bool(settings.api_keys),
            "keyRequired": bool(settings.api_keys),
            "suggestions": False,
            "filesTranslation": True,
            "supportedFilesFormat": list(service.file_suffixes()),
            "language": {"source": {"code": "auto", "name": "Auto Detect"},
                         "target": {"code": target, "name": service.NAMES.get(target, target)}},
        }

    @app.get("/health", include_in_schema=False)
    async def health():
        """Liveness, exactly as LibreTranslate answers it (monitors compare the whole body)."""
        return {"status": "ok"}

    @app.get("/stats", include_in_schema=False)
    async def stats():
        """Requests waiting for the model (what --queue bounds); groups of requests translated
        together so far, and the requests they held; the group being formed now, whether the
        worker is translating, and how many requests joined a group while it was."""
        batcher = state["batcher"]
        return {"waiting": batcher.waiting, "groups": batcher.groups, "grouped_requests": batcher.grouped,
                "forming": batcher.forming, "translating": batcher.busy,
                "formed_while_translating": batcher.formed_while_busy}

    @app.get("/spec", include_in_schema=False)
    async def spec():
        """The API's OpenAPI schema, where LibreTranslate serves its own (/spec)."""
        return app.openapi()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index():
        from .page import page

        return page(bool(settings.api_keys))

    return app


class _Same:
    """A text passed through (source and target language are the same)."""

    VERDICT = {"verdict": "ok", "checks": [], "score": None, "sentences": []}

    def __init__(self, text: str):
        self._text = text
        self.segments = []

    def text(self) -> str:
        return self._text


def service_sample() -> int:
    from ..language import SAMPLE_CHARS

    return SAMPLE_CHARS


async def _translate_html(translated, src: str, tgt: str, texts: list[str]) -> list[str]:
    """Each text's blocks translated (service.HtmlRequest); markup, scripts, styles and code kept."""
    try:
        requests = [service.HtmlRequest(t) for t in texts]
    except TkError as err:
        raise ApiError(400, f"Invalid request: {err}") from None
    if src == tgt:
        return list(texts)
    blocks = [b for r in requests for b in r.texts()]
    pieces = iter(await translated(src, tgt, blocks) if blocks else [])
    return [r.answer([next(pieces) for _ in r.texts()]) for r in requests]


async def _receive_upload(upload, files: FileStore, limit: int) -> Path:
    """The upload in a private file named by the store (never by the client), at most `limit` bytes."""
    path = files.new_upload()
    try:
        size = 0
        with open(path, "wb") as fh:
            while chunk := await upload.read(1 << 16):
                size += len(chunk)
                if size > limit:
                    raise ApiError(413, f"Invalid request: file larger than {limit} bytes")
                fh.write(chunk)
        if size == 0:
            raise ApiError(400, "Invalid request: empty file")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


async def _read_upload(lane: Lane, path: Path, name: str, limits: service.UploadLimits):
    """The upload as a Document, read in the reading lane under `limits`: expanding past them is a
    413, an unreadable file a 400."""
    try:
        return await lane.run(service.read_upload, path, name, limits)
    except service.UploadTooLarge as err:
        raise ApiError(413, f"Invalid request: the file expands too much ({err})") from None
    except TkError as err:
        raise ApiError(400, f"Invalid request: {getattr(err, 'problem', 'cannot read the file')}") from None


def _errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request, err: ApiError):
        return error_response(err.status, err.message, err.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, err: StarletteHTTPException):
        return error_response(err.status_code, str(err.detail), getattr(err, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request, err: RequestValidationError):
        return error_response(400, "Invalid request")

def _version() -> str:
    import translate_kit

    return translate_kit.__version__


TRANSLATE_FIELDS = {
    "q": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    "source": {"type": "string", "description": "Language code, or auto"},
    "target": {"type": "string"},
    "format": {"type": "string", "enum": ["text", "html"]},
    "alternatives": {"type": "integer", "minimum": 0},
    "checks": {"type": "boolean", "description": "tk's own: add `verdicts` (per text: verdict, checks, score)"},
    "api_key": {"type": "string"},
}
ERROR = {"content": {"application/json": {"schema": {"type": "object", "properties": {"error": {"type": "string"}}}}}}
RESPONSES = {code: {"description": what, **ERROR} for code, what in (
    (400, "Invalid request"), (403, "Invalid API key"), (404, "Not found"), (413, "Too large"),
    (429, "Slow down"), (500, "Translation error"), (503, "Timed out"))}


def _body(fields: dict, required: list[str]) -> dict:
    schema = {"type": "object", "properties": fields, "required": required}
    form = {"type": "object", "properties": {k: v if k != "q" else {"type": "string"} for k, v in fields.items()},
            "required": required}
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": schema},
        "application/x-www-form-urlencoded": {"schema": form},
    }}}


def _language_fields(languages: list[dict]) -> dict:
    """The translate fields, with the codes this server serves as the schema's choices."""
    codes = [entry["code"] for entry in languages]
    sources = [entry["code"] for entry in languages if entry["targets"]]
    if not codes:
        return TRANSLATE_FIELDS
    return {**TRANSLATE_FIELDS, "source": {"type": "string", "enum": ["auto", *sources]},
            "target": {"type": "string", "enum": codes}}


def _file_body(fields: dict) -> dict:
    schema = {"type": "object", "required": ["file", "source", "target"], "properties": {
        "file": {"type": "string", "format": "binary"},
        "source": fields["source"], "target": fields["target"], "api_key": {"type": "string"}}}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}
