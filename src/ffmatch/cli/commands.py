"""Import every command module so each registers its command on ``app``."""

from ffmatch.cli import data_cmds, experiment_cmds, muct_cmds, photo_cmds, select_cmd  # noqa: F401
