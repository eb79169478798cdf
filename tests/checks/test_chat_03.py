"""CHAT-03 suspicious links: block list, IP literals, shorteners, executables; the allow list wins."""

import pytest

from .chat_frames import evidence, messages, msg, run, subjects


def kinds(out):
    return evidence(out)["kinds"]


@pytest.mark.parametrize("text,kind", [
    ("新版客户端 http://update.f3322.net/client", "blocked_host"),
    ("资料在 https://files.duckdns.org/a.pdf", "blocked_host"),
    ("登录 http://103.45.67.89:8080/login", "ip_literal"),
    ("内网 http://0x7f000001/admin", "ip_literal"),
    ("活动详情 t.cn/A6xYzQ9p 点击查看", "shortener"),
    ("看这里https://bit.ly/3abcDEF，马上领取", "shortener"),
    ("装一下 https://dl.some-tools.net/setup/Installer.EXE?v=2", "executable"),
    ("手机端 https://cdn.example.net/app-release.apk", "executable"),
    ("脚本 https://raw.example.org/run.vbs#x", "executable"),
    ("ｈｔｔｐｓ：／／ｂｉｔ．ｌｙ／ａｂｃ 全角也算", "shortener"),
])
def test_each_reason_fires(text, kind):
    out = run("CHAT-03", messages(msg(text, msgid="U1")))
    assert subjects(out) == ["U1"], text
    assert kind in kinds(out), (text, kinds(out))


def test_structured_link_urls_count_and_evidence():
    out = run("CHAT-03", messages(msg("季度奖金领取\n点击登记", msgtype="link", urls=["http://192.168.3.20/bonus.exe"],
                                      msgid="U2")))
    assert subjects(out) == ["U2"]
    link = evidence(out)["links"][0]
    assert link["host"] == "192.168.3.20" and set(link["reasons"]) == {"ip_literal", "executable"}
    assert "IP 地址直连" in out["summary"][0]


def test_allow_list_wins_over_every_reason():
    out = run("CHAT-03", messages(
        msg("微信电脑版 https://dldir1.qq.com/weixin/Windows/WeChatSetup.exe"),  # .exe, but on qq.com
        msg("公告 https://www.gov.cn/zhengce/2026-10/01/content.htm"),
    ))
    assert out.height == 0


@pytest.mark.parametrize("text", [
    "周报见 https://mp.weixin.qq.com/s/AbCdEf",
    "文档 https://doc.weixin.qq.com/txdoc/excel?docid=e2_abc",
    "下载 https://example.com/report.pdf",
    "说明书 https://example.com/setup.exe.html",
    "查询 https://example.com/download?file=tool.exe",  # executable only in the query string
    "版本 1.2.3 已发布，见附件",
    "我的邮箱是 zhang.wei@example.com",
    "t.cnn 不是短链接",
])
def test_near_misses(text):
    assert run("CHAT-03", messages(msg(text))).height == 0, text


def test_numbers_in_evidence_urls_are_masked():
    out = run("CHAT-03", messages(msg("http://t.cn/x?phone=13812345678")))
    assert "1381234" not in out["evidence"][0] and "5678" in evidence(out)["links"][0]["url"]


def test_text_mask_once_per_distinct_text_is_the_row_by_row_test():
    """`text_mask` (CHAT-03's link test once per distinct text when texts repeat) gives each row the
    value the test gives it, null texts included, whichever path the sample picks."""
    import polars as pl

    from wxpipeline.checks.chat_links import _link_in_text, text_mask

    texts = ["见 www.example.com/a", "没有链接", None, "ｗｗｗ.x.cn/y", "a.b", "见 www.example.com/a"]
    for rows in (texts * 50, texts):  # repeating (distinct path) and all but one distinct (row by row)
        for on in ("text", "text_norm"):
            frame = pl.DataFrame({"text": rows, "text_norm": rows})
            test = _link_in_text([on])
            expected = frame.select(test).to_series()
            assert expected.any() and not expected.all()
            assert text_mask(frame, test, on).to_list() == expected.to_list()
