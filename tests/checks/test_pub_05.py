"""PUB-05 reposts cite their source: violating cases and near-misses."""

from .pub_frames import article, articles, evidence, full_chain, reviews, run

REPOST = reviews(*full_chain("A1", flags="repost"))


def test_repost_without_source_fires():
    out = run("PUB-05", articles(article("A1", content="<p>行业新闻一则。</p>")), REPOST)
    assert out["subject_id"].to_list() == ["A1"]
    assert evidence(out)["items"] == [{"idx": 1, "title": "公司召开安全生产会议", "reason": "审核单标记转载"}]


def test_repost_with_fullwidth_source_line_passes():
    art = article("A1", content="<p>行业新闻一则。</p><p>来源：新华社</p>")
    assert run("PUB-05", articles(art), REPOST).height == 0


def test_repost_with_spaced_halfwidth_marker_or_url_passes():
    assert run("PUB-05", articles(article("A1", content="<p>来源 : 人民网</p>")), REPOST).height == 0
    assert run("PUB-05", articles(article("A1", content="<p>转自 人民网</p>")), REPOST).height == 0
    assert run("PUB-05", articles(article("A1", source_url="https://example.org/a")), REPOST).height == 0


def test_content_saying_repost_needs_a_source():
    art = article("A2", content="<p>本文<b>转载</b>自行业协会。</p>")
    out = run("PUB-05", articles(art), reviews(*full_chain("A2")))
    assert "正文含“转载”" in out["summary"][0]
    ok = article("A2", content="<p>本文转载自行业协会。原文链接：见协会官网</p>")
    assert run("PUB-05", articles(ok), reviews(*full_chain("A2"))).height == 0


def test_copyright_footer_is_not_a_repost():
    art = article("A3", content="<p>原创内容。</p><p>未经授权，禁止转载。</p>")
    assert run("PUB-05", articles(art), reviews(*full_chain("A3"))).height == 0


def test_marker_in_one_article_of_a_publication():
    arts = articles(article("A4", idx=1, content="<p>来源：本公司</p>"),
                    article("A4", idx=2, title="转载篇", content="<p>转载内容</p>"))
    out = run("PUB-05", arts, reviews(*full_chain("A4")))
    assert [i["idx"] for i in evidence(out)["items"]] == [2]
    assert "《转载篇》" in out["summary"][0] and "第2篇" in out["summary"][0]
