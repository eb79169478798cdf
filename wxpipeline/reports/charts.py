"""Trend charts for the daily report, written directly as SVG text (no plotting library at render time).

Why not matplotlib: the report runs once per judged day, and four matplotlib charts cost ~0.2 s each
(figure setup, layout and text-to-path conversion), a third of a demo day's judging. A stacked bar
chart with a line is a few hundred rectangles and a polyline; writing those as SVG elements costs
about a millisecond per chart, gives byte-identical output for the same data, and keeps the file small.

Text stays SVG `<text>` (not glyph paths) with a font-family list that names the CJK font found on
this machine first, then the common Chinese system fonts of Windows, macOS and Linux: whoever can
read the report page (itself Chinese text set in the reader's fonts) can read its charts, and the
text stays selectable and sharp when printed. Without a CJK font on the machine that builds the
report, labels fall back to clause ids and ASCII (and the report says so), as before.
"""

from __future__ import annotations

import math
import subprocess
import threading
from datetime import date
from functools import lru_cache
from html import escape

CJK_FAMILIES = (
    "Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
    "Noto Sans SC", "Microsoft YaHei", "PingFang SC", "SimHei", "Heiti SC", "Droid Sans Fallback",
    "Noto Sans CJK JP", "AR PL UMing CN",
)
# what a reader's browser falls back to when the builder's CJK font is not installed there
READER_CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
                       "Hiragino Sans GB", "WenQuanYi Micro Hei", "SimHei")
# a qualitative palette with enough distinct colours for a domain's clauses
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac")

# Geometry in px: the figure is 960 x 290 (the size the matplotlib charts had); the plot area leaves
# the left 6 % for the y axis, the right 26 % for the legend and the bottom 14 % for the dates.
WIDTH, HEIGHT = 960, 290
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 0.06 * WIDTH, 0.74 * WIDTH, 0.05 * HEIGHT, 0.86 * HEIGHT
FONT_PX, LEGEND_PX = 12, 10.7  # 9 pt and 8 pt at 96 dpi
BAR_WIDTH = 0.75  # of a day's slot


def _known_families() -> set[str]:
    from matplotlib import font_manager  # only to look fonts up, once per process

    return {f.name for f in font_manager.fontManager.ttflist}


_FONT_LOCK = threading.Lock()  # one look-up per process, also when a warm-up thread runs it
_WARM_LOCK = threading.Lock()
_WARMING = False  # the warm-up thread was started (once per process)


def cjk_font() -> str | None:
    """A font family with Chinese glyphs on this machine, or None. Fonts installed after matplotlib
    built its font cache are found through fontconfig (`fc-list :lang=zh`) and registered on the fly."""
    with _FONT_LOCK:
        return _cjk_font()


def look_up_fonts_soon() -> None:
    """`cjk_font()` in a background thread, once per process, for a report written later in the
    run. The look-up is ~0.3 CPU s of Python (importing matplotlib's font manager, which loads its
    font list; the `.ttc` CJK fonts registered from fontconfig) and would otherwise run on its
    own in the report's step; `judge_day` starts it with the rules' frames, whose polars work
    leaves the GIL (and the second core) mostly free."""
    global _WARMING
    with _WARM_LOCK:  # not `_FONT_LOCK`, which the look-up holds: a second call returns at once
        if _WARMING:
            return
        _WARMING = True
    # not a daemon: never cut short inside an import at the interpreter's exit
    threading.Thread(target=cjk_font, name="wxpipeline-fonts").start()


@lru_cache(maxsize=1)
def _cjk_font() -> str | None:
    families = _known_families()
    for name in CJK_FAMILIES:
        if name in families:
            return name
    from matplotlib import font_manager

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


def _font_family(font: str | None) -> str:
    names = ([font] if font else []) + [n for n in READER_CJK_FAMILIES if font and n != font] + ["DejaVu Sans"]
    return ", ".join(f"'{n}'" for n in dict.fromkeys(names)) + ", sans-serif"


def _y_step(top: float) -> int:
    """An integer tick step giving at most 6 intervals up to `top` (1, 2, 5, 10, 20, 50, ...)."""
    for magnitude in (10 ** k for k in range(0, 12)):
        for m in (1, 2, 5):
            if top / (m * magnitude) <= 6:
                return m * magnitude
    return 10 ** 12


def _n(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


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
    n = len(dates)
    totals = [sum(day) for day in zip(*by_clause.values())] if by_clause else [0] * n
    top = max([*totals, *failing, 1]) * 1.15 + 0.5
    x_lo, x_hi = -0.6, n - 0.4
    sx = (PLOT_RIGHT - PLOT_LEFT) / (x_hi - x_lo)
    sy = (PLOT_BOTTOM - PLOT_TOP) / top

    def px(x: float) -> float:
        return PLOT_LEFT + (x - x_lo) * sx

    def py(y: float) -> float:
        return PLOT_BOTTOM - y * sy

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'font-family="{escape(_font_family(font))}" font-size="{FONT_PX}" fill="#000000">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    # y grid and ticks (integers only)
    step = _y_step(top)
    for v in range(0, int(math.floor(top)) + 1, step):
        y = _n(py(v))
        out.append(f'<line x1="{_n(PLOT_LEFT)}" y1="{y}" x2="{_n(PLOT_RIGHT)}" y2="{y}" stroke="#dddddd" '
                   'stroke-width="0.8"/>')
        out.append(f'<line x1="{_n(PLOT_LEFT - 4)}" y1="{y}" x2="{_n(PLOT_LEFT)}" y2="{y}" stroke="#000000"/>')
        out.append(f'<text x="{_n(PLOT_LEFT - 6)}" y="{y}" text-anchor="end" dominant-baseline="central">{v}</text>')
    # stacked bars: one path per clause (its legend colour), a rectangle per day with findings
    bottom = [0] * n
    legend: list[tuple[str, str]] = []
    half = BAR_WIDTH / 2
    for i, (cid, counts) in enumerate(by_clause.items()):
        colour = PALETTE[i % len(PALETTE)]
        title = titles.get(cid, "") if font else ""
        legend.append((colour, f"{cid} {title}" if title and title != cid else cid))
        boxes = "".join(
            f"M{_n(px(x - half))} {_n(py(b + c))}H{_n(px(x + half))}V{_n(py(b))}H{_n(px(x - half))}Z"
            for x, (b, c) in enumerate(zip(bottom, counts)) if c
        )
        if boxes:
            out.append(f'<path d="{boxes}" fill="{colour}"><title>{escape(legend[-1][1])}</title></path>')
        bottom = [b + c for b, c in zip(bottom, counts)]
    # the open (failing) findings as a line with markers
    points = " ".join(f"{_n(px(x))},{_n(py(v))}" for x, v in enumerate(failing))
    if points:
        out.append(f'<polyline points="{points}" fill="none" stroke="#222222" stroke-width="1.9" '
                   'stroke-linejoin="round"/>')
        out.extend(f'<circle cx="{_n(px(x))}" cy="{_n(py(v))}" r="1.7" fill="#222222"/>' for x, v in enumerate(failing))
    # axes (left and bottom spines) and date ticks, the last day always labelled
    out.append(f'<path d="M{_n(PLOT_LEFT)} {_n(PLOT_TOP)}V{_n(PLOT_BOTTOM)}H{_n(PLOT_RIGHT)}" fill="none" '
               'stroke="#000000" stroke-width="1.1"/>')
    tick_step = max(1, n // 10)
    for t in range(n - 1, -1, -tick_step):
        x = _n(px(t))
        out.append(f'<line x1="{x}" y1="{_n(PLOT_BOTTOM)}" x2="{x}" y2="{_n(PLOT_BOTTOM + 4)}" stroke="#000000"/>')
        out.append(f'<text x="{x}" y="{_n(PLOT_BOTTOM + 17)}" text-anchor="middle">{dates[t].strftime("%m-%d")}</text>')
    y_label = "发现数" if font else "findings"
    mid = _n((PLOT_TOP + PLOT_BOTTOM) / 2)
    out.append(f'<text transform="translate(22 {mid}) rotate(-90)" text-anchor="middle">{y_label}</text>')
    if not any(bottom):
        out.append(f'<text x="{_n((PLOT_LEFT + PLOT_RIGHT) / 2)}" y="{_n((PLOT_TOP + PLOT_BOTTOM) / 2)}" '
                   f'text-anchor="middle" dominant-baseline="central" fill="#888888">'
                   f'{"近30天无发现" if font else "no findings in 30 days"}</text>')
    # legend, right of the plot: one swatch per clause, then the line
    lx, ly, row = PLOT_RIGHT + 0.01 * (PLOT_RIGHT - PLOT_LEFT), PLOT_TOP + 4, LEGEND_PX * 1.6
    out.append(f'<g font-size="{LEGEND_PX}">')
    for k, (colour, label) in enumerate(legend):
        y = ly + k * row
        out.append(f'<rect x="{_n(lx)}" y="{_n(y)}" width="20" height="7.5" fill="{colour}"/>')
        out.append(f'<text x="{_n(lx + 27)}" y="{_n(y + 3.75)}" dominant-baseline="central">{escape(label)}</text>')
    y = ly + len(legend) * row + 3.75
    out.append(f'<line x1="{_n(lx)}" y1="{_n(y)}" x2="{_n(lx + 20)}" y2="{_n(y)}" stroke="#222222" stroke-width="1.9"/>')
    out.append(f'<circle cx="{_n(lx + 10)}" cy="{_n(y)}" r="1.7" fill="#222222"/>')
    out.append(f'<text x="{_n(lx + 27)}" y="{_n(y)}" dominant-baseline="central">'
               f'{"未关闭（计入检查）" if font else "open (failing)"}</text>')
    out.append("</g></svg>")
    return "\n".join(out) + "\n"
