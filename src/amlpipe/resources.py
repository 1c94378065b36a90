"""The files that ship inside the package: the step notebooks, `config.json.example` and `score.py`.

Their only copies are the repository's top-level `notebooks/` and `inference/` folders, which the
build maps into the package as `amlpipe.notebooks` and `amlpipe.scoring` (see pyproject.toml).
They are found with `importlib.resources`, so a wheel, a plain install and an editable install
of a checkout all find them the same way. `amlpipe init` copies the notebooks out for a person to edit.
"""

from __future__ import annotations

import logging
import shutil
from importlib import resources
from pathlib import Path
from typing import List, Union

from .errors import ConfigError

logger = logging.getLogger(__name__)

CONFIG_EXAMPLE = "config.json.example"


def notebook_dir() -> Path:
    """The folder of the step notebooks that came with amlpipe."""
    return _folder("amlpipe.notebooks")


def score_script() -> Path:
    """amlpipe's own scoring entry script, `score.py`."""
    return _folder("amlpipe.scoring") / "score.py"


def copy_starter_files(target: Union[str, Path], force: bool = False) -> List[Path]:
    """Copy the step notebooks and `config.json.example` into ``target`` (created if needed).

    Args:
        target: The folder to copy into.
        force: Overwrite files that exist already.

    Returns:
        The files written, in name order.

    Raises:
        ConfigError: ``target`` holds one of the files already and ``force`` is not set
            (nothing is copied then), or it is not a folder.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target} is not a folder")
    sources = sorted([*notebook_dir().glob("*.ipynb"), notebook_dir() / CONFIG_EXAMPLE])
    existing = [target / s.name for s in sources if (target / s.name).exists()]
    if existing and not force:
        raise ConfigError(
            f"{existing[0]} exists already ({len(existing)} of the {len(sources)} files do); "
            "nothing copied: choose another folder or pass --force to overwrite"
        )
    target.mkdir(parents=True, exist_ok=True)
    written = [Path(shutil.copyfile(source, target / source.name)) for source in sources]
    logger.info("copied %d files into %s", len(written), target)
    return written


def _folder(package: str) -> Path:
    # Installed wheels and editable installs both keep package data as plain files.
    return Path(str(resources.files(package)))
