"""The workbook's row heights computed a column at a time (`xlsx._row_heights`) are those of the
row-by-row rule (`xlsx._row_height`): wide and narrow characters, ASCII shares, newlines, empty
lines, long texts, non-text cells, at the workbook's column widths."""

import random

from wxpipeline.reports.xlsx import FINDING_COLUMNS, MAX_WIDTH, MIN_WIDTH, _row_height, _row_heights

CHARS = ["a", "Z", "1", " ", "-", "/", "\n", "中", "文", "，", "\u2e7f", "\u2e80", "😀", "Ａ", "\t", "é", "_"]


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(CHARS) for _ in range(rng.choice([0, 1, 5, 12, 30, 60, 120, 400])))


def test_row_heights_a_column_at_a_time_are_the_row_rule():
    rng = random.Random(16)
    widths = [c.max_width for c in FINDING_COLUMNS] + [MIN_WIDTH, MAX_WIDTH, 7, 60]
    grid = [[rng.choice([_text(rng), _text(rng), "", None, 3, 2.5, True]) for _ in widths] for _ in range(400)]
    grid.append(["中" * 5000 + "\n" + "a" * 100] * len(widths))  # past 409 points
    expected = [_row_height(row, widths) for row in grid]
    assert _row_heights(grid, widths) == expected
    assert None in expected and 409 in expected and len(set(expected)) > 10


def test_row_heights_of_repeated_texts_are_per_column_width():
    """A text repeated down a column and across columns of other widths (the lines of each
    distinct (text, width) are worked out once) gets each row the height of its own cells."""
    rng = random.Random(9)
    texts = [_text(rng) for _ in range(12)]
    widths = [MIN_WIDTH, 9, 16, 44, MAX_WIDTH, 60]
    grid = [[rng.choice(texts + ["", None]) for _ in widths] for _ in range(300)]
    expected = [_row_height(row, widths) for row in grid]
    assert _row_heights(grid, widths) == expected
    assert len(set(expected)) > 3
