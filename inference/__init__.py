"""The scoring entry script, shipped inside the amlpipe wheel as the package data `amlpipe.scoring`.

This folder is its only copy: pyproject.toml maps it into the package (see `amlpipe.resources`).
"""
