"""The daily pipeline (``banso run``) and its schedule inside ``banso serve``.

Steps for the as-of day D (company time): import the files waiting in ``BANSO_HOME/inbox/<kind>/``
(moved to ``done/`` or ``rejected/`` afterwards), compact the event store when more than
``BANSO_EVENTS_COMPACT_FILES`` small files could be merged away (``usage.compact``), score health
(unless nothing D's score reads changed since D was scored: ``health.unchanged_days``) for D and
the earlier days the health playbooks compare with when they are not scored yet, evaluate the
segments for D (``segments``: membership history, touch model and tier), enrol new customers in
onboarding and complete the milestones whose rule was met by D, run the playbooks for D, set every
account's lifecycle stage for D from the lifecycle rules, queue the campaigns due by D
(``campaigns``: each campaign's run of a day once) and, with ``BANSO_USAGE_REPORTS=true``, the
usage reports of the last month over on D when none is queued yet, score churn risk for D with the
kept churn model (skipped when none is kept: ``banso churn train``), send the outbox, recompute the
stored health validation report when it is more than a week old (``health.validation_report``),
then compute the dashboard's revenue report if the data under it changed, and last, when
``BANSO_BI_EXPORT_DIR`` is set, export the BI views that changed (``bi.service.export``). Each step
is idempotent, so running a day again does nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from banso.analytics.engines import resolve_engine
from banso.bi import service as bi
from banso.bi.views import VIEWS as BI_VIEWS
from banso.campaigns import service as campaigns
from banso.campaigns import usage_report
from banso.campaigns.settings import campaign_settings
from banso.config import get_settings
from banso.connectors import service as connectors
from banso.dates import check_day, last_complete_month, yesterday
from banso.db import get_engine, session_scope
from banso.errors import BansoError
from banso.feedback import service as feedback
from banso.health import service as health
from banso.health import snapshots, validation_report
from banso.i18n import _
from banso.ingest.importer import import_file
from banso.ingest.lock import ImportBusy
from banso.ingest.schemas import ImportKind
from banso.lifecycle import service as lifecycle
from banso.messaging import outbox
from banso.onboarding import service as onboarding
from banso.playbooks import service
from banso.playbooks.actions import ActionCounts
from banso.playbooks.triggers import missing_snapshot_days
from banso.prediction import scores as churn_scores
from banso.prediction import service as churn
from banso.progress import ProgressDisplay
from banso.revenue import cache as revenue_cache
from banso.segments import service as segments
from banso.segments.config import SegmentsError
from banso.usage import compact as event_compaction
from banso.voc import service as surveys
from banso.voc.config import SurveysError

INBOX_ORDER = ("team", "accounts", "contacts", "subscriptions", "deals", "invoices", "tickets",
               "surveys", "activities", "attendance", "events")  # fmt: skip
"""Import order: what later kinds refer to comes first."""


@dataclass
class PipelineSummary:
    as_of: date
    imported: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    scored_days: list[date] = field(default_factory=list)
    playbooks: dict[str, ActionCounts] = field(default_factory=dict)
    outbox: outbox.WorkerSummary | None = None
    onboarding: onboarding.OnboardingRun | None = None
    lifecycle: lifecycle.LifecycleRun | None = None
    reports_computed: bool = False
    """Whether the dashboard's revenue report was recomputed (its data had changed)."""
    bi_exported: list[bi.ViewExport] | None = None
    """The BI views exported (None when ``BANSO_BI_EXPORT_DIR`` is unset)."""
    validation_computed: bool = False
    """Whether the stored health validation report was recomputed (it was a week old)."""
    feedback_tickets: feedback.TicketImport | None = None
    """Feature-request tickets turned into asks on feature requests (``banso.feedback``)."""
    segments: segments.Evaluation | None = None
    """The day's segment evaluation (None when ``segments.yaml`` says ``enabled: false``)."""
    segment_problems: list[str] = field(default_factory=list)
    """``segments.yaml``'s problems when it is invalid (the step was skipped)."""
    usage_warnings: list[str] = field(default_factory=list)
    """Event files set aside as unreadable on days the scores and triggers read."""
    connections: list[str] = field(default_factory=list)
    """One line per connection synced (objects, records, failures), in the order synced."""
    connection_failures: int = 0
    written_back: int = 0
    campaigns: list[campaigns.RunResult] = field(default_factory=list)
    """The campaign runs queued for the day (none when none was due or all had run)."""
    usage_reports: usage_report.QueuedReports | None = None
    """The month's usage reports when this run queued them."""
    survey_reminders: int = 0
    """Survey reminders queued (``voc.service.send_reminders``)."""
    survey_problems: list[str] = field(default_factory=list)
    """``surveys.yaml``'s problems when it is invalid (no reminder was queued)."""
    churn_model: int | None = None
    """The kept churn model's version that scored the day (None: no model kept, step skipped)."""
    churn_scored: int = 0
    rescored: dict[date, int] = field(default_factory=dict)
    """Days scored before whose usage late events changed -> the accounts rescored on it."""
    health_unchanged: bool = False
    """Whether D's health was kept as scored: nothing it is computed from had changed."""
    compaction: event_compaction.Compaction | None = None
    """What compacting the event store did (None: too few small files to bother)."""


def run_pipeline(
    as_of: date | None = None,
    send: bool = True,
    shown: ProgressDisplay | None = None,
    engine: str | None = None,
) -> PipelineSummary:
    """Run every step for ``as_of`` (default: yesterday); each step commits on its own.
    ``shown`` reports each step as it starts and ends (``banso run``); default: nothing.
    ``engine``: the analytics engine (``--engine``; default ``BANSO_ANALYTICS_ENGINE``, else
    duckdb). With ``spark``, the usage measures of the health scores and the playbooks' event
    triggers read the event store on Spark (``analytics.engines.event_engine``)."""
    engine = resolve_engine(engine)
    day = check_day(as_of, "--as-of") if as_of is not None else yesterday()
    shown = shown or ProgressDisplay(quiet=True)
    summary = PipelineSummary(day)
    with shown.step(_("Importing the inbox")):
        _ingest_inbox(summary)
    if connectors.configured():
        # before scoring, so the day's scores see what the services know; a failing connection
        # is reported and neither stops the others nor the day's scoring
        with shown.step(_("Syncing connections")):
            summary.connection_failures = connectors.sync_all(
                lambda line: summary.connections.append(line)
            )
    threshold = get_settings().events_compact_files
    if threshold and event_compaction.mergeable_files() > threshold:
        # before scoring, which then opens one file per day instead of hundreds
        labels = {"days": _("Compacting event files")}
        summary.compaction = event_compaction.compact(report=shown.reporter(labels))
    with session_scope() as session, shown.step(_("Recording feature requests from tickets")):
        summary.feedback_tickets = feedback.import_tickets(session)
    with session_scope() as session:
        # the event files new since the last run: the days already scored whose usage they
        # change are rescored for the accounts they change only
        late = health.late_events(session, day)
        if late.stale:
            with shown.step(_("Rescoring days changed by late events"), len(late.stale)) as advance:
                health.rescore_accounts(session, late.stale, advance, late.fingerprints)
        summary.rescored = {d: len(a) for d, a in sorted(late.stale.items()) if a}
        needed = _days_to_score(session, day)
        summary.health_unchanged = day not in needed
        if needed:
            with shown.step(_("Scoring days"), len(needed)) as advance:
                health.score_days(session, needed, advance, engine=engine)
        summary.scored_days = needed
        health.record_seen_events(late.seen)
    try:
        rules = segments.rule_set()
    except SegmentsError as problems:
        # the accounts keep yesterday's segments; the other steps still run, the CLI says why
        summary.segment_problems = problems.problems
    else:
        if rules.enabled:
            # after scoring (rules may ask for the day's health band), before the playbooks
            # (their conditions read the segment, touch model and tier) and the onboarding
            # enrolment (a new customer gets its segment's programme)
            with session_scope() as session, shown.step(_("Evaluating segments")):
                summary.segments = segments.evaluate(session, day, rules=rules)
    with session_scope() as session, shown.step(_("Updating onboarding progress")):
        summary.onboarding = onboarding.evaluate(session, day)
    with session_scope() as session, shown.step(_("Running playbooks")):
        summary.playbooks = service.run_playbooks(session, day, engine=engine)
    with session_scope() as session, shown.step(_("Setting lifecycle stages")):
        summary.lifecycle = lifecycle.evaluate(session, day)
    if connectors.configured(write_back=True):
        with shown.step(_("Writing health back to connected CRMs")):
            summary.written_back, failures = connectors.write_back_all(
                lambda line: summary.connections.append(line)
            )
            summary.connection_failures += failures
    # after the segments and stages the audience is drawn from, before the outbox sends it
    with session_scope() as session, shown.step(_("Queuing campaigns")):
        summary.campaigns = campaigns.send_due(session, day)
    if campaign_settings().usage_reports:
        month = last_complete_month(day + timedelta(days=1))  # D itself may end the month
        with session_scope() as session, shown.step(_("Queuing usage reports")):
            if not usage_report.queued_before(session, month):
                summary.usage_reports = usage_report.queue(session, month, day=day)
    try:
        with session_scope() as session, shown.step(_("Queuing survey reminders")):
            summary.survey_reminders = surveys.send_reminders(session, day)
    except SurveysError as problems:
        summary.survey_problems = problems.problems
    with session_scope() as session, shown.step(_("Scoring churn risk")):
        kept = churn.latest_model(churn.DEFAULT_HORIZON_DAYS)
        if kept is not None:
            scores = churn.score(get_engine(), day, kept)
            summary.churn_scored = churn_scores.store_scores(
                session, scores, kept.meta["horizon_days"], kept.version
            )
            summary.churn_model = kept.version
    summary.usage_warnings = health.usage_warnings(needed or [day])
    if send:
        with shown.step(_("Sending the outbox")):
            summary.outbox = outbox.deliver()
    # slow, weekly, and read only by people: after the messages have gone
    with shown.step(_("Checking the health validation report")):
        refreshed = validation_report.refresh_if_stale(get_engine(), health.scorecards())
    summary.validation_computed = refreshed is not None
    with session_scope() as session, shown.step(_("Computing the dashboard's revenue figures")):
        summary.reports_computed = revenue_cache.warm(session)
    settings = get_settings()
    if settings.bi_export_dir is not None:
        with (
            session_scope() as session,
            shown.step(_("Exporting BI views"), len(BI_VIEWS)) as advance,
        ):
            summary.bi_exported = bi.export(
                session, settings.bi_export_dir, settings.bi_export_format, advance=advance
            )
    return summary


def _days_to_score(session: Session, day: date) -> list[date]:
    """D itself unless its snapshot was scored from the inputs there are now
    (``health.unchanged_days``: no write to the app tables it reads, no new event file, the
    same scorecards), the look-back days the playbooks need that have no snapshot yet, and days
    up to D whose snapshot was quarantined."""
    missing: set[date] = {d for d in snapshots.incomplete_days() if d <= day}
    for playbook in service.selected(None):
        missing |= set(missing_snapshot_days(playbook, [day]))
    have = set(snapshots.scored_days())
    needed = {d for d in missing if d not in have}
    if not health.unchanged_days(session, [day]):
        needed.add(day)
    return sorted(needed)


def inbox_dir() -> Path:
    return get_settings().home / "inbox"


def _ingest_inbox(summary: PipelineSummary) -> None:
    base = inbox_dir()
    for kind in INBOX_ORDER:
        folder = base / kind
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            try:
                with session_scope() as session:
                    import_file(session, ImportKind(kind).value, path)
            except ImportBusy:
                return  # someone is importing by hand: the files wait for the next run
            except BansoError:
                _move(path, folder / "rejected")
                summary.rejected.append(f"{kind}/{path.name}")
                continue
            _move(path, folder / "done")
            summary.imported.append(f"{kind}/{path.name}")


def _move(path: Path, folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    path.replace(folder / path.name)


def start_scheduler(hour: int = 6, minute: int = 0):  # type: ignore[no-untyped-def]
    """Start a background APScheduler that runs the pipeline every day at ``hour:minute`` in
    the company time zone (for ``banso serve``); returns the scheduler (call ``shutdown()``).

    One run at a time (``max_instances=1``); a run missed while the server was down is made up
    within an hour (``misfire_grace_time``)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

    zone = get_settings().tz
    scheduler = BackgroundScheduler(timezone=zone)
    scheduler.add_job(
        run_pipeline,
        CronTrigger(hour=hour, minute=minute, timezone=zone),
        id="banso-daily-run",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
        replace_existing=True,
    )
    scheduler.start()
    return scheduler
