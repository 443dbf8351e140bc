"""`tk translate https://...`: fetch a page and read it by its content (HTML, PDF, ...).

The standard library's urllib rather than a new dependency: it honours the usual proxy settings
(http_proxy, https_proxy, no_proxy, in the environment, read at call time), follows redirects
and verifies certificates. A timeout bounds every read; the body is read in blocks up to a size
limit; every failure (offline, DNS, refused, timeout, HTTP status, too large) is one DocumentError
line naming the URL.
"""

from __future__ import annotations

import socket
from pathlib import Path

from ..errors import DocumentError
from ..options import fetch_max_bytes, fetch_timeout

TIMEOUT_S = 20.0
MAX_BYTES = 50_000_000
USER_AGENT = "translate_kit (+https://pypi.org/project/translate_kit/)"


def fetch(url: str) -> tuple[bytes, str]:
    """The body of `url` and its final URL. TK_FETCH_TIMEOUT (seconds) and TK_FETCH_MAX_MB bound it."""
    import urllib.error
    import urllib.request

    timeout, limit = fetch_timeout(), fetch_max_bytes()  # options.py: a bad TK_* value is a usage error
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/pdf,*/*"})
    try:
        opener = urllib.request.build_opener()  # its ProxyHandler reads *_proxy now, not at the first call
        with opener.open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise DocumentError(url, f"too large ({int(declared) / 1e6:.1f} MB; the limit is {limit / 1e6:g} MB, TK_FETCH_MAX_MB)")
            body = bytearray()
            while block := response.read(1 << 16):
                body += block
                if len(body) > limit:
                    raise DocumentError(url, f"too large (over {limit / 1e6:g} MB, TK_FETCH_MAX_MB)")
            return bytes(body), response.geturl()
    except urllib.error.HTTPError as err:
        raise DocumentError(url, f"HTTP error {err.code} {err.reason}") from None
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            raise DocumentError(url, f"timed out after {timeout:g} s (TK_FETCH_TIMEOUT)") from None
        raise DocumentError(url, f"cannot fetch ({getattr(reason, 'strerror', None) or reason}; offline?)") from None
    except (socket.timeout, TimeoutError):
        raise DocumentError(url, f"timed out after {timeout:g} s (TK_FETCH_TIMEOUT)") from None
    except (OSError, ValueError) as err:
        raise DocumentError(url, f"cannot fetch ({err})") from None


def read_url(url: str, doc_id: str):
    """A Document from a URL: fetched, then read by its content (a page without markers as HTML)."""
    data, final = fetch(url)
    return fetched_document(url, data, final, doc_id)


def fetched_document(url: str, data: bytes, final: str, doc_id: str):
    """A Document from what `fetch(url)` gave (a sharded run fetches on the driver, reads on a worker)."""
    from ..documents import SNIFF_BYTES, make_document
    from . import available, choose

    reader, _ = choose(Path(final.split("?")[0].split("#")[0]), data[:SNIFF_BYTES])
    if reader.name == "txt" and b"<" in data[:SNIFF_BYTES]:
        reader = available()["html"]
    doc = make_document(data, url, doc_id, None, reader)
    doc.url = url
    doc.meta.setdefault("url", final)
    return doc
