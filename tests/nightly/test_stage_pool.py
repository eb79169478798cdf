"""`StagePool`: every stage run is executed exactly once, here or in the helper, even when the
helper dies with a run taken and not reported."""

import multiprocessing as mp

from wxpipeline import stage_pool

RUNS = [(f"stage 2026-10-{d:02d}", f"2026-10-{d:02d}", None) for d in range(1, 9)]


class FakeExecutor:
    def __init__(self):
        self.done, self.failed, self.blocked = [], [], []

    def execute(self, job, label, day, assets=None):
        assert job == "stage_day"
        self.done.append(day)


def _helper_dies_after_taking_two(runs_queue, done, counter):
    runs = runs_queue.get()
    first = stage_pool._claim(counter, len(runs))
    done.put((first, True, [(runs[first][0], ["wecom_messages_contract"])]))  # reported: failed, blocked
    stage_pool._claim(counter, len(runs))  # taken, never reported: the process ends here


def _helper_slow_to_exit(runs_queue, done, counter):
    import time

    runs = runs_queue.get()
    while (i := stage_pool._claim(counter, len(runs))) is not None:
        done.put((i, False, []))
    done.put(None)
    time.sleep(2)  # closing its instance and shutting its interpreter down


def _pool_with(helper) -> stage_pool.StagePool:
    pool = stage_pool.StagePool.__new__(stage_pool.StagePool)
    ctx = mp.get_context("spawn")
    pool.runs, pool._sent = [], False
    pool._runs_queue, pool._done, pool._counter = ctx.Queue(), ctx.Queue(), ctx.Value("i", 0)
    pool.proc = ctx.Process(target=helper, args=(pool._runs_queue, pool._done, pool._counter), daemon=True)
    pool.proc.start()
    return pool


def test_a_run_the_helper_took_and_never_reported_is_executed_here():
    pool, ex = _pool_with(_helper_dies_after_taking_two), FakeExecutor()
    pool.start(RUNS)
    pool.proc.join()  # the helper took runs 0 and 1 before this process takes any
    pool.execute_all(ex)
    pool.close()
    assert sorted(ex.done) == sorted(day for _, day, _ in RUNS[1:])  # run 0 by the helper, run 1 here
    assert ex.failed == [RUNS[0][0]] and ex.blocked == [(RUNS[0][0], ["wecom_messages_contract"])]


def test_judging_does_not_wait_for_the_helper_to_exit():
    pool, ex = _pool_with(_helper_slow_to_exit), FakeExecutor()
    pool.start(RUNS)
    try:
        pool.execute_all(ex)  # every run ended and reported: returns as the helper's last word arrives
        assert pool.proc.is_alive()
    finally:
        pool.close()
    assert pool.proc is None and not ex.failed


def test_without_a_helper_every_run_is_executed_here(monkeypatch):
    monkeypatch.setattr(stage_pool.os, "cpu_count", lambda: 1)
    pool, ex = stage_pool.StagePool(), FakeExecutor()
    assert pool.proc is None
    pool.start(RUNS)
    pool.execute_all(ex)
    assert ex.done == [day for _, day, _ in RUNS] and not ex.failed


def test_no_helper_on_a_busy_machine(monkeypatch):
    monkeypatch.setattr(stage_pool.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(stage_pool, "busy_cores", lambda cores: 1.6)
    assert stage_pool.StagePool().proc is None
    # near miss: a core free
    monkeypatch.setattr(stage_pool, "busy_cores", lambda cores: 1.4)
    pool = stage_pool.StagePool()
    try:
        assert pool.proc is not None
    finally:
        pool.close()


def test_busy_cores_measured_now_not_from_the_load_average(monkeypatch):
    """An idle machine after a busy minute (the benchmark's own generation of its day: load
    average 1.8 on 2 cores) has its cores free: the helper runs."""
    ticks = iter([(1000, 5000), (1036, 5040)])  # 40 ticks elapsed, 36 of them idle
    monkeypatch.setattr(stage_pool, "cpu_ticks", lambda: next(ticks))
    monkeypatch.setattr(stage_pool.os, "getloadavg", lambda: (1.8, 1.2, 0.9))
    assert abs(stage_pool.busy_cores(2, seconds=0) - 0.2) < 1e-9
    # near miss: 36 of 40 ticks busy
    ticks = iter([(1000, 5000), (1004, 5040)])
    assert abs(stage_pool.busy_cores(2, seconds=0) - 1.8) < 1e-9


def test_busy_cores_falls_back_to_the_load_average(monkeypatch):
    def unreadable():
        raise OSError("no /proc")

    monkeypatch.setattr(stage_pool, "cpu_ticks", unreadable)
    monkeypatch.setattr(stage_pool.os, "getloadavg", lambda: (1.7, 1.2, 0.9))
    assert stage_pool.busy_cores(2, seconds=0) == 1.7


def test_cpu_ticks_reads_the_machine():
    idle, every = stage_pool.cpu_ticks()
    assert 0 <= idle <= every and every > 0


# ---- the exports read shared with the helper ------------------------------------------------


def _parse_helper(runs_queue, done, counter, files_queue, claims):
    stage_pool._parse_files(files_queue, claims)  # the helper's share, without its imports


def _helper_takes_the_smallest_and_dies(runs_queue, done, counter, files_queue, claims):
    files_queue.get()
    stage_pool._claim_file(claims, from_top=False)  # taken, never parsed: the process ends here


def _helper_failing_every_file(runs_queue, done, counter, files_queue, claims):
    from wxpipeline import arrival

    def fails(*args):
        raise OSError("disk error in the helper")

    arrival.file_info = fails
    stage_pool._parse_files(files_queue, claims)


def _exports(tmp_path, monkeypatch):
    from wxpipeline.resources import exports_folder

    from .arrival_fixture import ARRIVALS

    folder = tmp_path / "exports"
    for night in sorted(ARRIVALS):
        for rel, text in ARRIVALS[night]:
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text, "utf-8")
    (folder / "wecom_archive" / "broken.jsonl").write_text('{"msgid": "x1", "msgtime": \n', "utf-8")
    monkeypatch.setenv("WXPIPELINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WXPIPELINE_EXPORTS_DIR", str(folder))
    return exports_folder()


def _expected(tmp_path, exports):
    from wxpipeline.arrival import inventory
    from wxpipeline.resources.exports import ExportsFolder

    return inventory(ExportsFolder(exports_dir=exports.exports_dir, cache_dir=str(tmp_path / "other-cache")))


def _read_pool(helper) -> stage_pool.StagePool:
    ctx = mp.get_context("spawn")
    pool = stage_pool.StagePool.__new__(stage_pool.StagePool)
    pool.runs, pool._sent, pool._files_sent = [], False, False
    pool._runs_queue, pool._done, pool._counter = ctx.Queue(), ctx.Queue(), ctx.Value("i", 0)
    pool._files_queue, pool._claims = ctx.Queue(), ctx.Array("i", [0, 0, -1])
    pool.proc = ctx.Process(target=helper, daemon=True, args=(
        pool._runs_queue, pool._done, pool._counter, pool._files_queue, pool._claims))
    pool.proc.start()
    return pool


def _first_file_waits_for(monkeypatch, ready) -> list[str]:
    """This process's first file is parsed once `ready()` (the helper took one): a helper slow to
    start would otherwise find every file taken. Returns the files parsed here, in order."""
    import time

    from wxpipeline import arrival

    file_info, parsed = arrival.file_info, []

    def slow_first(exports, kind, path):
        for _ in range(600 if not parsed else 0):
            if ready():
                break
            time.sleep(0.1)
        rel = str(path.relative_to(exports.exports_dir))
        if rel not in parsed:  # a file two kinds read: once
            parsed.append(rel)
        return file_info(exports, kind, path)

    monkeypatch.setattr(arrival, "file_info", slow_first)
    return parsed


def _no_imports(monkeypatch):
    monkeypatch.setattr(stage_pool, "import_for_runs", lambda: None)


def test_the_exports_read_is_shared_with_the_helper(tmp_path, monkeypatch):
    """This process parses the largest files, largest first, the helper the smallest: the same
    inventory as one process reading the folder."""
    exports = _exports(tmp_path, monkeypatch)
    expected = _expected(tmp_path, exports)
    from wxpipeline import arrival

    smallest = arrival.smallest_first(arrival.list_files(exports))
    pool = _read_pool(_parse_helper)
    files = len(expected)
    parsed_here = _first_file_waits_for(monkeypatch, lambda: pool._claims[0] > 0)
    _no_imports(monkeypatch)
    try:
        got = pool.read_exports(exports)
    finally:
        pool.close()
    helper_took = pool._claims[0]  # the smallest files, from the bottom
    assert 0 < helper_took < files
    here = files - helper_took
    assert parsed_here[:here] == smallest[::-1][:here]  # the largest ones, largest first (then the inventory's reads)
    assert got == expected  # the same inventory: days, latest, accounts, rejected files
    assert list(got) == list(expected)


def test_a_file_the_helper_took_and_never_parsed_is_parsed_here(tmp_path, monkeypatch):
    exports = _exports(tmp_path, monkeypatch)
    expected = _expected(tmp_path, exports)
    pool = _read_pool(_helper_takes_the_smallest_and_dies)
    _first_file_waits_for(monkeypatch, lambda: pool._claims[2] != -1)
    monkeypatch.setattr(stage_pool, "import_for_runs", lambda: pool.proc.join())
    try:
        got = pool.read_exports(exports)
    finally:
        pool.close()
    assert pool._claims[2] == 0  # it died holding the smallest file
    assert got == expected


def test_the_files_the_helper_failed_on_are_parsed_here(tmp_path, monkeypatch):
    """Every file the helper took raised there: each is parsed again here, and the folder's
    broken archive file (the smallest) is reported as without the helper (its bad line rejected)."""
    exports = _exports(tmp_path, monkeypatch)
    expected = _expected(tmp_path, exports)
    pool = _read_pool(_helper_failing_every_file)
    _first_file_waits_for(monkeypatch, lambda: pool._claims[0] > 0)
    _no_imports(monkeypatch)
    try:
        got = pool.read_exports(exports)
    finally:
        pool.close()
    assert pool._claims[0] > 0 and pool._claims[2] == -1  # it took files and gave each up
    assert got == expected
    from wxpipeline.formats.registry import EXPORT_KINDS

    _pq, rejects, _meta = exports._cached(EXPORT_KINDS["wecom_archive"], tmp_path / "exports" / "wecom_archive" / "broken.jsonl")
    assert [r.line for r in rejects] == [1]


def test_files_are_claimed_largest_first_here_and_smallest_first_in_the_helper():
    claims = mp.get_context("spawn").Array("i", [0, 5, -1])  # five files, smallest first
    assert stage_pool._claim_file(claims, from_top=True) == 4
    assert stage_pool._claim_file(claims, from_top=False) == 0 and claims[2] == 0  # the helper's file
    assert stage_pool._claim_file(claims, from_top=True) == 3
    assert stage_pool._claim_file(claims, from_top=True) == 2
    assert stage_pool._claim_file(claims, from_top=False) == 1 and claims[2] == 1
    assert stage_pool._claim_file(claims, from_top=True) is None
    assert stage_pool._claim_file(claims, from_top=False) is None


def test_imports_and_definitions_pause_the_collector_and_are_frozen_only_in_a_process_of_their_own(monkeypatch):
    import gc

    from wxpipeline import cli_nightly

    assert gc.isenabled()
    monkeypatch.setattr(cli_nightly, "OWN_PROCESS", [])  # a caller's process (tests, a notebook)
    before = gc.get_freeze_count()
    with cli_nightly.long_lived():
        assert not gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() == before
    assert gc.get_threshold() != cli_nightly.OWN_PROCESS_GC_THRESHOLDS  # a caller's thresholds are left alone
    monkeypatch.setattr(cli_nightly, "OWN_PROCESS", [True])  # `wxpipeline run`, the stage helper
    thresholds = gc.get_threshold()
    try:
        with cli_nightly.long_lived():
            kept = [[i] for i in range(100)]
        assert gc.isenabled() and gc.get_freeze_count() >= before + len(kept)
        assert gc.get_threshold() == cli_nightly.OWN_PROCESS_GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
