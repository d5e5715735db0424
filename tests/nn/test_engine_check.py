"""A foreign `autograd` package (the unrelated one on PyPI has the same import name) is
detected when nn is imported, with an error that says what was found where and what to do."""

import os
import subprocess
import sys


def _import_nn(cwd, pythonpath=None):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, "-c", "import nn; print(nn.MLP)"], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def test_a_foreign_autograd_is_named_with_what_to_do(tmp_path):
    fake = tmp_path / "site" / "autograd"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('"""Another project that is also called autograd."""\n')
    proc = _import_nn(tmp_path, tmp_path / "site")
    assert proc.returncode != 0
    err = proc.stderr.strip().splitlines()[-1]
    assert err.startswith("ImportError: nn needs this project's autograd engine")
    assert f"finds another package, at {fake / '__init__.py'}" in err
    assert "pip uninstall autograd" in err and "virtual environment" in err


def test_this_projects_engine_passes_the_check(tmp_path):
    proc = _import_nn(tmp_path)  # from elsewhere than the checkout: the installed package
    assert proc.returncode == 0, proc.stderr
    assert "MLP" in proc.stdout
