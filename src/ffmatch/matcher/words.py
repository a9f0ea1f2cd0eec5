"""The markers and the distances between them in plain words, for people who are not
anatomists: "width of the nose [rtal-ltal]". One home for these names: the text output,
the figure, ``--json`` and the batch CSV all take them from here.
"""

from __future__ import annotations

from ffmatch.core.markers import WIDE_ORDER

MARKER_WORDS: dict[str, str] = {
    "rtex": "outer corner of the right eye",
    "rten": "inner corner of the right eye",
    "lten": "inner corner of the left eye",
    "ltex": "outer corner of the left eye",
    "nas": "top of the nose, between the eyes",
    "sn": "base of the nose",
    "rtal": "right wing of the nose",
    "ltal": "left wing of the nose",
    "ls": "top of the upper lip",
    "sto": "middle of the mouth",
    "li": "bottom of the lower lip",
    "sm": "dip below the lower lip",
    "pg": "front of the chin",
    "me": "bottom of the chin",
}
"""Each of the 14 markers (``WIDE_ORDER``) in words; right and left are the subject's own."""

_SHORT: dict[str, str] = {
    "rtex": "right eye (outer)", "rten": "right eye (inner)", "lten": "left eye (inner)",
    "ltex": "left eye (outer)", "nas": "top of the nose", "sn": "base of the nose",
    "rtal": "right of the nose", "ltal": "left of the nose", "ls": "upper lip",
    "sto": "mouth", "li": "lower lip", "sm": "below the lip", "pg": "chin (front)",
    "me": "chin (bottom)",
}  # fmt: skip

DISTANCE_WORDS: dict[str, str] = {
    "rtex-ltex": "width across the eyes",
    "rten-lten": "gap between the eyes",
    "rtex-rten": "width of the right eye",
    "lten-ltex": "width of the left eye",
    "rtal-ltal": "width of the nose",
    "nas-sn": "length of the nose",
    "sn-ls": "nose to upper lip",
    "ls-li": "height of the lips",
    "ls-sto": "height of the upper lip",
    "sto-li": "height of the lower lip",
    "sto-me": "mouth to chin",
    "li-me": "lower lip to chin",
    "sn-me": "nose to chin",
    "nas-me": "length of the face",
    "nas-sto": "top of the nose to mouth",
}
"""Plain names of the distances people know; the others read "<marker> to <marker>"."""


def distance_code(name: str) -> str:
    """``"rtal-ltal"`` from a feature name such as ``"rtal-ltal / eye width"``."""
    return name.split(" / ")[0].strip()


def distance_words(name: str) -> str:
    """A distance in words: ``"width of the nose"`` for ``"rtal-ltal / eye width"``."""
    code = distance_code(name)
    if code in DISTANCE_WORDS:
        return DISTANCE_WORDS[code]
    a, _, b = code.partition("-")
    if a in _SHORT and b in _SHORT:
        return f"{_SHORT[a]} to {_SHORT[b]}"
    return code


def labelled(name: str) -> str:
    """Words with the code in brackets: ``"width of the nose [rtal-ltal]"``."""
    return f"{distance_words(name)} [{distance_code(name)}]"


def glossary() -> list[str]:
    """One line per marker, ``"rtal: right wing of the nose"``, in ``WIDE_ORDER``."""
    return [f"{a}: {MARKER_WORDS[a]}" for a in WIDE_ORDER]
