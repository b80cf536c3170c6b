"""GB/T 39786-2021 cryptography levels: the ONE table of what a system's 密码应用 level asks.

GB/T 39786-2021 (信息安全技术 信息系统密码应用基本要求, in force 2021-10-01) states its
technical requirements per level, one clause per level (6 第一级 … 9 第四级), and grades
them with three verbs: 应 (shall), 宜 (should), 可 (may). The levels follow the system's
security protection level (等保): the standard "按照信息系统安全等级分别提出了相应的密码应用
要求" (announcement of the standard, gmbz.org.cn/main/postDetail.html?id=20210325021723),
so a system graded MLPS level N is held to clause 5+N. A system not graded yet is held to
its department's MLPS level (the level its tenant is hardened at).

Three requirements concern what the platform runs for a tenant:

| aspect | what | level 3 clause |
|---|---|---|
| `storage` | 重要数据存储机密性: important data encrypted at rest | 8.4 e) |
| `transport` | 重要数据传输机密性: important data encrypted in transit | 8.4 d) |
| `peer_auth` | 通信实体身份鉴别: the communicating entities authenticate each other | 8.2 a) |

Sources, next to the data: the level-3 verbs of 8.4 d) and e) (应) were checked against a
published assessment table of clause 8.4 (kler.cn/a/303063.html: "8.4 d) 应采用密码技术保证
信息系统应用的重要数据在传输过程中的机密性", "8.4 e) 应采用密码技术保证信息系统应用的重要
数据在存储过程中的机密性"); the clause layout (6–9, each with 网络和通信安全 and 应用和数据
安全) against the standard's table of contents (docx.baby/p/20784585296073.html). The other
verbs (level 1 可, level 2 宜, 8.2 a) 应, level 4 应) are the standard's as read, and were not
found quoted in the reference corpus: check them against the text before an assessment.

Only `应` is an obligation: `requires(level, aspect)` is True for it alone. The platform
renders encryption where a system's level requires it (`infra/encryption.py`), and
`capacity/compliance.py` checks the rendered objects against the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

SHALL, SHOULD, MAY = "应", "宜", "可"
ASPECTS = ("storage", "transport", "peer_auth")


@dataclass(frozen=True)
class CryptoLevel:
    level: int
    clause: str  # the standard's clause for this level
    storage: str  # 重要数据存储机密性
    transport: str  # 重要数据传输机密性
    peer_auth: str  # 通信实体身份鉴别
    source: str


LEVELS: dict[int, CryptoLevel] = {
    1: CryptoLevel(1, "6 第一级", MAY, MAY, MAY, "GB/T 39786-2021 clause 6 (as read)"),
    2: CryptoLevel(2, "7 第二级", SHOULD, SHOULD, SHOULD, "GB/T 39786-2021 clause 7 (as read)"),
    3: CryptoLevel(
        3,
        "8 第三级",
        SHALL,
        SHALL,
        SHALL,
        "GB/T 39786-2021 8.4 d) e) (checked: kler.cn/a/303063.html), 8.2 a) (as read)",
    ),
    4: CryptoLevel(4, "9 第四级", SHALL, SHALL, SHALL, "GB/T 39786-2021 clause 9 (as read)"),
}

CLAUSES = {  # the clause of each aspect, by level (level 2 mirrors 8.x in 7.x, and so on)
    "storage": "{n}.4 e)",
    "transport": "{n}.4 d)",
    "peer_auth": "{n}.2 a)",
}


def level_of(mlps_level: int | None, department_level: int) -> int:
    """A system's 密码应用 level: its MLPS grade, else its department's."""
    return mlps_level if mlps_level is not None else department_level


def verb(level: int, aspect: str) -> str:
    return getattr(LEVELS[level], aspect)


def requires(level: int, aspect: str) -> bool:
    """Does the standard oblige (应) a system of this level to protect `aspect` with
    cryptography? 宜 and 可 are not obligations."""
    return verb(level, aspect) == SHALL


def clause(level: int, aspect: str) -> str:
    return "GB/T 39786-2021 " + CLAUSES[aspect].format(n=level + 5)
