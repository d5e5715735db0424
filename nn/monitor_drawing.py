"""Drawing a `Monitor`: histograms of each layer's activations and each weight's gradient,
and the update-to-data ratio per step on a log scale with the healthy 1e-3 line.

`plot` uses matplotlib (the `plot` extra); `page` writes the same as plain SVG inside one
HTML page with no script at all, so every name in it is inert text.
"""

from __future__ import annotations

import math
import os
from html import escape
from typing import Any

import numpy as np

W, H, PAD = 260, 120, 24  # one small chart


def plot(monitor: Any, path: str | os.PathLike[str]) -> str:
    """Three rows of panels: activation histograms, gradient histograms, update ratios."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("Monitor.plot needs matplotlib: pip install matplotlib "
                          "(the project's `plot` extra)") from None
    layers = [s for s in monitor.layers.values() if s.histogram is not None]
    params = [p for p in monitor.params.values() if p.histogram is not None]
    fig, axes = plt.subplots(3, 1, figsize=(8, 9))
    for s in layers:
        counts, edges = s.histogram
        axes[0].plot((edges[:-1] + edges[1:]) / 2, counts, label=f"{s.name} ({s.kind or '-'})")
    axes[0].set_title("activations (latest forward pass)")
    for p in params:
        counts, edges = p.histogram
        axes[1].plot((edges[:-1] + edges[1:]) / 2, counts, label=p.name)
    axes[1].set_title("gradients (latest backward pass)")
    for p in monitor.params.values():
        ratios = [math.log10(u) if u > 0 else math.nan for u in p.update_to_data]
        axes[2].plot(ratios, label=p.name)
    axes[2].axhline(-3, color="k", linestyle="--", linewidth=1, label="1e-3")
    axes[2].set_title("log10 update / data per step")
    for ax in axes:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.fspath(path))
    plt.close(fig)
    return os.fspath(path)


def _bars(counts: np.ndarray, edges: np.ndarray, title: str) -> str:
    """A histogram as an SVG of bars, its range written under it."""
    top = max(int(counts.max()), 1)
    width = (W - 2 * PAD) / len(counts)
    bars = "".join(
        f'<rect x="{PAD + i * width:.1f}" y="{H - PAD - (H - 2 * PAD) * c / top:.1f}" '
        f'width="{max(width - 1, 1):.1f}" height="{(H - 2 * PAD) * c / top:.1f}" fill="#4a7"/>'
        for i, c in enumerate(counts))
    return (f'<svg width="{W}" height="{H}" role="img"><title>{escape(title)}</title>'
            f'<text x="{PAD}" y="14" font-size="11">{escape(title)}</text>{bars}'
            f'<text x="{PAD}" y="{H - 6}" font-size="10">{edges[0]:.3g}</text>'
            f'<text x="{W - PAD}" y="{H - 6}" font-size="10" text-anchor="end">'
            f'{edges[-1]:.3g}</text></svg>')


def _curve(values: list[float], title: str) -> str:
    """log10 of a ratio per step, between -6 and 0, with the -3 guide dashed."""
    def y(v: float) -> float:
        return PAD + (H - 2 * PAD) * (min(max(v, -6.0), 0.0) / -6.0)
    logs = [math.log10(v) for v in values if v > 0 and math.isfinite(v)]
    step = (W - 2 * PAD) / max(len(logs) - 1, 1)
    points = " ".join(f"{PAD + i * step:.1f},{y(v):.1f}" for i, v in enumerate(logs))
    return (f'<svg width="{W}" height="{H}" role="img"><title>{escape(title)}</title>'
            f'<text x="{PAD}" y="14" font-size="11">{escape(title)}</text>'
            f'<line x1="{PAD}" x2="{W - PAD}" y1="{y(-3):.1f}" y2="{y(-3):.1f}" '
            f'stroke="#999" stroke-dasharray="4 3"/>'
            f'<text x="{W - PAD}" y="{y(-3) - 3:.1f}" font-size="9" text-anchor="end">1e-3'
            f'</text><polyline points="{points}" fill="none" stroke="#c53"/>'
            f'<text x="2" y="{PAD + 4}" font-size="9">1</text>'
            f'<text x="2" y="{H - PAD}" font-size="9">1e-6</text></svg>')


def page(monitor: Any, title: str) -> str:
    """The whole report as one HTML page: warnings, tables, charts. `title` is escaped."""
    parts = [f"<h1>{title}</h1>", "<h2>Warnings</h2>"]
    warnings = monitor.warnings
    parts.append("<ul>" + "".join(f"<li>{escape(w)}</li>" for w in warnings) + "</ul>"
                 if warnings else "<p>None: the statistics look healthy.</p>")
    parts.append(f"<h2>Report</h2><pre>{escape(monitor.report())}</pre>")
    parts.append("<h2>Activations</h2><div>")
    for s in monitor.layers.values():
        if s.histogram is not None:
            parts.append(_bars(*s.histogram, f"{s.name} ({s.kind or 'no activation'})"))
    parts.append("</div><h2>Gradients</h2><div>")
    for p in monitor.params.values():
        if p.histogram is not None:
            parts.append(_bars(*p.histogram, f"{p.name} gradient"))
    parts.append("</div><h2>Update / data per step</h2><div>")
    for p in monitor.params.values():
        parts.append(_curve(p.update_to_data, f"{p.name}"))
    parts.append("</div>")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
            "style-src 'unsafe-inline'\">"
            f"<title>{title}</title><style>body{{font-family:sans-serif;margin:2em}}"
            "svg{margin:4px;border:1px solid #ddd}</style></head><body>"
            + "".join(parts) + "</body></html>")
