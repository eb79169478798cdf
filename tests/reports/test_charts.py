"""The trend chart written directly as SVG: well-formed, deterministic, text kept as text (Chinese
labels when the builder has a CJK font, clause ids and ASCII without one), bars and line where the
counts put them."""

import xml.etree.ElementTree as ET
from datetime import date, timedelta

from wxpipeline.reports import charts

NS = {"s": "http://www.w3.org/2000/svg"}
DATES = [date(2026, 10, 1) + timedelta(days=i) for i in range(30)]


def _chart(monkeypatch, font, by_clause, failing):
    monkeypatch.setattr(charts, "cjk_font", lambda: font)
    return charts.trend_svg(DATES, by_clause, failing, {"PAY-01": "单日<支付>限额", "PAY-02": "工作时间支付"})


def test_bars_line_and_chinese_legend(monkeypatch):
    counts = {"PAY-01": [0] * 29 + [3], "PAY-02": [1] + [0] * 29}
    svg = _chart(monkeypatch, "Noto Sans CJK SC", counts, [0] * 29 + [2])
    assert svg == _chart(monkeypatch, "Noto Sans CJK SC", counts, [0] * 29 + [2])  # same data, same bytes
    root = ET.fromstring(svg)  # well-formed: the title's '<' is escaped
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "PAY-01 单日<支付>限额" in texts and "未关闭（计入检查）" in texts and "发现数" in texts
    assert texts.count("10-30") == 1 and "10-01" not in texts  # every third day, ending on the last
    assert "'Noto Sans CJK SC'" in root.get("font-family") and "'Microsoft YaHei'" in root.get("font-family")
    bars = [p for p in root.findall("s:path", NS) if p.get("fill") != "none"]  # not the axes
    assert [b.get("fill") for b in bars] == [charts.PALETTE[0], charts.PALETTE[1]]
    assert all(b.get("d").count("Z") == 1 for b in bars)  # one day with findings per clause
    line = root.find("s:polyline", NS).get("points").split()
    assert len(line) == 30 and float(line[-1].split(",")[1]) < float(line[0].split(",")[1])  # 2 open on the last day
    assert int(root.get("width")) > 300 and int(root.get("height")) > 100


def test_ascii_without_a_cjk_font_and_an_empty_month(monkeypatch):
    svg = _chart(monkeypatch, None, {"PAY-01": [0] * 30}, [0] * 30)
    texts = [t.text for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert "PAY-01" in texts and "findings" in texts and "no findings in 30 days" in texts
    assert not any("\u4e00" <= ch <= "\u9fff" for t in texts for ch in t)


def test_fonts_looked_up_once_in_a_warm_up_thread(monkeypatch):
    """`look_up_fonts_soon` (started by the chat asset) does the one look-up of the process in a
    thread; the report's `cjk_font` then waits for it and gets the same answer."""
    import threading

    calls = []
    inside, release = threading.Event(), threading.Event()

    def families():
        calls.append(threading.current_thread().name)
        inside.set()
        release.wait(5)  # still looking when the report asks: the report waits for it
        return {"WenQuanYi Zen Hei"}

    charts._cjk_font.cache_clear()
    monkeypatch.setattr(charts, "_WARMING", False)
    monkeypatch.setattr(charts, "_known_families", families)
    try:
        charts.look_up_fonts_soon()
        assert inside.wait(5)
        charts.look_up_fonts_soon()  # returns at once: one thread per process
        release.set()
        assert charts.cjk_font() == "WenQuanYi Zen Hei"
        assert calls == ["wxpipeline-fonts"]
    finally:
        release.set()
        charts._cjk_font.cache_clear()
