"""The package works installed: a wheel built from the source, installed in a fresh venv,
runs the playground, the walkthrough and every demo's data, away from the checkout.

Building and installing takes a while, so the test runs when ``NN_TEST_INSTALLED=1`` (CI's
.ci/run sets it); ``pytest -m install`` with that variable runs it alone. Nothing is
downloaded: the wheel is built without build isolation by the setuptools already here, the
fresh venv installs it with ``--no-index --no-deps``, and it sees the dependencies (numpy,
graphviz, scikit-learn, mnist1d) of the interpreter running the tests through a path entry
(that interpreter's own copy of this project is never on the fresh venv's path).
"""

import http.client
import json
import os
import re
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.install,
    pytest.mark.skipif(os.environ.get("NN_TEST_INSTALLED") != "1",
                       reason="builds and installs a wheel: set NN_TEST_INSTALLED=1 (CI does)"),
]


def _run(cmd, cwd, env=None, timeout=600):
    out = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=timeout, check=False)
    assert out.returncode == 0, f"{cmd}\n{out.stdout}\n{out.stderr}"
    return out.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh venv holding the wheel built from this checkout."""
    tmp = tmp_path_factory.mktemp("installed")
    src = tmp / "src"
    src.mkdir()
    for name in ("autograd", "nn"):
        shutil.copytree(ROOT / name, src / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--no-index", "-w", dist, src], cwd=tmp)
    wheel = next(dist.glob("nn_autograd_basics-*.whl"))
    env_dir = tmp / "venv"
    _run([sys.executable, "-m", "venv", env_dir], cwd=tmp)
    py = env_dir / "bin" / "python"
    _run([py, "-m", "pip", "install", "--no-index", "--no-deps", wheel], cwd=tmp)
    # the dependencies: this interpreter's site-packages as a plain path entry (its .pth
    # files, an editable install of this project among them, are not run there)
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    fresh_site = Path(_run([py, "-c", purelib], cwd=tmp).strip())
    ours = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    (fresh_site / "zz_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    return py, tmp


def _clean_env():
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return env


def test_the_installed_package_is_the_wheel(venv):
    py, tmp = venv
    out = _run([py, "-c", "import nn, autograd; print(nn.__file__); print(autograd.__file__)"],
               cwd=tmp, env=_clean_env())
    for line in out.splitlines():
        assert str(tmp / "venv") in line and str(ROOT) not in line, out


def test_the_playground_runs_installed(venv):
    py, tmp = venv
    proc = subprocess.Popen([py, "-m", "autograd.playground", "dogcat", "--port", "0"],
                            cwd=tmp, env=_clean_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert m, (line, proc.stderr.read() if proc.poll() is not None else "")
        conn = http.client.HTTPConnection("127.0.0.1", int(m.group(1)), timeout=30)
        conn.request("GET", "/")
        page = conn.getresponse().read().decode()
        conn.close()
        assert "<html" in page.lower() and "dog" in page.lower()
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()


def test_the_walkthrough_and_every_demo_s_data_installed(venv):
    """The demos folder copied away from the checkout: the walkthrough runs whole, and each
    training demo's data loads through the installed package."""
    py, tmp = venv
    demos = tmp / "copy" / "demos"
    shutil.copytree(ROOT / "demos", demos, ignore=shutil.ignore_patterns("__pycache__"))
    out = _run([py, demos / "walkthrough.py", "--out", tmp / "copy"], cwd=tmp,
               env=_clean_env())
    assert "dogcat_graph" in out or "discrepanc" in out.lower(), out
    script = f"""
import importlib.util, json, sys
import numpy as np
import nn
def demo(name):
    spec = importlib.util.spec_from_file_location(name, {str(demos)!r} + "/" + name + ".py")
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m
sizes = {{}}
X, y = nn.data.load_digits(); sizes["digits"] = len(X)
sizes["tiny_gpt"] = len(demo("tiny_gpt").load_text())
sizes["mnist1d"] = len(demo("mnist1d").load_data()["x"])
b = demo("blurry_digits"); sizes["blurry"] = len(b.make_images(10, np.random.default_rng(0), 0.1)[0])
print(json.dumps({{"where": nn.__file__, **sizes}}))
"""
    result = json.loads(_run([py, "-c", script], cwd=tmp, env=_clean_env()).splitlines()[-1])
    assert str(tmp / "venv") in result["where"]
    assert result["digits"] == 1797 and result["mnist1d"] == 4000
    assert result["tiny_gpt"] > 400_000 and result["blurry"] == 10
