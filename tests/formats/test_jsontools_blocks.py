"""`read_blocks`: where blocks end, their line numbers and newline offsets, whatever the chunk size."""

from __future__ import annotations

import numpy as np
import pytest

from wxpipeline.formats import jsontools
from wxpipeline.formats.jsontools import read_blocks


def reference(data: bytes, chunk: int) -> list[tuple[bytes, int]]:
    """The blocks as documented: after a leading BOM, stretches of `chunk` bytes; a block ends at the
    last newline of what has been read (a stretch without one joins the next), the rest starts the
    next; what follows the last newline is a block of its own."""
    pos = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    read, line, blocks = min(3, len(data)), 1, []
    while True:
        got = min(chunk, len(data) - read)
        read += got
        cut = data.rfind(b"\n", pos, read) if got else (read if read > pos else -2)
        if cut == -2:
            return blocks
        if cut < 0:
            continue
        blocks.append((data[pos:cut], line))
        line += data.count(b"\n", pos, cut) + 1
        pos = cut + 1
        if not got:
            return blocks


@pytest.mark.parametrize("data", [
    b"", b"\xef\xbb\xbf", b"{}", b"\xef\xbb\xbf{\"a\": 1}\n{\"b\": 2}\n", b"a\nb\n\nc", b"\n\n\n",
    b"short\n" + b"x" * 50 + b"\nlong line without newline for a while" * 3 + b"\nend\n",
])
@pytest.mark.parametrize("chunk", [1, 4, 16, 1000])
def test_blocks_end_at_the_last_newline_read_and_keep_line_numbers(tmp_path, monkeypatch, data, chunk):
    monkeypatch.setattr(jsontools, "_PROBE_BYTES", 5)  # lines longer than a probe: several probes back
    path = tmp_path / "f.jsonl"
    path.write_bytes(data)
    blocks = list(read_blocks(path, chunk, newlines=True))
    assert [(bytes(b), ln) for b, ln, _ in blocks] == reference(data, chunk)
    for b, _, nl in blocks:
        assert nl.tolist() == np.flatnonzero(np.frombuffer(b, np.uint8) == 10).tolist()
    assert [(bytes(b), ln) for b, ln in read_blocks(path, chunk)] == reference(data, chunk)
