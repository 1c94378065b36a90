"""The package list: every package under src/, plus the notebooks and score.py mapped in by pyproject.toml.

Everything else is in pyproject.toml. `packages.find` there cannot add the two mapped folders,
and a fixed list would miss each new subpackage.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages("src"), "amlpipe.notebooks", "amlpipe.scoring"])
