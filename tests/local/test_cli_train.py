import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_amlpipe_train_registers_a_model_with_the_settings_set(tmp_path, heart_csv):
    out = subprocess.run(
        [sys.executable, "-m", "amlpipe", "train", "--budget-minutes", "0.1", "--data", str(heart_csv),
         "--workspace", str(tmp_path / "ws"), "--progress", "lines", "--set", "automl.n_cross_validations=5"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    match = re.search(r"registered model heart-failure-automl version (\d+): (\w+), AUC_weighted (0\.\d+) \(5-fold CV\)",
                      out.stdout)
    assert match, out.stdout
    assert int(match.group(1)) == 1 and float(match.group(3)) > 0.8
    assert "AutoML: finished in" in out.stdout
    assert (tmp_path / "automl_errors.log").exists()
