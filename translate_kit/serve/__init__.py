"""`tk serve`: a LibreTranslate-compatible HTTP server over the same models, cache and pipeline.

Rooms: app.py (the HTTP API and its errors), batcher.py (micro-batching of concurrent requests: a
gatherer forms the next group while the worker translates), lanes.py (threads for reading uploads
and detecting languages, apart from each other), service.py (the only module that calls the library: the adapter to re-point
when the model service or the readers move), files.py (private storage of uploads and
translations), page.py (the page at `/`). Needs the [serve] extra (fastapi, uvicorn,
python-multipart); nothing here is imported by `tk --help`.
"""
