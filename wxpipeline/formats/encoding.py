"""Text encodings of export files: UTF-8 (with or without BOM), GB18030/GBK, UTF-16 with a BOM.

Chinese Windows tools and Excel save CSV and JSON as GBK/GB18030 by default, so a file that is
not UTF-8 is not an error: the encoding is chosen per file and recorded. A line that does not
decode in the file's encoding (a GBK cell pasted into a UTF-8 bill, a damaged byte) costs that
line only: it becomes a `Reject` naming its 1-based line, with the line shown as best it can be
read, and is blanked in the returned text so the parser never sees it.

Decoding a whole clean file is one `bytes.decode`; the line-by-line path runs only for files
that do not decode in one piece.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .common import ExportFormatError, Reject

UTF8, GB18030, UTF16 = "utf-8", "gb18030", "utf-16"
DAMAGED = "\ufffd"  # marks undecodable bytes in `Decoded.lossy`
_BOMS = ((b"\xef\xbb\xbf", UTF8), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


@dataclass
class Decoded:
    """A file's text, the encoding it was read with, and the lines that could not be read."""

    text: str
    encoding: str
    rejects: list[Reject] = field(default_factory=list)
    # the text with undecodable bytes as U+FFFD instead of blanked lines: for whole-document
    # JSON, where a blanked line would break the document; the parser then refuses the records
    # that hold a U+FFFD (`DAMAGED`)
    lossy: str | None = None

    @property
    def json_text(self) -> str:
        return self.text if self.lossy is None else self.lossy

    @property
    def meta(self) -> dict:
        return {"encoding": self.encoding, "undecodable_lines": len(self.rejects)}


def read_bytes(path: Path | str) -> bytes:
    """The file's bytes; an unreadable file (permissions, a folder, gone) is refused by name."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ExportFormatError(path, f"cannot read the file: {exc.strerror or exc}", transient=True) from None


def _failing_lines(lines: list[bytes], encoding: str) -> list[int]:
    bad = []
    for i, line in enumerate(lines):
        try:
            line.decode(encoding)
        except UnicodeDecodeError:
            bad.append(i)
    return bad


def decode(data: bytes, file: str, what: str = "file") -> Decoded:
    """Decode `data` (see the module doc). `what` names the file type in reasons (CSV, JSON...)."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            body = data[len(bom):]
            if enc == UTF8:
                return _decode_lines(body, UTF8, file, what, bom_name="utf-8-sig")
            return _decode_utf16(body, enc, file, what)
    try:
        return Decoded(data.decode(UTF8), UTF8)
    except UnicodeDecodeError:
        pass
    # Not UTF-8 throughout. A non-ASCII line that is valid UTF-8 is strong evidence (GBK text
    # almost never is), so the file is UTF-8 with damaged lines when such lines are at least as
    # many as the failing ones; otherwise it is GB18030 (a superset of GBK and GB2312).
    lines = [ln for ln in data.split(b"\n") if not ln.isascii()]
    bad_utf8 = len(_failing_lines(lines, UTF8))
    enc = UTF8 if len(lines) - bad_utf8 >= bad_utf8 else GB18030
    return _decode_lines(data, enc, file, what)


def _decode_lines(data: bytes, enc: str, file: str, what: str, bom_name: str | None = None) -> Decoded:
    try:
        return Decoded(data.decode(enc), bom_name or enc)
    except UnicodeDecodeError:
        pass
    other = GB18030 if enc == UTF8 else UTF8
    out, lossy, rejects = [], [], []
    for n, line in enumerate(data.split(b"\n"), 1):
        try:
            out.append(line.decode(enc))
            lossy.append(out[-1])
        except UnicodeDecodeError as exc:
            out.append("")
            lossy.append(line.decode(enc, "replace"))
            try:
                shown, hint = line.decode(other), f"; it reads as {other}"
            except UnicodeDecodeError:
                shown, hint = line.decode(enc, "replace"), ""
            rejects.append(Reject(file, n, f"{what} line not decodable as {enc} (the file's encoding): "
                                           f"bad byte at column {exc.start + 1}{hint}", shown.rstrip("\r")))
    return Decoded("\n".join(out), bom_name or enc, rejects, "\n".join(lossy))


def _decode_utf16(body: bytes, enc: str, file: str, what: str) -> Decoded:
    try:
        return Decoded(body.decode(enc), UTF16 + enc[-3:])
    except UnicodeDecodeError:
        pass
    # a damaged code unit: lines holding a replacement character that the file did not contain
    text = body.decode(enc, "replace")
    out, rejects = [], []
    for n, line in enumerate(text.split("\n"), 1):
        if "\ufffd" in line:
            out.append("")
            rejects.append(Reject(file, n, f"{what} line not decodable as {enc} (the file's encoding)", line))
        else:
            out.append(line)
    return Decoded("\n".join(out), UTF16 + enc[-3:], rejects, text)


def read_decoded(path: Path | str, what: str = "file") -> Decoded:
    """Read and decode one export file."""
    return decode(read_bytes(path), str(path), what)
