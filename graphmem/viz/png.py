"""A static PNG of an :class:`~graphmem.viz.model.Subgraph`, for places without JavaScript.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, so no global backend state);
the layout is a small deterministic spring layout, so the same explanation gives the same image.

>>> png_bytes = render_png(explanation)                     # doctest: +SKIP
"""

from __future__ import annotations

import io
import math
import textwrap
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from graphmem.errors import ConfigError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from graphmem.viz.model import GraphEdge, Subgraph

Positions = npt.NDArray[np.float64]


def spring_layout(
    n: int,
    edges: list[tuple[int, int]],
    *,
    iterations: int = 200,
    seed: int = 7,
    gravity: float = 0.4,
) -> Positions:
    """Fruchterman-Reingold positions in the unit square for ``n`` nodes (deterministic)."""
    if n == 0:
        return np.zeros((0, 2))
    rng = np.random.default_rng(seed)
    pos = rng.random((n, 2))
    if n == 1:
        return np.full((1, 2), 0.5)
    k = 1.0 / math.sqrt(n)
    temp = 0.1
    src = np.array([a for a, _ in edges], dtype=np.int64)
    dst = np.array([b for _, b in edges], dtype=np.int64)
    for _ in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.linalg.norm(delta, axis=-1)
        np.fill_diagonal(dist, 1.0)
        dist = np.maximum(dist, 1e-3)
        disp = (delta / dist[..., None] * (k * k / dist)[..., None]).sum(axis=1)
        if src.size:
            d = pos[src] - pos[dst]
            dl = np.maximum(np.linalg.norm(d, axis=-1), 1e-3)
            f = d / dl[:, None] * (dl * dl / k)[:, None]
            np.add.at(disp, src, -f)
            np.add.at(disp, dst, f)
        # Gravity toward the centre keeps unconnected parts of the subgraph near each other.
        disp -= gravity * (pos - pos.mean(axis=0)) * n * k
        length = np.maximum(np.linalg.norm(disp, axis=-1), 1e-9)
        pos += disp / length[:, None] * np.minimum(length, temp)[:, None]
        temp *= 0.98
    pos -= pos.min(axis=0)
    span = pos.max(axis=0)
    span[span == 0] = 1.0
    out: Positions = pos / span
    return out


def render_png(
    explanation: Subgraph, *, dpi: int = 110, width: float = 12.0, height: float = 8.0
) -> bytes:
    """The drawing as PNG bytes: entities sized and coloured by PageRank score, seeds ringed in
    gold, answer passages as orange squares, facts as labelled arrows, seed-to-passage paths red."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ConfigError("PNG output needs matplotlib: pip install 'graphmem[viz]'") from exc

    nodes = explanation.nodes
    index = {n.id: i for i, n in enumerate(nodes)}
    edges = [e for e in explanation.edges if e.source in index and e.target in index]
    pos = spring_layout(len(nodes), [(index[e.source], index[e.target]) for e in edges])

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.9))
    ax.set_axis_off()
    ax.set_xlim(-0.08, 1.08)
    ax.set_ylim(-0.08, 1.08)
    question = textwrap.shorten(explanation.question, 160, placeholder="…")
    fig.text(0.01, 0.97, "Q: " + question, fontsize=12, weight="bold", va="top", parse_math=False)
    fig.text(
        0.01,
        0.935,
        f"{explanation.mode} ranking · {sum(1 for n in nodes if n.seed > 0)} seed entities · "
        f"{len(nodes)} nodes · {len(edges)} edges",
        fontsize=9,
        color="#57606a",
        va="top",
        parse_math=False,
    )
    if not nodes:
        ax.text(
            0.5,
            0.5,
            "No passage answers this question.",
            ha="center",
            fontsize=14,
            parse_math=False,
        )
    else:
        _draw(ax, explanation, pos, index, edges)
        legend = [
            Line2D(
                [], [], marker="o", ls="", color="#2171b5", label="entity (size/colour: PageRank)"
            ),
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                color="white",
                markeredgecolor="#e6a800",
                markeredgewidth=2.5,
                label="seed entity",
            ),
            Line2D([], [], marker="s", ls="", color="#f16913", label="answer passage"),
            Line2D([], [], color="#e31a1c", lw=2.5, label="seed → passage path"),
        ]
        ax.legend(handles=legend, loc="lower left", fontsize=8, framealpha=0.9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _draw(
    axes: Axes,
    explanation: Subgraph,
    pos: Positions,
    index: dict[str, int],
    edges: list[GraphEdge],
) -> None:
    from matplotlib import colormaps

    nodes = explanation.nodes
    blues, oranges = colormaps["Blues"], colormaps["Oranges"]
    max_score = {
        kind: max((n.score for n in nodes if n.kind == kind), default=0.0) or 1.0
        for kind in ("entity", "passage")
    }
    for e in edges:
        (x0, y0), (x1, y1) = pos[index[e.source]], pos[index[e.target]]
        color = (
            "#e31a1c"
            if e.on_path
            else {"fact": "#78909c", "mentions": "#cfd8dc", "synonym": "#8e24aa"}[e.kind]
        )
        style = {"fact": "-", "mentions": "--", "synonym": ":"}[e.kind]
        arrow = "-|>" if e.kind == "fact" else "-"
        axes.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            arrowprops={
                "arrowstyle": arrow,
                "color": color,
                "lw": 2.5 if e.on_path else 1.0,
                "linestyle": style,
                "shrinkA": 9,
                "shrinkB": 9,
            },
            zorder=1,
        )
        if e.kind == "fact" and e.label:
            axes.text(
                (x0 + x1) / 2,
                (y0 + y1) / 2,
                textwrap.shorten(e.label, 28, placeholder="…"),
                fontsize=6.5,
                color="#37474f",
                ha="center",
                va="center",
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.75},
                zorder=2,
                parse_math=False,
            )
    for n in nodes:
        x, y = pos[index[n.id]]
        rel = math.sqrt(max(n.score, 0.0) / max_score[n.kind])
        if n.kind == "passage":
            face, marker, size = oranges(0.35 + 0.6 * rel), "s", 220 + 380 * rel
            label = textwrap.shorten(n.label, 34, placeholder="…")
        else:
            face, marker, size = blues(0.25 + 0.7 * rel), "o", 60 + 640 * rel
            label = textwrap.shorten(n.label, 28, placeholder="…")
        edge_color = "#e6a800" if n.seed > 0 else ("#e31a1c" if n.on_path else "#57606a")
        axes.scatter(
            [x],
            [y],
            s=size,
            c=[face],
            marker=marker,
            edgecolors=edge_color,
            linewidths=3.0 if n.seed > 0 else 0.8,
            zorder=3,
        )
        axes.text(
            x,
            y - 0.035,
            label,
            fontsize=7.5,
            weight="bold" if n.kind == "passage" else "normal",
            ha="center",
            va="top",
            zorder=4,
            parse_math=False,
        )
