"""The benchmark script runs end to end in --quick mode (a smoke test, not a measurement)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "run.py"


def test_quick_run_prints_every_workload_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--json", str(out)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for title in ("## 1. Scalar MLP", "## 2. Tensor MLP", "## 3. Tiny step", "## 4. Deep chain",
                  "## 5. Peak memory", "## 6. The limit", "## 7. Digits CNN", "## 8. 1-D conv net",
                  "## 9. GRU step", "## 10. Causal self-attention", "## 11. Tiny GPT",
                  "## 12. Per-sample gradients"):
        assert title in proc.stdout
    results = json.loads(out.read_text())
    assert results["quick"] is True
    assert sorted(results["workloads"], key=int) == ["1", "2", "3", "4", "5", "6", "7", "8", "9",
                                                     "10", "11", "12"]
    # every engine that ran did the same work as its reference (same loss / gradient)
    tables = [results["workloads"][k] for k in ("1", "3", "4", "7", "8", "9", "10", "11")]
    tables += results["workloads"]["2"]
    for table in tables:
        ref = next(r for r in table["rows"] if r["engine"] == table["ref"])
        for row in table["rows"]:
            if row.get("check") is not None and ref.get("check") is not None:
                assert abs(row["check"] - ref["check"]) <= 1e-4 * max(1.0, abs(ref["check"])), row


def test_bad_arguments_are_refused() -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--only", "99"], capture_output=True,
                          text=True, timeout=120, check=False,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 2
    assert "--only: the workloads are [" in proc.stderr and "got [99]" in proc.stderr
