"""wxpipeline: auditing WeChat / WeCom use (see README.md)."""

import os

# polars' allocator (jemalloc) hands freed pages back to the kernel after 0.5 s (polars' own
# setting), and a parse or a judge of a busy day frees and takes back hundreds of MB a second: each
# page taken back is a fault and a zeroed page again. Kept 5 s, the pages are reused: the parse
# and cache write of 3M archive messages took 210-238k page faults instead of 457-529k, 1.3-2.0
# instead of 2.2-2.4 CPU s in the kernel (2026-12-02, load ~10, peak RSS +0-60 MB). A whole cold
# 10M-message day: 1.52-1.60M faults instead of 2.32-2.54M, 9.3-10.0 kernel CPU s instead of
# 10.1-13.4, peak RSS 2.61-2.66 GB instead of 2.43-2.47 (user CPU too noisy to tell, 3 pairs).
# Read once, when polars is first imported (this package is imported before it); a value already
# set is left alone; jemalloc takes the last value of an option, polars puts its own first.
RJEM_DECAY = "dirty_decay_ms:5000,muzzy_decay_ms:5000"
os.environ.setdefault("_RJEM_MALLOC_CONF", RJEM_DECAY)
