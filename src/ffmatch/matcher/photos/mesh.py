"""Where the paper's markers and a few other landmarks sit on MediaPipe's 478-point face mesh.

One home for mesh indices, shared by extraction (``extract``), pose (``pose``) and the
quality values (``quality``), so none of them imports another for a constant.
"""

from __future__ import annotations

import numpy as np

from ffmatch.core.markers import N_MARKERS, WIDE_ORDER

MESH_INDICES: dict[str, tuple[int, ...]] = {
    "rtex": (33,), "rten": (133,), "lten": (362,), "ltex": (263,), "nas": (168,),
    "sn": (2,), "rtal": (98,), "ltal": (327,), "ls": (0,), "sto": (13, 14),
    "li": (17,), "sm": (18,), "pg": (199,), "me": (152,),
}  # fmt: skip
"""Face-mesh point(s) of each FFM (mean where several), keyed in ``WIDE_ORDER``."""

N_MESH = 478  # face-mesh points with refine_landmarks=True (468 + 10 iris points)

RIGHT_IRIS, LEFT_IRIS = 468, 473  # iris centres (refined landmarks): the subject's right, left
MOUTH_RIGHT, MOUTH_LEFT = 61, 291  # mouth corners
UPPER_INNER_LIP, LOWER_INNER_LIP = 13, 14  # inner-lip midpoints

# (14, 478) averaging matrix: markers = PICK @ mesh; built once from MESH_INDICES.
PICK = np.zeros((N_MARKERS, N_MESH))
for _k, _abbr in enumerate(WIDE_ORDER):
    PICK[_k, list(MESH_INDICES[_abbr])] = 1.0 / len(MESH_INDICES[_abbr])
