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
LibreTranslate says 400) and 503 with Retry-After when a request times out. No error body ever
holds a path, a traceback or where a model lives: library errors are logged on the server and
answered in general words.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import TkError
from ..options import DecodeOptions, RunOptions
from . import service
from .batcher import Batcher, Job, QueueFull
from .files import FileStore, safe_name

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


class BodyLimit:
    """413 for a request body over the limit, by Content-Length or as it streams in."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers", [])).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            return await error_response(413, f"Request too large (over {self.limit} bytes)")(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise ApiError(413, f"Request too large (over {self.limit} bytes)")
            return message

        await self.app(scope, limited, send)


# --- request parameters ---------------------------------------------------------------------------


async def parameters(request: Request) -> dict:
    """A JSON body, else form fields (urlencoded or multipart), over the query string."""
    values = dict(request.query_params)
    if "json" in request.headers.get("content-type", ""):
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "Invalid JSON format") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid JSON format")
        values.update(body)
        values["_json"] = True
        return values
    if request.method == "POST":
        try:
            form = await request.form()
        except ApiError:
            raise
        except Exception:  # noqa: BLE001 - malformed multipart or form body
            raise ApiError(400, "Invalid request: cannot parse the form data") from None
        values.update({k: v for k, v in form.multi_items()})
    return values


def text_param(values: dict, name: str, required: bool = True) -> str:
    value = values.get(name)
    if value is None or value == "":
        if required:
            raise ApiError(400, f"Invalid request: missing {name} parameter")
        return ""
    if not isinstance(value, str):
        raise ApiError(400, f"Invalid request: {name} parameter must be a string")
    return value


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
    raw = values.get("alternatives", 0)
    try:
        number = int(raw)
    except (TypeError, ValueError):
        raise ApiError(400, "Invalid request: alternatives parameter is not a number") from None
    return max(0, min(number, MAX_ALTERNATIVES))


# --- the app -------------------------------------------------------------------------------------


def create_app(settings: Settings | None = None, make_service=None) -> FastAPI:
    settings = settings or Settings()
    make_service = make_service or (lambda: service.Service(settings.decode, settings.run))
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
        try:
            yield
        finally:  # requests in flight have finished (uvicorn waits for them); then the worker
            await asyncio.to_thread(state["batcher"].close)
            state["files"].close()

    app = FastAPI(title="translate_kit", summary="A LibreTranslate-compatible API over local OPUS-MT models",
                  version=_version(), lifespan=lifespan, docs_url="/docs", redoc_url=None)
    _errors(app)
    app.add_middleware(BodyLimit, limit=settings.body_limit)
    if settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST"], allow_headers=["*"])

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
        ranked = await asyncio.to_thread(service.detect, "\n".join(texts), source_languages())
        return ranked[0]

    async def translated(src: str, tgt: str, texts: list[str], alternatives: int = 0) -> list:
        if src == tgt:
            return [_Same(t) for t in texts]
        try:
            future = state["batcher"].submit(Job(src, tgt, texts, alternatives=alternatives))
        except QueueFull as full:
            raise ApiError(429, "Slowdown: too many requests waiting; retry in a moment",
                           {"Retry-After": str(full.retry_after)}) from None
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), settings.timeout)
        except asyncio.TimeoutError:
            future.cancel()
            raise ApiError(503, f"Translation timed out after {settings.timeout:g} s; retry later",
                           {"Retry-After": str(state["batcher"].retry_after())}) from None
        except TkError as err:
            log.error("%s-%s: %s", src, tgt, err)
            raise ApiError(500, f"Cannot translate text: the {src}-{tgt} model could not be used "
                                "(see the server log)") from None

    async def request_pair(values: dict, texts: list[str]) -> tuple[str, str, dict | None]:
        source, target = text_param(values, "source"), text_param(values, "target")
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
        return {"source": src, "target": tgt, "segments": segments, "detectedLanguage": found}

    @app.post("/detect", openapi_extra=_body({"q": {"type": "string"}, "api_key": {"type": "string"}}, ["q"]),
              responses=RESPONSES)
    async def detect(request: Request):
        """Detect the language of a text: [{confidence, language}], best first."""
        values = await parameters(request)
        check_key(values)
        texts, _ = texts_param(values)
        check_chars(texts)
        return await asyncio.to_thread(service.detect, "\n".join(texts), source_languages())

    @app.get("/languages", responses=RESPONSES)
    async def languages():
        """Languages this server can translate from, each with its targets (pivots through English included)."""
        return served_languages()

    @app.post("/translate_file", openapi_extra=_file_body(fields), responses=RESPONSES)
    async def translate_file(request: Request):
        """Translate a file of any format tk translate reads (multipart: file, source, target): plain
        text and Markdown come back as they came, other formats as their translated text (.txt)."""
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
        doc = await _read_upload(upload, state["files"], settings.file_limit, safe_name(name))
        src, tgt, _ = await request_pair(values, [doc.text[:service_sample()]])
        pieces = await translated(src, tgt, [doc.text])
        if src == tgt:  # nothing to translate: the text as read
            answer = service.Answer(doc.text, safe_name(name), "text/plain; charset=utf-8")
        else:
            answer = await asyncio.to_thread(service.translated_file, doc, pieces[0], safe_name(name), tgt)
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
        """Liveness; requests waiting for the model (what --queue bounds); groups of requests
        translated together so far, and the requests they held."""
        batcher = state["batcher"]
        return {"status": "ok", "waiting": batcher.waiting, "groups": batcher.groups, "grouped_requests": batcher.grouped}

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


async def _read_upload(upload, files: FileStore, limit: int, name: str):
    """The upload as a Document, through a private file named by the store (never by the client)."""
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
        try:
            return await asyncio.to_thread(service.read_upload, path, name)
        except TkError as err:
            raise ApiError(400, f"Invalid request: {getattr(err, 'problem', 'cannot read the file')}") from None
    finally:
        path.unlink(missing_ok=True)


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

    @app.exception_handler(Exception)
    async def crashed(request, err: Exception):
        log.exception("internal error on %s", request.url.path)
        return error_response(500, "Internal server error (see the server log)")


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
