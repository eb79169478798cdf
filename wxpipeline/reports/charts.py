"""Trend charts rendered by matplotlib as SVG (text converted to paths, so the SVG needs no font
on the reader's machine). Chinese labels use a CJK font found on this machine (Noto Sans CJK,
WenQuanYi, Source Han, ...); without one the chart falls back to clause ids and ASCII labels
instead of printing empty boxes."""

from __future__ import annotations

import io
import subprocess
from datetime import date
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")  # no display; must precede any pyplot import elsewhere in the process

from matplotlib import font_manager  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

CJK_FAMILIES = (
    "Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
    "Noto Sans SC", "Microsoft YaHei", "PingFang SC", "SimHei", "Heiti SC", "Droid Sans Fallback",
    "Noto Sans CJK JP", "AR PL UMing CN",
)
# a qualitative palette with enough distinct colours for a domain's clauses
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac")


def _known_families() -> set[str]:
    return {f.name for f in font_manager.fontManager.ttflist}


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """A font family with Chinese glyphs, or None. Fonts installed after matplotlib built its font
    cache are found through fontconfig (`fc-list :lang=zh`) and registered on the fly."""
    families = _known_families()
    for name in CJK_FAMILIES:
        if name in families:
            return name
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    for line in sorted(out.splitlines()):
        path = line.split(":")[0].strip()
        if path:
            try:
                font_manager.fontManager.addfont(path)
            except Exception:  # noqa: BLE001 - an unreadable font file is simply skipped
                continue
    families = _known_families()
    return next((name for name in CJK_FAMILIES if name in families), None)


def trend_svg(
    dates: list[date],
    by_clause: dict[str, list[int]],
    failing: list[int],
    titles: dict[str, str] | None = None,
) -> str:
    """A stacked bar per day (findings recorded, one colour per clause) with a line for the open
    findings that fail their check. Returns the SVG document as text."""
    font = cjk_font()
    titles = titles or {}
    rc = {
        "svg.fonttype": "path",
        "svg.hashsalt": "wxpipeline",  # stable ids: the same data gives the same SVG
        "font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"],
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(9.6, 2.9), dpi=100)
        ax = fig.subplots()
        xs = list(range(len(dates)))
        bottom = [0] * len(dates)
        for i, (cid, counts) in enumerate(by_clause.items()):
            title = titles.get(cid, "") if font else ""
            label = f"{cid} {title}" if title and title != cid else cid
            # one collection per clause, not one artist per bar: the bars cost most of a chart
            boxes = [[(x - 0.375, b), (x - 0.375, b + c), (x + 0.375, b + c), (x + 0.375, b)]
                     for x, b, c in zip(xs, bottom, counts) if c]
            ax.add_collection(PolyCollection(boxes, facecolors=PALETTE[i % len(PALETTE)], linewidths=0, label=label),
                              autolim=False)
            bottom = [b + c for b, c in zip(bottom, counts)]
        ax.plot(xs, failing, color="#222222", linewidth=1.4, marker="o", markersize=2.5,
                label="未关闭（计入检查）" if font else "open (failing)")
        step = max(1, len(dates) // 10)
        ticks = list(range(len(dates) - 1, -1, -step))[::-1]
        ax.set_xticks(ticks, [dates[t].strftime("%m-%d") for t in ticks])
        ax.set_xlim(-0.6, len(dates) - 0.4)
        top = max([*bottom, *failing, 1])
        ax.set_ylim(0, top * 1.15 + 0.5)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel("发现数" if font else "findings")
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
        if not any(bottom):
            ax.text(0.5, 0.5, "近30天无发现" if font else "no findings in 30 days", transform=ax.transAxes,
                    ha="center", va="center", color="#888888")
        fig.subplots_adjust(left=0.06, right=0.74, top=0.95, bottom=0.14)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "wxpipeline"})
    return buf.getvalue()
