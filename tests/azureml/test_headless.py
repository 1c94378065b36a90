"""Headless detection in a real Jupyter kernel: a person's frontend versus papermill's."""

import pytest

CODE = "from amlpipe.environment import headless, interactive_notebook; print(headless(), interactive_notebook())"


def run_in_kernel(client, allow_stdin: bool) -> str:
    output = []
    client.execute_interactive(CODE, allow_stdin=allow_stdin, timeout=60,
                               output_hook=lambda msg: output.append(msg["content"].get("text", "")))
    return "".join(output).strip()


@pytest.fixture(scope="module")
def kernel():
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", env={"PATH": "/usr/bin:/bin"})
    yield client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def test_a_person_driven_kernel_is_not_headless_though_its_stdin_is_a_pipe(kernel):
    # JupyterLab, Notebook 7 and VS Code send cells with allow_stdin=True.
    assert run_in_kernel(kernel, allow_stdin=True) == "False True"


def test_papermills_kernel_is_headless(kernel):
    # nbclient (papermill's engine) sets allow_stdin=False on every cell.
    assert run_in_kernel(kernel, allow_stdin=False) == "True False"
