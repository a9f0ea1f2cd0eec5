"""The ``ffmatch`` command line: one command per pipeline step, plus the end-to-end one.

The CLI holds no logic: it parses options, calls the library, and turns every
``FFMatchError`` into one line on stderr with exit status 2 (a traceback only with
``--debug``).
"""

from ffmatch.cli.app import main

__all__ = ["main"]
