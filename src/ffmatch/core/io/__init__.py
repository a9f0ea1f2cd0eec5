"""Reading and writing ffmatch's data files, validated once at the edge.

``workbook`` (the paper's Excel workbook), ``wide`` (its two wide tables as CSV), ``tidy``
(one row per photo, for users' own data), ``muct`` (MUCT landmarks), ``atomic`` (the
all-or-nothing writer every output uses). The formats are described in docs/data-formats.md.
Submodules are imported on use, so ``import ffmatch.core.io.atomic`` stays cheap.
"""
