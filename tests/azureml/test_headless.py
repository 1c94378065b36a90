"""Headless detection in a real Jupyter kernel: a person's frontend versus papermill's."""

from .conftest import execute

CODE = "from amlpipe.environment import headless, interactive_notebook; print(headless(), interactive_notebook())"


def printed(messages) -> str:
    return "".join(m["content"].get("text", "") for m in messages if m["msg_type"] == "stream").strip()


def test_a_person_driven_kernel_is_not_headless_though_its_stdin_is_a_pipe(kernel):
    # JupyterLab, Notebook 7 and VS Code send cells with allow_stdin=True.
    assert printed(execute(kernel, CODE, allow_stdin=True)) == "False True"


def test_papermills_kernel_is_headless(kernel):
    # nbclient (papermill's engine) sets allow_stdin=False on every cell.
    assert printed(execute(kernel, CODE, allow_stdin=False)) == "True False"
