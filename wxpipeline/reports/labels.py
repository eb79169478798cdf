"""Chinese labels for domains, case statuses and severities. An unknown domain is shown by its id,
so a new domain needs no entry here."""

DOMAIN_LABELS = {
    "groups": "工作群",
    "chat": "聊天内容",
    "publishing": "公众号发布",
    "payments": "微信支付",
}

STATUS_LABELS = {
    "open": "待处理",
    "confirmed": "已确认",
    "false_positive": "误报",
    "resolved": "已解决",
    "waived": "已豁免",
}

SEVERITY_LABELS = {"low": "低", "medium": "中", "high": "高", "critical": "严重"}
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def domain_label(domain: str) -> str:
    return DOMAIN_LABELS.get(domain, domain)


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "open", status or "")


def severity_label(severity: str | None) -> str:
    return SEVERITY_LABELS.get(severity or "", severity or "")
