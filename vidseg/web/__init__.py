"""``vidseg serve``: a web application to segment, correct and export video masks in the browser.

Needs the ``web`` extra (FastAPI, uvicorn): ``pip install -e ".[web]"``.
"""
