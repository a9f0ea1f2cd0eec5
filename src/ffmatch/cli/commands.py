"""Import every command module so each registers its command on ``app``."""

from ffmatch.cli import (  # noqa: F401
    archive_cmds,
    data_cmds,
    experiment_cmds,
    muct_cmds,
    photo_cmds,
    select_cmd,
    web_cmds,
)
