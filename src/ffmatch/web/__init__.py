"""The local web page: Compare, Search, Groups and Archive over an ffmatch archive.

``create_app(db_path)`` builds the FastAPI application; ``ffmatch serve`` runs it with
uvicorn on this machine (127.0.0.1) unless a token is given. Needs the ``web`` extra.
"""

from ffmatch.web.app import create_app

__all__ = ["create_app"]
