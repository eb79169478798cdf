"""Time the shared word-list matcher on generated chat-like texts (not a test).

    .venv/bin/python benchmarks/bench_wordlists.py --texts 1000000 --traditional 0.1 --hits 0.001

Prints the seconds of `normalise` alone and of `find_terms` (normalise + Aho-Corasick + allow
list + offset mapping) with the default CHAT-01 lists over N texts.
"""

import argparse
import random
import time

import polars as pl

from wxpipeline.checks.textnorm import normalise, traditional_chars
from wxpipeline.checks.wordlists import find_terms, load_word_lists
from wxpipeline.policy import load_policy

CATEGORIES = ["politics", "pornography", "gambling", "drugs", "violence_terror", "cult_superstition"]
PLAIN = ["明天上午十点开会，请大家准时参加。", "收到，马上处理", "这个方案我觉得可以，辛苦了👍", "报销单已经提交，请审批",
         "客户那边反馈说系统有点慢，技术部看一下", "周五团建，地点待定", "好的", "OK, will do", "项目复盘：遇到了不少大麻烦"]
TRADITIONAL = ["這個問題我們下週再討論", "請把會議紀錄發給我"]
BAD = ["有人在群里发百家乐链接", "賭 博网站别点", "冰*毒"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", type=int, default=1_000_000)
    ap.add_argument("--traditional", type=float, default=0.1, help="share of texts in traditional script")
    ap.add_argument("--hits", type=float, default=0.001, help="share of texts with a prohibited term")
    a = ap.parse_args()
    rng = random.Random(1)

    def one() -> str:
        r = rng.random()
        return rng.choice(BAD if r < a.hits else TRADITIONAL if r < a.hits + a.traditional else PLAIN)

    df = pl.DataFrame({"msgid": [f"m{i}" for i in range(a.texts)], "text": [one() for _ in range(a.texts)]})
    lists = load_word_lists(load_policy().versions[0])
    traditional_chars()  # one-off table build (~0.1 s), not per run
    t = time.perf_counter()
    normalise(df["text"])
    t_norm = time.perf_counter() - t
    t = time.perf_counter()
    hits = find_terms(df, text="text", word_lists=lists, categories=CATEGORIES, allow=["allow"])
    t_all = time.perf_counter() - t
    avg = df["text"].str.len_chars().mean()
    print(f"{a.texts} texts (avg {avg:.1f} chars, {a.traditional:.0%} traditional): normalise {t_norm:.2f}s, "
          f"find_terms {t_all:.2f}s ({t_all / a.texts * 1e6:.2f} s per million), {hits.height} hits")


if __name__ == "__main__":
    main()
