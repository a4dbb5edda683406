"""Findings an account manager should look at first, computed in SQL over one source.

An overview is a list of steps, each reading one log and returning findings;
the window runs them one by one in the background (with progress and Cancel),
the CLI all at once. Each step's queries are bounded (grouped passes, window
functions over failed logins only, index lookups per burst) and take the
CancelToken.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from auditviewer.data.cancel import CancelToken
from auditviewer.data.errors import AuditViewerError, QueryCancelled
from auditviewer.data.insights import api, delivery, logins
from auditviewer.data.insights.base import Context
from auditviewer.data.insights.model import (
    Chart,
    ChartSeries,
    Finding,
    Item,
    Overview,
    Params,
    RowLink,
)
from auditviewer.data.source import Source

log = logging.getLogger(__name__)

__all__ = [
    "STEPS",
    "Chart",
    "ChartSeries",
    "Finding",
    "Item",
    "Overview",
    "Params",
    "RowLink",
    "Step",
    "compute_overview",
    "run_step",
    "steps_for",
]


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    log: str
    #: Columns the step reads, beyond those every log has.
    needs: tuple[str, ...]
    run: Callable[[Context], list[Finding]]


STEPS: tuple[Step, ...] = (
    Step("login_bursts", "Failed-login bursts", "logins", ("email", "remote_ip", "login"), logins.login_bursts),
    Step("new_countries", "Logins from new countries", "logins", ("email", "login", "country"), logins.new_countries),
    Step("off_hours", "Logins outside business hours", "logins", ("email", "login"), logins.off_hours),
    Step(
        "odd_addresses",
        "Logins from private or reserved addresses",
        "logins",
        ("email", "remote_ip", "login"),
        logins.odd_addresses,
    ),
    Step("api_errors", "API error rate", "api", ("status",), api.error_rate),
    Step(
        "api_error_sources",
        "API errors by endpoint and caller",
        "api",
        ("url", "method", "status", "remote_ip"),
        api.error_sources,
    ),
    Step("api_writes", "PUT and DELETE volume", "api", ("method", "remote_ip"), api.writes),
    Step(
        "sms_delivery", "SMS delivery", "sms", ("gateway_name", "campaign_description", "error"), delivery.sms_delivery
    ),
    Step("panel_activity", "Panel activity", "panel", ("email", "remote_ip", "method"), delivery.panel_activity),
)


def steps_for(source: Source) -> tuple[list[Step], list[str]]:
    """The steps this source can run, and why the others cannot."""
    runnable, skipped = [], []
    for step in STEPS:
        table = source.logs.get(step.log)
        if table is None:
            continue  # no such log: nothing to say about it
        missing = [c for c in step.needs if not table.has(c)]
        if missing:
            skipped.append(f"{step.title}: {table.log_type.label} lacks {', '.join(missing)}")
        else:
            runnable.append(step)
    return runnable, skipped


def run_step(source: Source, step: Step, params: Params, token: CancelToken | None = None) -> list[Finding]:
    token = token or CancelToken()
    token.raise_if_cancelled()
    return step.run(Context(source.log(step.log), params, token))


def compute_overview(
    source: Source,
    params: Params | None = None,
    token: CancelToken | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Overview:
    """Run every step the source allows; a step that fails is reported, not fatal."""
    params = params or Params()
    token = token or CancelToken()
    steps, problems = steps_for(source)
    findings: list[Finding] = []
    for done, step in enumerate(steps):
        if progress is not None:
            progress(done, len(steps), step.title)
        try:
            findings.extend(run_step(source, step, params, token))
        except QueryCancelled:
            raise
        except AuditViewerError as exc:
            log.warning("overview step %s failed: %s", step.key, exc)
            problems.append(f"{step.title}: {exc}")
    if progress is not None:
        progress(len(steps), len(steps), "done")
    return Overview(source.display_name, params, tuple(findings), tuple(problems))
