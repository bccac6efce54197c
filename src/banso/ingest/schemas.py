"""What each import kind expects: its fields, their value types, and the headers (English and
Japanese) that name them in real exports; plus the YAML mapping for any other header.

A mapping file names the file's headers for the kind's fields::

    columns:
      取引先コード: account_id
      月額料金（税抜）: amount
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import yaml

from banso.errors import BansoError
from banso.i18n import _
from banso.ingest.columns import ValueType
from banso.ingest.values import choice_key
from banso.labels import register


class ImportKind(StrEnum):
    ACCOUNTS = "accounts"
    CONTACTS = "contacts"
    SUBSCRIPTIONS = "subscriptions"
    EVENTS = "events"
    TICKETS = "tickets"
    SURVEYS = "surveys"
    ACTIVITIES = "activities"
    TEAM = "team"
    ATTENDANCE = "attendance"
    DEALS = "deals"
    INVOICES = "invoices"


register("import_kind", {
    "accounts": "Accounts", "contacts": "Contacts", "subscriptions": "Subscriptions",
    "events": "Usage events", "tickets": "Support tickets", "surveys": "Survey answers",
    "activities": "Activities", "team": "Team members", "attendance": "Programme attendance",
    "deals": "Deals", "invoices": "Invoices",
})  # fmt: skip


@dataclass(frozen=True)
class FieldSpec:
    """One field of an import kind: its type, whether every row needs it, the headers naming it."""

    name: str
    value_type: ValueType
    headers: tuple[str, ...]
    required: bool = False
    choices: dict[str, str] = field(default_factory=dict)


def header_key(header: str) -> str:
    """How headers are compared: NFKC, case-folded, without spaces, ``_``, ``-``, ``・``, dots."""
    text = unicodedata.normalize("NFKC", header).casefold()
    return re.sub(r"[\s_\-・.:：]+", "", text)


def _choices(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """``{value: labels}`` -> ``{choice_key(label): value}``, every value naming itself too."""
    out: dict[str, str] = {}
    for value, labels in table.items():
        for label in (value, *labels):
            out[choice_key(label)] = value
    return out


CONTACT_ROLES = _choices(
    {
        "champion": ("チャンピオン", "推進者"),
        "decision_maker": ("decision maker", "decision-maker", "決裁者", "意思決定者", "dm"),
        "admin": ("administrator", "管理者", "アドミン"),
        "user": ("end user", "ユーザー", "ユーザ", "利用者", "一般ユーザー"),
    }
)
JOB_TITLES = _choices(
    {
        "trainee": ("研修生", "トレーニー"),
        "associate": ("アソシエイト",),
        "manager": ("マネージャー", "マネジャー"),
        "senior_manager": ("senior manager", "シニアマネージャー", "シニアマネジャー"),
    }
)
SURVEY_TYPES = _choices(
    {"nps": ("net promoter score",), "csat": ("顧客満足度", "満足度"), "ces": ("顧客努力指標",)}
)
ACTIVITY_KINDS = _choices(
    {
        "meeting": ("mtg", "ミーティング", "打ち合わせ", "打合せ", "会議", "面談", "訪問"),
        "call": ("phone", "電話", "架電"),
        "email": ("mail", "e-mail", "メール"),
        "note": ("メモ", "ノート"),
        "onboarding_session": ("onboarding", "オンボーディング", "導入支援"),
    }
)
TICKET_PRIORITIES = _choices(
    {
        "low": ("低",),
        "normal": ("medium", "中", "通常"),
        "high": ("高",),
        "urgent": ("緊急", "至急"),
    }
)
TICKET_STATUSES = _choices(
    {
        "open": ("new", "未対応", "オープン", "新規"),
        "pending": ("on hold", "in progress", "保留", "対応中", "回答待ち"),
        "solved": ("resolved", "解決", "解決済み", "解決済"),
        "closed": ("クローズ", "完了", "終了"),
    }
)
LIFECYCLE_STAGES = _choices(
    {
        "onboarding": ("オンボーディング", "導入"),
        "adoption": ("アダプション", "定着", "活用"),
        "renewal": ("更新",),
        "expansion": ("エクスパンション", "拡大"),
        "churned": ("churn", "解約", "解約済み"),
    }
)
TOUCH_MODELS = _choices(
    {
        "high": ("high touch", "ハイタッチ"),
        "low": ("low touch", "ロータッチ"),
        "tech": ("tech touch", "テックタッチ"),
    }
)
ATTENDANCE_STATUSES = _choices(
    {
        "attended": ("present", "出席", "参加", "参加済み", "受講"),
        "no_show": ("no-show", "absent", "欠席", "不参加", "無断欠席"),
        "enrolled": ("registered", "申込", "申し込み", "申込済み", "登録"),
    }
)
DEAL_STATUSES = _choices(
    {
        "open": ("in progress", "商談中", "進行中", "オープン"),
        "won": ("closed won", "closedwon", "受注", "成約"),
        "lost": ("closed lost", "closedlost", "失注"),
    }
)
INVOICE_STATUSES = _choices(
    {
        "open": ("unpaid", "due", "未払い", "未入金", "請求中", "未収"),
        "paid": ("支払済み", "支払済", "入金済み", "入金済", "消込済み"),
        "void": ("voided", "cancelled", "canceled", "無効", "取消", "取り消し"),
        "uncollectible": ("bad debt", "回収不能", "貸倒れ", "貸倒"),
    }
)
LANGUAGES = _choices({"ja": ("japanese", "日本語"), "en": ("english", "英語")})

_ACCOUNT_ID = (
    "account_id", "account", "customer_id", "customer", "company_id", "org_id", "取引先ID",
    "顧客ID", "会社ID", "企業ID", "アカウントID", "顧客コード", "取引先コード", "顧客番号",
)  # fmt: skip
_ACCOUNT_NAME = (
    "account_name", "company", "company_name", "customer_name", "organization", "会社名",
    "企業名", "取引先名", "顧客名", "社名",
)  # fmt: skip
_EMAIL = ("email", "e-mail", "mail", "email_address", "メールアドレス", "メール", "Eメール")
_T = ValueType


def _account_ref() -> list[FieldSpec]:
    return [
        FieldSpec("account_id", _T.TEXT, _ACCOUNT_ID, required=True),
        FieldSpec("account_name", _T.TEXT, _ACCOUNT_NAME),
    ]


FIELDS: dict[ImportKind, list[FieldSpec]] = {
    ImportKind.ACCOUNTS: [
        FieldSpec("account_id", _T.TEXT, (*_ACCOUNT_ID, "id"), required=True),
        FieldSpec("name", _T.TEXT, (*_ACCOUNT_NAME, "name", "名称")),
        FieldSpec(
            "kana", _T.TEXT, ("kana", "name_kana", "フリガナ", "ふりがな", "会社名カナ", "カナ")
        ),
        FieldSpec(
            "domain",
            _T.TEXT,
            (
                "domain",
                "website",
                "web",
                "url",
                "homepage",
                "ドメイン",
                "ウェブサイト",
                "Webサイト",
                "ホームページ",
                "HP",
                "URL",
            ),
        ),  # fmt: skip
        FieldSpec("email", _T.EMAIL, _EMAIL),
        FieldSpec("industry", _T.TEXT, ("industry", "業種", "業界")),
        FieldSpec(
            "employee_count", _T.INTEGER, ("employees", "employee_count", "従業員数", "社員数")
        ),
        FieldSpec("plan", _T.TEXT, ("plan", "プラン")),
        FieldSpec("segment", _T.TEXT, ("segment", "セグメント")),
        FieldSpec(
            "owner",
            _T.TEXT,
            (
                "owner",
                "csm",
                "owner_email",
                "csm_email",
                "担当者",
                "担当CSM",
                "担当",
                "担当者メール",
            ),
        ),  # fmt: skip
        FieldSpec(
            "lifecycle_stage",
            _T.CHOICE,
            ("lifecycle_stage", "stage", "ライフサイクル", "ステージ"),
            choices=LIFECYCLE_STAGES,
        ),  # fmt: skip
        FieldSpec("tier", _T.TEXT, ("tier", "ティア", "ランク")),
        FieldSpec(
            "touch_model", _T.CHOICE, ("touch_model", "touch", "タッチモデル"), choices=TOUCH_MODELS
        ),
        FieldSpec("it_literacy", _T.INTEGER, ("it_literacy", "ITリテラシー", "ITリテラシ")),
        FieldSpec("motivation", _T.INTEGER, ("motivation", "モチベーション", "意欲")),
    ],
    ImportKind.CONTACTS: [
        FieldSpec(
            "contact_id", _T.TEXT, ("contact_id", "id", "連絡先ID", "コンタクトID", "担当者ID")
        ),
        *_account_ref(),
        FieldSpec(
            "name", _T.TEXT, ("name", "contact_name", "full_name", "氏名", "名前", "担当者名")
        ),
        FieldSpec("kana", _T.TEXT, ("kana", "フリガナ", "ふりがな", "氏名カナ")),
        FieldSpec("email", _T.EMAIL, _EMAIL),
        FieldSpec("phone", _T.TEXT, ("phone", "tel", "telephone", "電話番号", "電話")),
        FieldSpec("role", _T.CHOICE, ("role", "役割", "ロール"), choices=CONTACT_ROLES),
        FieldSpec("language", _T.CHOICE, ("language", "lang", "言語"), choices=LANGUAGES),
        FieldSpec("left_at", _T.DATETIME, ("left_at", "left", "退職日", "離任日")),
    ],
    ImportKind.SUBSCRIPTIONS: [
        *_account_ref(),
        FieldSpec(
            "subscription_id",
            _T.TEXT,
            (
                "subscription_id",
                "subscription",
                "contract_id",
                "契約ID",
                "契約番号",
                "サブスクリプションID",
                "契約コード",
            ),
            required=True,
        ),  # fmt: skip
        FieldSpec("plan", _T.TEXT, ("plan", "plan_name", "プラン", "プラン名")),
        FieldSpec(
            "start_date",
            _T.DATE,
            ("start_date", "start", "契約開始日", "開始日", "利用開始日"),
            required=True,
        ),  # fmt: skip
        FieldSpec(
            "end_date", _T.DATE, ("end_date", "end", "解約日", "契約終了日", "終了日", "利用終了日")
        ),
        FieldSpec(
            "amount",
            _T.AMOUNT,
            ("amount", "price", "金額", "月額", "契約金額", "料金"),
            required=True,
        ),
        FieldSpec("currency", _T.CURRENCY, ("currency", "通貨")),
        FieldSpec(
            "billing_period_months",
            _T.INTEGER,
            (
                "billing_period_months",
                "billing_period",
                "period_months",
                "請求周期",
                "請求間隔",
                "課金周期",
                "請求周期（月）",
                "請求周期(月)",
            ),
        ),  # fmt: skip
    ],
    ImportKind.EVENTS: [
        FieldSpec("event_id", _T.TEXT, ("event_id", "id", "イベントID")),
        *_account_ref()[:1],
        FieldSpec("user_id", _T.TEXT, ("user_id", "user", "ユーザーID")),
        FieldSpec(
            "event",
            _T.TEXT,
            ("event", "event_name", "name", "イベント", "イベント名"),
            required=True,
        ),
        FieldSpec(
            "timestamp",
            _T.DATETIME,
            ("timestamp", "ts", "time", "occurred_at", "datetime", "日時", "発生日時"),
            required=True,
        ),  # fmt: skip
        FieldSpec("properties", _T.JSON, ("properties", "props", "プロパティ", "属性")),
    ],
    ImportKind.TICKETS: [
        FieldSpec(
            "ticket_id",
            _T.TEXT,
            ("ticket_id", "id", "チケットID", "問い合わせID", "問合せID", "チケット番号"),
            required=True,
        ),  # fmt: skip
        *_account_ref(),
        FieldSpec("email", _T.EMAIL, (*_EMAIL, "contact_email", "requester_email", "依頼者メール")),
        FieldSpec("subject", _T.TEXT, ("subject", "title", "件名", "タイトル")),
        FieldSpec(
            "opened_at",
            _T.DATETIME,
            (
                "opened_at",
                "created_at",
                "created",
                "起票日時",
                "作成日時",
                "受付日時",
                "問い合わせ日時",
            ),
            required=True,
        ),  # fmt: skip
        FieldSpec(
            "closed_at",
            _T.DATETIME,
            ("closed_at", "solved_at", "resolved_at", "解決日時", "完了日時", "クローズ日時"),
        ),  # fmt: skip
        FieldSpec("priority", _T.CHOICE, ("priority", "優先度"), choices=TICKET_PRIORITIES),
        FieldSpec("status", _T.CHOICE, ("status", "ステータス", "状態"), choices=TICKET_STATUSES),
        FieldSpec("category", _T.TEXT, ("category", "カテゴリ", "カテゴリー", "種別")),
        FieldSpec("csat", _T.INTEGER, ("csat", "satisfaction", "満足度")),
    ],
    ImportKind.SURVEYS: [
        FieldSpec("response_id", _T.TEXT, ("response_id", "id", "回答ID")),
        *_account_ref(),
        FieldSpec("email", _T.EMAIL, (*_EMAIL, "respondent_email", "回答者メール")),
        FieldSpec(
            "survey_type",
            _T.CHOICE,
            ("survey_type", "type", "survey", "種類", "調査種別", "アンケート種別"),
            required=True,
            choices=SURVEY_TYPES,
        ),  # fmt: skip
        FieldSpec("score", _T.INTEGER, ("score", "スコア", "点数", "評価"), required=True),
        FieldSpec("comment", _T.TEXT, ("comment", "コメント", "自由記述", "フィードバック")),
        FieldSpec(
            "answered_at",
            _T.DATETIME,
            ("answered_at", "responded_at", "date", "回答日時", "回答日"),
            required=True,
        ),  # fmt: skip
    ],
    ImportKind.ACTIVITIES: [
        FieldSpec("activity_id", _T.TEXT, ("activity_id", "id", "活動ID")),
        *_account_ref(),
        FieldSpec(
            "kind",
            _T.CHOICE,
            ("kind", "type", "activity_type", "種別", "活動種別", "種類"),
            required=True,
            choices=ACTIVITY_KINDS,
        ),  # fmt: skip
        FieldSpec(
            "member",
            _T.TEXT,
            ("member", "member_email", "csm", "owner", "担当者", "担当CSM", "実施者"),
        ),  # fmt: skip
        FieldSpec(
            "occurred_at",
            _T.DATETIME,
            ("occurred_at", "date", "datetime", "日時", "実施日時", "実施日", "活動日"),
            required=True,
        ),  # fmt: skip
        FieldSpec("summary", _T.TEXT, ("summary", "note", "notes", "内容", "概要", "メモ")),
    ],
    ImportKind.TEAM: [
        FieldSpec("name", _T.TEXT, ("name", "full_name", "氏名", "名前"), required=True),
        FieldSpec("email", _T.EMAIL, _EMAIL, required=True),
        FieldSpec(
            "job_title",
            _T.CHOICE,
            ("job_title", "title", "role", "役職", "職位", "グレード"),
            choices=JOB_TITLES,
        ),  # fmt: skip
        FieldSpec("team", _T.TEXT, ("team", "チーム", "部署", "グループ")),
    ],
    # a deal or opportunity of the CRM's sales pipeline (banso.deals): not MRR, which comes
    # only from contract lines; the amount is the deal's total in its currency's minor unit
    ImportKind.DEALS: [
        FieldSpec(
            "deal_id",
            _T.TEXT,
            ("deal_id", "deal", "opportunity_id", "opportunity", "id", "商談ID", "案件ID"),
            required=True,
        ),  # fmt: skip
        *_account_ref(),
        FieldSpec("name", _T.TEXT, ("name", "deal_name", "opportunity_name", "商談名", "案件名")),
        FieldSpec(
            "stage", _T.TEXT, ("stage", "deal_stage", "フェーズ", "商談フェーズ", "ステージ")
        ),
        FieldSpec(
            "status",
            _T.CHOICE,
            ("status", "result", "ステータス", "状態", "結果"),
            required=True,
            choices=DEAL_STATUSES,
        ),  # fmt: skip
        FieldSpec("amount", _T.AMOUNT, ("amount", "金額", "商談金額", "受注金額")),
        FieldSpec("currency", _T.CURRENCY, ("currency", "通貨")),
        FieldSpec(
            "close_date", _T.DATE, ("close_date", "closedate", "完了予定日", "受注予定日", "受注日")
        ),
        FieldSpec("deal_type", _T.TEXT, ("deal_type", "type", "種別", "商談種別", "取引種別")),
        FieldSpec("owner", _T.TEXT, ("owner", "owner_email", "担当者", "営業担当", "担当")),
    ],
    # an invoice of the billing system (banso.invoices): not revenue, which comes only from
    # contract lines; amounts in the currency's minor unit
    ImportKind.INVOICES: [
        FieldSpec(
            "invoice_id",
            _T.TEXT,
            ("invoice_id", "invoice", "id", "請求書ID", "請求ID"),
            required=True,
        ),  # fmt: skip
        *_account_ref(),
        FieldSpec("number", _T.TEXT, ("number", "invoice_number", "請求書番号", "請求番号")),
        FieldSpec(
            "status",
            _T.CHOICE,
            ("status", "ステータス", "状態", "入金状況", "支払状況"),
            required=True,
            choices=INVOICE_STATUSES,
        ),  # fmt: skip
        FieldSpec(
            "amount_due",
            _T.AMOUNT,
            ("amount_due", "amount", "請求金額", "請求額", "金額"),
            required=True,
        ),  # fmt: skip
        FieldSpec("amount_paid", _T.AMOUNT, ("amount_paid", "paid", "入金額", "支払額")),
        FieldSpec("currency", _T.CURRENCY, ("currency", "通貨")),
        FieldSpec(
            "issued_on",
            _T.DATE,
            ("issued_on", "invoice_date", "issued", "請求日", "発行日"),
            required=True,
        ),  # fmt: skip
        FieldSpec("due_date", _T.DATE, ("due_date", "due", "支払期日", "支払期限", "期日")),
        FieldSpec("paid_at", _T.DATETIME, ("paid_at", "paid_on", "入金日", "支払日", "入金日時")),
        FieldSpec("attempts", _T.INTEGER, ("attempts", "attempt_count", "請求試行回数")),
    ],
    # a session of the programme (banso.programs) is found by the programme's key and the
    # session's company-local date; the person by e-mail, else the company by its id
    ImportKind.ATTENDANCE: [
        FieldSpec(
            "program",
            _T.TEXT,
            ("program", "programme", "program_key", "プログラム", "講座", "イベント"),
            required=True,
        ),  # fmt: skip
        FieldSpec(
            "session_date",
            _T.DATE,
            ("session_date", "date", "開催日", "実施日", "日付", "受講日"),
            required=True,
        ),  # fmt: skip
        FieldSpec("email", _T.EMAIL, _EMAIL),
        FieldSpec("account_id", _T.TEXT, _ACCOUNT_ID),
        FieldSpec("account_name", _T.TEXT, _ACCOUNT_NAME),
        FieldSpec(
            "status",
            _T.CHOICE,
            ("status", "attendance", "出欠", "出席状況", "状態", "ステータス"),
            required=True,
            choices=ATTENDANCE_STATUSES,
        ),  # fmt: skip
    ],
}


def load_mapping(path: Path, kind: ImportKind) -> dict[str, str]:
    """``{file header: field}`` from a YAML mapping file; unknown fields are refused at load."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BansoError(
            _("Cannot read mapping file {path}: {reason}", path=str(path), reason=str(exc))
        ) from None
    if isinstance(data, dict) and isinstance(data.get("columns"), dict):
        data = data["columns"]
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise BansoError(
            _(
                "Mapping file {path} must map file headers to field names,"
                " e.g. 取引先コード: account_id",
                path=str(path),
            )
        )
    known = {f.name for f in FIELDS[kind]}
    for header, name in data.items():
        if name not in known:
            raise BansoError(
                _(
                    "Mapping file {path}: {header} maps to {field}, which is not a field of"
                    " {kind} (fields: {fields}).",
                    path=str(path),
                    header=header,
                    field=name,
                    kind=kind.value,
                    fields=", ".join(sorted(known)),
                )  # fmt: skip
            )
    return data


def match_headers(
    kind: ImportKind, headers: list[str], mapping: dict[str, str] | None = None
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Which header (as written) holds each field, and the problems ``(column, reason)``.

    The mapping file wins over the built-in aliases; a field named by two headers, or a
    required field named by none, is a problem.
    """
    specs = FIELDS[kind]
    mapped = {header_key(h): f for h, f in (mapping or {}).items()}
    alias = {header_key(a): spec.name for spec in specs for a in (spec.name, *spec.headers)}
    found: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for header in headers:
        key = header_key(header)
        name = mapped.get(key) or (None if key in mapped else alias.get(key))
        if not header or name is None:
            continue
        if name in found:
            problems.append(
                (header, _("column {other} already gives {field}", other=found[name], field=name))
            )
            continue
        found[name] = header
    # a file that names its customers only by company name (a billing export, say) uses the
    # name as the customer's id in that source; identity resolution then matches it by name
    name_field = "name" if kind is ImportKind.ACCOUNTS else "account_name"
    if "account_id" not in found and name_field in found:
        found["account_id"] = found[name_field]
    for spec in specs:
        if spec.required and spec.name not in found:
            problems.append(
                (
                    spec.name,
                    _(
                        "required column missing; accepted headers: {headers}"
                        " (or name it in a --mapping file)",
                        headers=", ".join(spec.headers[:6]),
                    ),
                )
            )
    return found, problems
