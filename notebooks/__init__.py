"""The step notebooks, shipped inside the amlpipe wheel as the package data `amlpipe.notebooks`.

This folder is their only copy: pyproject.toml maps it into the package (see `amlpipe.resources`).
"""
