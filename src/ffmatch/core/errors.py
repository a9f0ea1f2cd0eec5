"""The exceptions ffmatch raises on bad input, bad configuration and failed downloads.

Each also inherits the standard exception callers already catch (``ValueError``,
``OSError``), so code that does not know ffmatch still handles them. The CLI turns every
``FFMatchError`` into one line on stderr and exit status 2.
"""

from __future__ import annotations


class FFMatchError(Exception):
    """Base class of every error ffmatch reports to a user."""


class DataError(FFMatchError, ValueError):
    """Input data is malformed: the message names the file, row or column, expected and found."""


class ConfigError(FFMatchError, ValueError):
    """A configuration value or option is out of range or unknown."""


class FetchError(FFMatchError, OSError):
    """A dataset could not be found locally nor downloaded and verified."""


class ModelError(FFMatchError, ValueError):
    """A saved model file is missing, unreadable or of an incompatible version."""
