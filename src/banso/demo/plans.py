"""The demo's success plans and sales handoffs, so the account 360 has real content.

- A **handoff** for every customer whose latest customer period started in the last 180 days
  (the new customers): the promised outcome, the stakeholders (its contacts by role) and deal
  notes, as a CRM connector would bring them.
- A **success plan** for every high-touch customer: two objectives on real health measures
  (``active_days_28d``, ``active_users_28d``, whose values Banso reads from the health
  snapshots once ``banso health score`` has run) and one manual KPI on the outcome the customer
  bought, worded from the handoff when there is one. The status follows the account's hidden
  health at the end (achieved, on track, at risk), and each quarter since the plan began has a
  review note by the owner, so the history reads like a real one.

Rows only (the demo writes the tables the product reads); deterministic per seed and account.
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from banso.demo.records import IdCounter, Profile, last_start
from banso.demo.story import AccountStory, add_months

Row = dict[str, Any]
NEW_CUSTOMER_DAYS = 180
PLAN_TABLES = ("handoffs", "success_objectives", "success_objective_entries")

OUTCOMES = (
    ("月次決算を8営業日から5営業日に短縮したい", "月次決算の所要日数", 8.0, 5.0),
    ("問い合わせ対応の一次回答を24時間以内にしたい", "一次回答までの平均時間（時間）", 40.0, 24.0),
    ("営業会議の資料作成を週2時間以内にしたい", "資料作成時間（時間/週）", 6.0, 2.0),
    ("紙の申請をなくし、承認を平均2日で終えたい", "承認までの平均日数", 5.0, 2.0),
)
"""(promised outcome, manual KPI, baseline, target) sales may have sold on."""
DEAL_NOTES = (
    "競合A社と比較検討の上で採用。決め手はサポート体制と日本語UI。",
    "予算は上期に確保済み。情報システム部門の承認に1か月かかった。",
    "トライアルで経理部の3名が高評価。全社展開は効果次第と言われている。",
    "前任ツールの解約が来期末。移行支援への期待が大きい。",
)
REVIEWS = {
    "on_track": (
        "定例で利用状況を確認。部署ごとの利用が増えている。",
        "チャンピオンと進捗を確認し、次の部署への展開を合意。",
    ),
    "at_risk": (
        "利用が伸び悩み。管理者向けトレーニングを再度実施する。",
        "担当者の異動で推進役が不在。後任の決定を依頼した。",
    ),
    "achieved": ("目標値に到達したことをお客様と確認。次の目標を相談中。",),
}


def plan_rows(
    seed: int,
    story: AccountStory,
    profile: Profile,
    contacts: list[Row],
    end: date,
    tz: ZoneInfo,
    ids: IdCounter,
    owner_email: str | None,
) -> dict[str, list[Row]]:
    """The handoff and success-plan rows of one account (empty lists for most)."""
    out: dict[str, list[Row]] = {name: [] for name in PLAN_TABLES}
    if not profile.customer_at_end:
        return out
    rng = random.Random(f"banso-demo:{seed}:plans:{story.index}")
    since = last_start(story)
    outcome = rng.choice(OUTCOMES)
    handoff = (end - since).days < NEW_CUSTOMER_DAYS
    if handoff:
        out["handoffs"].append(_handoff(ids, profile, contacts, outcome, since, tz, rng))
    if profile.touch_model != "high":
        return out
    health = next((h for h in reversed(story.health) if not math.isnan(h)), 0.0)
    # a plan is agreed two weeks after the start, or renewed yearly: at most ~14 months old
    start = max(since + timedelta(days=14), end - timedelta(days=rng.randint(30, 420)))
    champion = next((c["id"] for c in contacts if c["role"] == "champion"
                     and c["left_at"] is None), None)  # fmt: skip
    seats = max(3, story.seats[-1] if story.seats else 3)
    objectives = [
        ("毎日の業務で使われるツールにする", "active_days_28d", None,
         float(rng.randint(8, 14)), 26.0, "manual"),
        ("対象部署の全員が使っている状態にする", "active_users_28d", None,
         float(max(1, seats // 2)), float(seats + 2), "manual"),
        (outcome[0], None, outcome[1], outcome[2], outcome[3],
         "handoff" if handoff else "manual"),
    ]  # fmt: skip
    for n, (title, measure, kpi, baseline, target, source) in enumerate(objectives):
        status = _status(health, start, end, n)
        created = _at(start, 10, tz)
        objective_id = ids.take("success_objectives")
        kpi_value = None
        if kpi is not None and start < end:
            share = {"achieved": 1.0, "on_track": 0.6, "at_risk": 0.15}.get(status, 0.0)
            kpi_value = round(baseline + (target - baseline) * share, 1)
        out["success_objectives"].append(
            {
                "id": objective_id, "account_id": profile.account_id, "title": title,
                "measure": measure, "kpi_name": kpi, "kpi_value": kpi_value,
                "kpi_value_on": end if kpi_value is not None else None,
                "baseline": baseline, "target": target,
                "due_date": add_months(start, 12), "owner_id": profile.owner_id,
                "contact_id": champion, "status": status, "source": source,
                "created_at": created, "updated_at": _at(end, 17, tz),
            }
        )  # fmt: skip
        actor = owner_email or "demo"
        entries = [(created, "created", "not_started", None, None)]
        review_day = add_months(start, 3)
        reviews = REVIEWS.get(status, ())
        k = 0
        while review_day <= end and reviews:
            final = add_months(review_day, 3) > end
            note = reviews[min(k, len(reviews) - 1)]
            step = status if final else ("on_track" if status == "achieved" else status)
            entries.append((_at(review_day, 15, tz), "reviewed", step, note, None))
            review_day, k = add_months(review_day, 3), k + 1
        if kpi_value is not None:
            changes = {"kpi_value": {"from": None, "to": kpi_value}}
            entries.append((_at(end, 16, tz), "changed", status, None, changes))
        for at, kind, after, note, changed in entries:
            out["success_objective_entries"].append(
                {
                    "id": ids.take("success_objective_entries"), "objective_id": objective_id,
                    "at": at, "actor": actor, "kind": kind, "status": after, "note": note,
                    "changes": json.dumps(changed, ensure_ascii=False) if changed else None,
                }
            )  # fmt: skip
    return out


def _status(health: float, start: date, end: date, n: int) -> str:
    """From the hidden health at the end: strong accounts on track (their oldest objectives
    achieved after half a year), weak ones at risk, a plan not yet begun not started."""
    if start > end:
        return "not_started"
    if health < -0.3:
        return "at_risk"
    if health > 0.6 and (end - start).days > 180 and n != 1:
        return "achieved"
    return "on_track"


def _handoff(
    ids: IdCounter,
    profile: Profile,
    contacts: list[Row],
    outcome: tuple[str, str, float, float],
    since: date,
    tz: ZoneInfo,
    rng: random.Random,
) -> Row:
    roles = {"champion": "推進役", "decision_maker": "決裁者", "admin": "管理者"}
    people = [f"{c['name']}（{roles[c['role']]}）" for c in contacts
              if c["role"] in roles and c["left_at"] is None]  # fmt: skip
    return {
        "id": ids.take("handoffs"),
        "account_id": profile.account_id,
        "deal_notes": rng.choice(DEAL_NOTES),
        "stakeholders": "、".join(people) or None,
        "promised_outcome": outcome[0],
        "sales_owner": None,
        "source": "crm",
        "updated_at": _at(since - timedelta(days=7), 18, tz),
    }


def _at(day: date, hour: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), tz).astimezone(UTC)
