"""`tk translate https://...`: fetch a page and read it by its content (HTML, PDF, ...).

The standard library's urllib rather than a new dependency: it honours the usual proxy settings
(http_proxy, https_proxy, no_proxy, in the environment, read at call time), follows redirects
and verifies certificates. TK_FETCH_TIMEOUT is a deadline for the whole fetch (connecting,
redirects, headers, body): the fetch runs in a worker thread the caller waits for at most that
long, so a server that sends one byte a second is cut at the deadline (a socket timeout alone
bounds each read, not their sum), and Ctrl-C still reaches the waiting thread. The body is read
in blocks up to a size limit; every failure (offline, DNS, refused, timeout, HTTP status, too
large, a redirect loop) is one DocumentError line naming the URL.
"""

from __future__ import annotations

import socket
import threading

from ..errors import DocumentError
from ..options import fetch_max_bytes, fetch_timeout

USER_AGENT = "translate_kit (+https://pypi.org/project/translate_kit/)"


def fetch(url: str) -> tuple[bytes, str]:
    """The body of `url` and its final URL, within TK_FETCH_TIMEOUT seconds all told, at most
    TK_FETCH_MAX_MB megabytes."""
    timeout, limit = fetch_timeout(), fetch_max_bytes()  # options.py: a bad TK_* value is a usage error
    result: dict = {}
    stop = threading.Event()
    worker = threading.Thread(target=_fetch_into, args=(url, timeout, limit, stop, result), daemon=True, name="tk-fetch")
    worker.start()
    worker.join(timeout)
    if worker.is_alive():  # the worker sees `stop` after its current read (bounded by the socket timeout)
        stop.set()
        raise DocumentError(url, f"timed out after {timeout:g} s (TK_FETCH_TIMEOUT, for the whole fetch)")
    if "error" in result:
        raise result["error"]
    return result["body"], result["final"]


def _fetch_into(url: str, timeout: float, limit: int, stop: threading.Event, result: dict) -> None:
    try:
        result["body"], result["final"] = _get(url, timeout, limit, stop)
    except DocumentError as err:
        result["error"] = err
    except BaseException as err:  # noqa: BLE001 - anything else reaches the caller's thread as one line
        result["error"] = DocumentError(url, f"cannot fetch ({_line(str(err) or type(err).__name__)})")


def _get(url: str, timeout: float, limit: int, stop: threading.Event) -> tuple[bytes, str]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/pdf,*/*"})
    try:
        opener = urllib.request.build_opener()  # its ProxyHandler reads *_proxy now, not at the first call
        with opener.open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise DocumentError(url, f"too large ({int(declared) / 1e6:.1f} MB; the limit is {limit / 1e6:g} MB, TK_FETCH_MAX_MB)")
            body = bytearray()
            while not stop.is_set() and (block := response.read1(1 << 16)):
                body += block
                if len(body) > limit:
                    raise DocumentError(url, f"too large (over {limit / 1e6:g} MB, TK_FETCH_MAX_MB)")
            return bytes(body), response.geturl()
    except urllib.error.HTTPError as err:
        if 300 <= err.code < 400:  # urllib's own words for a loop take three lines
            raise DocumentError(url, f"too many redirects (HTTP {err.code}: a redirect loop?)") from None
        raise DocumentError(url, f"HTTP error {err.code} {_line(str(err.reason))}") from None
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            raise DocumentError(url, f"timed out after {timeout:g} s (TK_FETCH_TIMEOUT)") from None
        raise DocumentError(url, f"cannot fetch ({_line(str(getattr(reason, 'strerror', None) or reason))}; offline?)") from None
    except (socket.timeout, TimeoutError):
        raise DocumentError(url, f"timed out after {timeout:g} s (TK_FETCH_TIMEOUT)") from None
    except (OSError, ValueError) as err:
        raise DocumentError(url, f"cannot fetch ({_line(str(err))})") from None


def _line(text: str) -> str:
    """A library's message on one line."""
    return " ".join(text.split())

