"""Spreadsheet cells from free text (messages, article titles, nicknames, notes): a value that
begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula by Excel and
LibreOffice when the file is opened (CSV) or re-saved, so it gets a leading `'` — the OWASP
"CSV injection" defence. Used by `findings --format csv|xlsx` and the daily workbook."""

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """`value` unchanged unless it is text a spreadsheet would take for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
