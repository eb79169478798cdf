"""Great Expectations' metric ids computed once per distinct content, not on every validation.

Each validation plans its metrics anew: every expectation builds its metric configurations, and
each configuration's id is an md5 of the JSON of its domain and value kwargs, made JSON-able by
GE's recursive `convert_to_json_serializable` (numpy type checks on every value). The same ~130
ids are thus recomputed for every staged table of every day: with them kept, a small table's
contract costs ~23.5 instead of ~31 CPU ms (46 of the demo's staged tables), and a one-day run
checks ~146 tables.

Here `IDDict.to_id` keeps its results for kwargs made only of plain JSON values (str, int,
float, bool, None, and lists/tuples/dicts of them), keyed by their content *and types* (so
`True`, `1` and `1.0`, equal in Python but not in JSON, stay apart); anything else (a pandas
frame, a numpy value, a batch spec with data) goes through GE's own computation. The id is a
pure function of that content, so the ids, and every result, are the same.
"""

from __future__ import annotations

import threading

MAX_IDS = 20_000  # distinct kwargs kept (a one-day run meets a few hundred)
_LOCK = threading.Lock()
_IDS: dict = {}
_INSTALLED: list[bool] = []
_ORIGINAL: list = []  # GE's own `to_id`
_PLAIN = (str, int, float, bool, type(None))


class _NotPlain(Exception):
    pass


def _frozen(value):
    """A hashable image of a plain JSON value that tells types apart; _NotPlain otherwise."""
    kind = type(value)
    if kind in _PLAIN:
        return (kind, value)
    if kind is list or kind is tuple:
        return (kind, tuple(_frozen(v) for v in value))
    if isinstance(value, dict):  # IDDict and other dict subclasses serialise as dicts
        if not all(type(k) is str for k in value):
            raise _NotPlain
        return (dict, tuple(sorted((k, _frozen(v)) for k, v in value.items())))
    raise _NotPlain


def memoise_metric_ids() -> None:
    """Patch `IDDict.to_id` (idempotent); call once Great Expectations is imported."""
    if _INSTALLED:
        return
    from great_expectations.core.id_dict import IDDict

    compute = IDDict.to_id
    _ORIGINAL.append(compute)

    def to_id(self, id_keys=None, id_ignore_keys=None):
        try:
            key = (type(self), _frozen(dict(self)), None if id_keys is None else tuple(sorted(id_keys)),
                   None if id_ignore_keys is None else tuple(sorted(id_ignore_keys)))
        except (_NotPlain, TypeError):  # TypeError: keys or values that do not sort
            return compute(self, id_keys, id_ignore_keys)
        hit = _IDS.get(key)
        if hit is None:
            hit = compute(self, id_keys, id_ignore_keys)
            with _LOCK:
                if len(_IDS) >= MAX_IDS:
                    _IDS.clear()
                _IDS[key] = hit
        return hit

    IDDict.to_id = to_id
    _INSTALLED.append(True)
