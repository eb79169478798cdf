import gc

import pytest

from wxpipeline.gcpause import gc_paused


def test_gc_paused_pauses_and_restores_the_collector():
    seen = []

    @gc_paused
    def work(x):
        seen.append(gc.isenabled())
        return x * 2

    @gc_paused
    def fails():
        raise ValueError("boom")

    assert gc.isenabled()
    assert work(21) == 42 and seen == [False]
    with pytest.raises(ValueError):
        fails()
    assert gc.isenabled()  # re-enabled after an error too
    gc.disable()
    try:
        work(1)
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()
