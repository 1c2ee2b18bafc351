"""Text commands in plain words, in en-US, zh-CN and zh-TW, mapped to action names.

The table is data: each action lists the phrases that start it. Matching ignores case, mentions,
surrounding punctuation and spaces between Chinese characters, and accepts a phrase followed by an
argument (``language zh-TW``).

Parsing is linear in the length of the message and considers at most :data:`MAX_TEXT` characters
(a Teams message is at most about 28 KB): a message is parsed on the event loop, so a long one must
not hold it up (mentions are paired in one pass, only prefixes as long as a phrase are looked up,
and a message too long to be near any phrase gets no suggestion).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COMMANDS: dict[str, tuple[str, ...]] = {
    "help": ("help", "menu", "start", "帮助", "菜单", "幫助", "說明", "選單", "功能表"),
    "language": ("language", "lang", "语言", "語言", "切换语言", "切換語言"),
    "my_benefits": ("my benefits", "mine", "what do i have", "我的权益", "我的權益"),
    "overview": ("overview", "benefits", "benefits overview", "权益", "權益", "权益概览", "權益概覽"),
    "list_software": ("software", "keys", "get keys", "软件", "軟體", "获取密钥", "取得金鑰"),
    "list_cloud": ("cloud", "azure", "云", "雲端", "云服务", "雲端服務"),
    "list_visual_studio": ("visual studio", "vs", "visual studio subscriptions", "visual studio 订阅",
                           "visual studio 訂閱"),
    "list_technical": ("technical", "technical benefits", "support", "技术权益", "技術權益", "技术", "技術"),
    "list_go_to_market": ("go-to-market", "go to market", "gtm", "offers", "市场投放", "市场投放权益",
                          "進入市場", "進入市場供應項目"),
    "marketing_contact": ("marketing contact", "营销联系人", "行銷連絡人"),
    "cancel_start": ("cancel", "refund", "cancel a benefit", "取消", "退款", "取消权益", "取消權益"),
    "users": ("users", "roles", "permissions", "用户", "使用者", "角色", "权限", "權限"),
    "request_benefit": ("request", "request a benefit", "ask for", "申请", "申請", "请求权益", "要求權益"),
    "requests": ("requests", "pending requests", "服务请求", "服務要求"),
    "notifications": ("notifications", "undeliverable", "通知", "无法送达", "無法傳遞"),
    "activate": ("activate", "mark activated", "激活", "啟用"),
    "recent_changes": ("changes", "history", "audit", "recent changes", "更改", "历史记录", "變更", "歷程記錄"),
}

#: characters of a message considered as a command
MAX_TEXT = 28 * 1024
_MENTION_TAG = re.compile(r"<(/?)at>", re.I)
_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


@dataclass(frozen=True)
class Command:
    action: str
    argument: str


def _without_mentions(text: str) -> str:
    """``text`` with each ``<at>...</at>`` replaced by a space, in one pass.

    As ``re.sub(r"<at>.*?</at>", " ", text, flags=re.I)``: an open tag pairs with the first close
    tag after it on its line; one left open on its line mentions nobody.
    """
    kept: list[str] = []
    start = 0  # where the text not yet kept begins
    opened = -1  # where the open mention tag begins, or -1
    line_end = -1  # where the line of ``opened`` ends
    for tag in _MENTION_TAG.finditer(text):
        at = tag.start()
        if opened >= 0 and at > line_end:
            opened = -1  # its line ended before any close tag
        if not tag.group(1):
            if opened < 0:
                opened = at
                if line_end < at:
                    line_end = text.find("\n", at)
                    line_end = len(text) if line_end < 0 else line_end
        elif opened >= 0:
            kept.append(text[start:opened])
            kept.append(" ")
            start, opened = tag.end(), -1
    kept.append(text[start:])
    return "".join(kept)


def normalize(text: str) -> str:
    text = _without_mentions((text or "")[:MAX_TEXT])
    text = text.replace("\u00a0", " ").strip().strip("!.。！？?,，;；:：").strip()
    text = _CJK_SPACE.sub("", text)
    return re.sub(r"\s+", " ", text).lower()


def _phrase_table() -> dict[str, str]:
    """Each phrase and its action; on a phrase listed twice the first action wins, as the scan did."""
    table: dict[str, str] = {}
    for action, phrases in COMMANDS.items():
        for phrase in phrases:
            table.setdefault(phrase, action)
    return table


_PHRASES: dict[str, str] = _phrase_table()
_COMMANDS_SEEN: dict[str, tuple[str, ...]] = dict(COMMANDS)
_LONGEST: int = max(map(len, _PHRASES))


def _phrases() -> dict[str, str]:
    global _PHRASES, _COMMANDS_SEEN, _LONGEST
    if COMMANDS != _COMMANDS_SEEN:  # the table is data: an added phrase is picked up
        _PHRASES, _COMMANDS_SEEN = _phrase_table(), dict(COMMANDS)
        _LONGEST = max(map(len, _PHRASES), default=0)
    return _PHRASES


def parse_command(text: str) -> Command | None:
    """The action a message asks for, with any argument after the phrase; None if unknown.

    The longest phrase that is the whole message or its first words wins (lookups in a table of
    phrases, one per word boundary, instead of a scan of every phrase).
    """
    said = normalize(text)
    if not said:
        return None
    phrases = _phrases()
    action = phrases.get(said)
    if action is not None:
        return Command(action, "")
    # A phrase followed by " " and an argument: try every prefix ending before a space, longest first
    # (no prefix longer than the longest phrase can be one).
    end = said.rfind(" ", 0, _LONGEST + 1)
    while end > 0:
        action = phrases.get(said[:end])
        if action is not None:
            return Command(action, said[end:].strip())
        end = said.rfind(" ", 0, end)
    return None


def suggest(text: str) -> str | None:
    """The closest known phrase to an unknown message (for "did you mean ...")."""
    import difflib

    said = normalize(text)
    phrases = [p for ps in COMMANDS.values() for p in ps if len(p) > 1]
    if len(said) > 3 * max(map(len, phrases), default=0):
        return None  # a ratio of 2*matches/(len(a)+len(b)) cannot reach the cutoff of 0.5
    match = difflib.get_close_matches(said, phrases, n=1, cutoff=0.5)
    return match[0] if match else None


def suggest_action(text: str) -> str | None:
    """The action of the closest known phrase, whatever its language: the hint is then said in the
    person's own language (catalog ``commands.<action>``), not in the language of the phrase matched."""
    phrase = suggest(text)
    return _phrases().get(phrase) if phrase else None
