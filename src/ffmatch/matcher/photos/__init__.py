"""From photos to the 14 FFMs: MediaPipe face-mesh extraction, overlays, matching, figures.

Needs the optional extra ``pip install 'ffmatch[photos]'`` (MediaPipe and Pillow); those
packages are imported lazily, inside the functions that use them, so ``import ffmatch``
works without them.
"""
