"""Ordinary workplace chat for the demo archive: benign by construction.

Nothing here may trip a message clause: no word-list terms, no ads or solicitation, no URLs
outside well-known hosts, no ID or card numbers, at most one phone number, no confidentiality
markers (`内部资料`, `客户名单`, ...), no insults, and no @-mentions (a leader's @ starts the
CHAT-06/07 reply clocks; those are planted deliberately by the message-clause generator).
`tests/test_demo_wecom.py` checks the corpus against the packaged word lists.
"""

from __future__ import annotations

import random

PROJECTS = ["华东仓储升级", "新版官网", "年度预算", "客户满意度调研", "ERP 上线", "秋季展会", "供应商评估",
            "安全生产月", "培训体系", "数据中台", "门店巡检", "季度复盘"]
ROOMS = ["三楼会议室", "五楼大会议室", "一号洽谈室", "培训教室", "线上会议"]
DOCS = ["周报", "会议纪要", "项目进度表", "预算明细", "报价单", "培训课件", "验收报告", "排班表", "采购申请", "出差申请"]
EXTS = ["docx", "xlsx", "pptx", "pdf"]
CITIES = ["上海", "杭州", "南京", "苏州", "合肥", "宁波"]

TEMPLATES = [
    "收到，谢谢！",
    "好的，我这边马上处理。",
    "{project}的方案我已经更新到共享盘了，大家有空看一下。",
    "今天下午{hour}点在{room}开{project}周会，请准时参加。",
    "明天上午的会议改到{room}，时间不变。",
    "{doc}已经发到邮箱了，麻烦查收。",
    "请大家本周五下班前提交{doc}。",
    "这周的{doc}我汇总好了，有问题随时找我。",
    "客户那边确认了，下周{weekday}去{city}拜访。",
    "我在路上，大概二十分钟后到公司。",
    "{project}进度正常，预计月底前完成第一阶段。",
    "刚才的电话会议我整理了要点，稍后发群里。",
    "系统今晚十点到十一点例行维护，期间暂停使用。",
    "报销单据请按月整理好交到财务部。",
    "下周一开始执行新的考勤制度，具体见公告。",
    "打印机卡纸了，已经联系行政处理。",
    "麻烦帮忙确认一下{doc}里的数据。",
    "已核对，没有问题。",
    "辛苦了，今天的活动很顺利。",
    "{city}的客户反馈不错，合同下周签。",
    "这个问题我来跟进，今天给答复。",
    "请假一天，工作已经交接给同事了。",
    "会议室已经订好，{room}，下午{hour}点。",
    "样品明天寄出，快递单号稍后发给大家。",
    "中午一起吃饭吗？",
    "{project}的需求文档第二版出来了。",
    "大家注意一下，本周四下午有消防演练。",
    "培训资料已上传，请在本月内完成学习。",
    "好的，没问题。",
    "稍等，我查一下。",
    "这个方案可以，按这个执行吧。",
    "数据已经导出，放在共享目录的{doc}文件夹。",
    "下午三点前把{doc}给我，谢谢。",
    "今天加个班，把{project}的测试跑完。",
    "明白，我会注意的。",
    "供应商的报价已经收齐，明天比价。",
    "请各部门统计一下下月的办公用品需求。",
    "车辆已安排好，早上八点在公司门口集合。",
    "收到通知，马上调整。",
    "这周五团建，地点在{city}，详情见附件。",
]
WEEKDAYS = ["一", "二", "三", "四", "五"]

LINKS = [
    ("关于做好秋季安全生产工作的通知", "请各部门认真学习并落实", "https://mp.weixin.qq.com/s/{token}"),
    ("2026年第三季度经营分析", "经营数据与下阶段重点工作", "https://mp.weixin.qq.com/s/{token}"),
    ("企业微信使用指南", "常用功能与操作说明", "https://work.weixin.qq.com/help?doc_id={num}"),
    ("个人所得税专项附加扣除填报指南", "年度汇算前请完成信息确认", "https://www.chinatax.gov.cn/chinatax/n810341/{num}.html"),
]
NEWS = [("本周工作提醒", "请及时处理待办事项", "https://work.weixin.qq.com/wework_admin/frame#{num}")]
MARKDOWN = ["**提醒**：请于本周五前提交{doc}。", "### 今日待办\n1. 整理{doc}\n2. 跟进{project}"]
WISHES = ["恭喜发财，大吉大利", "辛苦了，节日快乐", "项目顺利"]
LOCATIONS = [("公司总部", "上海市浦东新区张江路88号"), ("华东仓库", "江苏省苏州市工业园区星湖街100号")]


_TOKEN = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_SLOTS = {
    "project": lambda rng: rng.choice(PROJECTS), "room": lambda rng: rng.choice(ROOMS),
    "doc": lambda rng: rng.choice(DOCS), "city": lambda rng: rng.choice(CITIES),
    "hour": lambda rng: rng.choice(["两", "三", "四"]), "weekday": lambda rng: rng.choice(WEEKDAYS),
    "token": lambda rng: "".join(rng.choices(_TOKEN, k=22)), "num": lambda rng: rng.randrange(10000, 99999),
}


def fill(rng: random.Random, template: str) -> str:
    # only the slots the template uses draw from rng (tens of thousands of lines per demo)
    return template.format(**{k: f(rng) for k, f in _SLOTS.items() if "{" + k + "}" in template})


def chat_line(rng: random.Random) -> str:
    return fill(rng, rng.choice(TEMPLATES))


def file_name(rng: random.Random) -> str:
    return f"{rng.choice(PROJECTS).replace(' ', '')}{rng.choice(DOCS)}.{rng.choice(EXTS)}"


def corpus() -> list[str]:
    """Every fixed string the generator may send (for the word-list test)."""
    texts = TEMPLATES + [t for link in LINKS + NEWS for t in link[:2]] + MARKDOWN + WISHES
    return texts + PROJECTS + ROOMS + DOCS + CITIES + [a for loc in LOCATIONS for a in loc]
