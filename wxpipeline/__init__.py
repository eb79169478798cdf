"""wxpipeline: auditing WeChat / WeCom use (see README.md)."""

import os

# polars' allocator (jemalloc) hands freed pages back to the kernel after 0.5 s (polars' own
# setting), and a parse or a judge of a busy day frees and takes back hundreds of MB a second: each
# page taken back is a fault and a zeroed page again. Kept 30 s, the pages are reused (round 10's
# 5-second decay already halved the faults of 0.5 s). Cold 10M-message day, 5 pairs alternated with
# 5 s (2026-12-02, load 6-15): 1.14-1.31M page faults (median 1.19M) instead of 1.27-1.74M (1.60M),
# kernel CPU 6.9-10.6 s (median 7.6) instead of 7.4-10.5 (8.9; lower in 4 of 5 pairs), peak RSS
# 2.26-2.42 GB instead of 2.13-2.28. Not taken: thp:always + metadata_thp:always (faults -45 %,
# but kernel CPU +35 %: a huge page is zeroed whole), oversize_threshold:0 and glibc's
# MALLOC_TRIM/MMAP thresholds (no fewer faults).
# One arena per usable core instead of jemalloc's four: a page one thread frees is found again by
# the next thread that allocates, not left dirty in an arena no thread of the moment uses. Cold 10M
# day on 2 cores (narenas:2), 5 pairs alternated with the 30-second decay alone (2026-12-02 04:30,
# idle machine, load 1.4-4.2): CPU 61.2-73.6 + 5.5-14.0 s (user + kernel) instead of 61.8-74.1 +
# 8.9-23.7, lower in every pair (by 1.1-13.1 s, median 6.1), faults 0.87-0.97M instead of
# 1.04-1.13M, peak RSS 2.15-2.23 GB instead of 2.47-2.54, wall 38.2-50.3 s instead of 42.7-52.2.
# Read once, when polars is first imported (this package is imported before it); a value already
# set is left alone; jemalloc takes the last value of an option, polars puts its own first.


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


RJEM_CONF = f"dirty_decay_ms:30000,muzzy_decay_ms:30000,narenas:{_usable_cores()}"
os.environ.setdefault("_RJEM_MALLOC_CONF", RJEM_CONF)
