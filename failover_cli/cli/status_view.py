"""Human output of `failover status`: one rich table per region, then alarms, DNS and serving.

A table per region (label | value) rather than a column per region: API URLs
and failure reasons are long, and two labelled rows stay readable at 80
columns and in CI logs. Green is healthy, red is what makes a region unhealthy,
yellow is worth a look but does not count against health.
"""

from __future__ import annotations

import re
from datetime import datetime

from rich import box
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from failover_cli.ops.status_model import (
    ACTIVE_STATE,
    DNS_API_SOURCE,
    HEALTHY,
    MISSING,
    UNHEALTHY,
    ProbeView,
    RegionStatus,
    StackStatus,
    SwitchView,
)

_ALARM_STYLE = {"OK": "green", "ALARM": "red", "INSUFFICIENT_DATA": "yellow", MISSING: "red"}
_CHECK_STYLE = {HEALTHY: "green", UNHEALTHY: "red", MISSING: "yellow"}


def render_status(status: StackStatus, *, checked_at: datetime | None = None) -> RenderableType:
    """Everything `status` shows, as one renderable (printed once, or refreshed by --watch)."""
    when = f" [dim](checked {checked_at:%H:%M:%S})[/dim]" if checked_at else ""
    if not status.deployed:
        regions = ", ".join(r.region for r in status.regions)
        foreign = "".join(f"\n  {escape(line)}" for line in status.not_ours)
        if foreign:  # the names are taken: `up` would refuse, so say so before it does
            foreign = (
                f"\nFound under its names but not this stack's (left alone):{foreign}\n"
                "Pick other names in the config (table.name, function.name) before `failover up`."
            )
        return Text.from_markup(
            f"Stack [bold]{status.stack}[/bold] is [red]not deployed[/red]: no table, function, "
            f"API, health check, alarm or topic of it exists in {regions}.{foreign}\n"
            f"Run `failover up` to create it.{when}"
        )
    unhealthy = ", ".join(r.region for r in status.regions if not r.healthy)
    headline = (
        "[green]✓ healthy[/green]" if status.healthy else f"[red]✗ degraded[/red] ({unhealthy})"
    )
    parts: list[RenderableType] = [
        Text.from_markup(f"Stack [bold]{status.stack}[/bold]: {headline}{when}")
    ]
    parts.extend(_region_table(r, status.timeout) for r in status.regions)
    live = [(r.region, fn) for r in status.regions if (fn := r.function) and fn.live_code]
    releases = {(fn.live_code, fn.live_release) for _, fn in live}
    if len(releases) > 1:  # a release stopped part way (or a rollback of one region)
        serving = ", ".join(
            f"{region} version {fn.live_version} (code {(fn.live_code or '')[:12]}"
            + (f", release {fn.live_release}" if fn.live_release else "")
            + ")"
            for region, fn in live
        )
        parts.append(
            Text.from_markup(f"[yellow]Regions serve different releases:[/yellow] {serving}")
        )
    parts.append(_stack_table(status))
    return Group(*parts)


NOT_READ = "[yellow]not read[/yellow]"


def _region_table(region: RegionStatus, timeout: float | None = None) -> Table:
    title = f"[bold]{region.region}[/bold]" + (" (primary)" if region.primary else "")
    verdict = (
        "[green]✓ healthy[/green]"
        if region.healthy
        else "[red]✗ unhealthy[/red]: " + "; ".join(region.problems)
    )
    table = _table(f"{title} — {verdict}")
    if not region.reachable:
        waited = f"no answer in {timeout:g} s" if timeout else "no answer"
        table.add_row("Reachable", f"[red]unreachable ({waited})[/red]")
        if region.error:
            table.add_row("", Text(region.error, style="dim"))
    t = region.table
    if t is None:
        table.add_row("Table", NOT_READ)
    elif t.not_ours:
        table.add_row("Table", Text(f"{t.name}  {t.not_ours}", style="yellow"))
    else:
        table_text = _coloured(t.status, t.status == "ACTIVE")
        if t.replica_status is not None:
            replica_ok = t.replica_status == "ACTIVE"
            table_text += " · replica " + _coloured(t.replica_status, replica_ok)
        table.add_row("Table", f"{t.name}  {table_text}")

    fn = region.function
    if fn is None:
        table.add_row("Function", NOT_READ)
    elif fn.not_ours:
        table.add_row("Function", Text(f"{fn.name}  {fn.not_ours}", style="red"))
    else:
        fn_text = f"{fn.name}  " + _coloured(fn.state, fn.state == ACTIVE_STATE, bad="red")
        if fn.last_update_status:
            fn_text += f" [dim](last update {fn.last_update_status})[/dim]"
        table.add_row("Function", fn_text)
        if fn.live_version:
            table.add_row(
                "Live",
                f"version {fn.live_version}  code {(fn.live_code or '')[:12]}  "
                f"since {_short_time(fn.live_since)}",
            )
        if fn.exists:
            table.add_row("FORCE_FAIL", "[red]on[/red]" if fn.force_fail else "[green]off[/green]")

    api = region.api
    if api is None:
        table.add_row("API", NOT_READ)
    else:
        # The URL holds the id: both would fold the row at 80 columns.
        table.add_row("API", (api.url or api.id) if api.id else "[red]missing[/red]")

    check = region.health_check
    if check is None:
        table.add_row("Health check", NOT_READ + " [dim](Route 53 did not answer)[/dim]")
    else:
        style = _CHECK_STYLE.get(check.status, "yellow")
        shown = f"{check.status} ({check.note})" if check.note else check.status
        check_text = f"[{style}]{shown}[/{style}]"
        if check.id:
            check_text += (
                f" {check.healthy_checkers}/{check.checkers} checkers [dim]({check.id})[/dim]"
            )
        table.add_row("Health check", check_text)
        if check.override:
            table.add_row(
                "Override",
                "[red]on[/red]: force-fail's search string keeps the check failing "
                f"[dim](undo: failover force-fail --region {region.region} --restore)[/dim]",
            )
        if check.last_failure:
            table.add_row("Last failure", Text(check.last_failure, style="yellow"))

    if region.switch is not None:
        _switch_rows(table, region.switch)

    alarm = region.alarm
    if alarm is None:
        table.add_row("Alarm", NOT_READ + " [dim](CloudWatch did not answer)[/dim]")
    else:
        style = _ALARM_STYLE.get(alarm.state, "yellow")
        table.add_row("Alarm", f"{alarm.name}  [{style}]{alarm.state}[/{style}]")
    base = api.url if api is not None and api.url else ""
    for probe in region.probes:
        table.add_row(f"Probe {probe.kind}", _probe_text(probe, base))
    return table


def _switch_rows(table: Table, switch: SwitchView) -> None:
    """Forced out or not as the replicas hold it, and Route 53's checks that read it."""
    forced = switch.forced_out
    if forced is None:
        table.add_row("Switch", NOT_READ + " [dim](no other region's table answered)[/dim]")
    elif forced:
        entry = switch.entry or {}
        since = f" since {entry['at']}" if entry.get("at") else ""
        by = f" by {escape(entry['by'])}" if entry.get("by") else ""
        why = f": {escape(entry['why'])}" if entry.get("why") else ""
        table.add_row("Switch", f"[red]forced out[/red]{since}{by}{why}")
    else:
        table.add_row("Switch", "[green]in[/green]")
    if switch.disagreeing:
        says = "forced out" if not forced else "in"
        table.add_row(
            "",
            f"[yellow]{', '.join(switch.disagreeing)} says {says}[/yellow] "
            "[dim](replication lag or an impaired region)[/dim]",
        )
    unread = [q for q, seen in switch.seen_by.items() if seen is None]
    if unread and forced is not None:
        table.add_row("", f"[dim]not read in {', '.join(unread)}[/dim]")
    if switch.calculated is None:
        table.add_row("Switch checks", NOT_READ + " [dim](CloudWatch did not answer)[/dim]")
    else:
        readers = ", ".join(f"{q} {_verdict(v)}" for q, v in switch.readers.items())
        table.add_row(
            "Switch checks", f"{_verdict(switch.calculated)} [dim]· readers:[/dim] {readers}"
        )


def _verdict(value: str) -> str:
    style = _CHECK_STYLE.get(value, "yellow")
    return f"[{style}]{value}[/{style}]"


def _stack_table(status: StackStatus) -> Table:
    table = _table("[bold]Stack-wide[/bold]")
    if "alarm topic" in status.unread:
        table.add_row("Alarm topic", NOT_READ + " [dim](SNS did not answer)[/dim]")
    elif status.topic_arn is None:
        table.add_row("Alarm topic", "[yellow]missing[/yellow]")
    elif not status.subscriptions:
        table.add_row("Alarm e-mail", "[dim]no e-mail subscription[/dim]")
    for sub in status.subscriptions:
        state = (
            "[yellow]pending: click the link in the e-mail[/yellow]"
            if sub.pending
            else "[green]confirmed[/green]"
        )
        table.add_row("Alarm e-mail", f"{sub.endpoint}  {state}")

    if status.dns is None:
        table.add_row("Domain", "[dim]none configured: no DNS answer or serving region[/dim]")
    elif status.dns.error:
        table.add_row("DNS answer", f"{status.dns.name}: [yellow]{status.dns.error}[/yellow]")
    elif status.dns.zone_id is None and status.dns.source == DNS_API_SOURCE:
        table.add_row("DNS answer", f"{status.dns.name}: [red]hosted zone missing[/red]")
    else:
        dns = status.dns
        data = ", ".join(_region_for_api_host(d) for d in dns.record_data) or "(no records)"
        # The zone id is in --json; here it would fold the row at 80 columns.
        table.add_row(
            "DNS answer",
            f"{dns.name} {dns.record_type} → {data} [dim]({dns.response_code or '?'})[/dim]",
        )
        if dns.source != DNS_API_SOURCE:
            table.add_row("", f"[dim]from {escape(dns.source)}[/dim]")
    if status.serving is not None:
        s = status.serving
        serving = f"[bold green]{s.region}[/bold green]" if s.region else "[red]nobody[/red]"
        detail = f"HTTP {s.status}" if s.status else (s.message or "no answer")
        table.add_row("Serving region", f"{serving} [dim]({detail}, {s.latency_ms:.0f} ms)[/dim]")
        table.add_row("", Text(s.url, style="dim"))
    return table


_API_HOST = re.compile(r"^[a-z0-9-]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com\.?$")


def _region_for_api_host(value: str) -> str:
    """An API Gateway domain target read as its region ("us-east-1's API"): the host name
    says no more than that and would fold the row at 80 columns."""
    found = _API_HOST.match(value)
    return f"{found.group(1)}'s API" if found else value


def _short_time(value: str | None) -> str:
    """Lambda's LastModified (2026-12-07T00:03:36.033387000Z or ...+0000) to the second."""
    if not value:
        return "?"
    return value.replace("T", " ")[:19] + " UTC" if len(value) >= 19 else value


def _probe_text(probe: ProbeView, api_url: str = "") -> Text:
    status = f"HTTP {probe.status}" if probe.status else "no answer"
    text = Text(f"{status}  {probe.latency_ms:.0f} ms", style="green" if probe.ok else "red")
    if probe.refused_by_allow_list:
        text = Text(f"{status}  refused by access.allow: this machine is not listed", "yellow")
    elif probe.message:
        text.append(f"  {probe.message}")
    # Under the API row the probe's path is enough (the whole URL folds at 80 columns).
    shown = probe.url
    if api_url and shown.startswith(api_url):
        shown = "…" + shown[len(api_url) :]
    text.append(f"\n{shown}", style="dim")
    return text


def _table(title: str) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        show_header=False,
        box=box.SIMPLE,
        padding=(0, 1),
    )
    table.add_column("what", style="dim", no_wrap=True)
    table.add_column("value", overflow="fold")
    return table


def _coloured(value: str, good: bool, *, bad: str = "yellow") -> str:
    if value == MISSING:
        return "[red]missing[/red]"
    return f"[green]{value}[/green]" if good else f"[{bad}]{value}[/{bad}]"
