"""wxpipeline: auditing WeChat / WeCom use (see README.md)."""

import os

# polars' allocator (jemalloc) hands freed pages back to the kernel after 0.5 s (polars' own
# setting), and a parse or a judge of a busy day frees and takes back hundreds of MB a second: each
# page taken back is a fault and a zeroed page again. Kept 30 s, the pages are reused (round 10's
# 5-second decay already halved the faults of 0.5 s). Cold 10M-message day, 5 pairs alternated with
# 5 s (2026-12-02, load 6-15): 1.14-1.31M page faults (median 1.19M) instead of 1.27-1.74M (1.60M),
# kernel CPU 6.9-10.6 s (median 7.6) instead of 7.4-10.5 (8.9; lower in 4 of 5 pairs), user CPU
# median 68.1 s instead of 76.5 (noisy), peak RSS 2.16-2.31 GB instead of 2.04-2.17; judge_day at
# 10M: kernel CPU 1.33-1.53 s instead of 1.51-1.73 (3 pairs), faults -4..+1 %; the parse of 3M
# messages: faults 190-251k instead of 255-271k, kernel CPU the same (user CPU: noise). Not taken:
# thp:always + metadata_thp:always (faults -45 % on the 10M day, -60..90 % in judge_day, but kernel
# CPU +35 % and +70..180 %: a huge page is zeroed whole, may need compaction), oversize_threshold:0
# and glibc's MALLOC_TRIM/MMAP thresholds (no fewer faults), narenas:2 (parse -0.2..-0.7 kernel s,
# judge_day +0.2). Read once, when polars is first imported (this package is imported before it); a
# value already set is left alone; jemalloc takes the last value of an option, polars puts its own
# first.
RJEM_DECAY = "dirty_decay_ms:30000,muzzy_decay_ms:30000"
os.environ.setdefault("_RJEM_MALLOC_CONF", RJEM_DECAY)
