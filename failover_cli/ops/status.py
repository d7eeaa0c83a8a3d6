"""Gather `failover status`: every read of every region at once, then one frozen model.

All calls start on their own (daemon) threads as soon as what they need is known: the
independent reads (tables, functions, APIs, health checks, alarms, topic, zone)
start together, and the few that depend on an answer (checker observations
after the check list, probes after the function's secret and the API id, the
DNS answer after the zone) start the moment it arrives. Two regions cost about
three sequential round trips, however many calls that is.

Each region gets a wall deadline (`--timeout`, 10 s by default): a read not back by
then, or failed as an outage (no connection, time-outs, 5xx only), leaves its fact
None and marks the region its call went to as unreachable; the other regions, the
probes and the DNS answer are still reported. Route 53, CloudWatch and SNS answer
from us-east-1, so their facts go missing only when us-east-1 is out.

The health-checker secret is read from the functions' environment to probe
`/health` and is never part of the result: URLs are masked and any text from
the network is scrubbed of it.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import Future
from dataclasses import replace
from typing import Any, TypeVar

from failover_cli.aws.errors import error_code
from failover_cli.aws.tags import NOT_OURS, is_owned, not_ours
from failover_cli.config.schema import STACK_TAG, Config
from failover_cli.engine.context import Context
from failover_cli.engine.secret import NEXT_SECRET_VARIABLE, SECRET_VARIABLE, mask, read_function
from failover_cli.net.authoritative import AuthoritativeDns
from failover_cli.net.http import HttpAnswer, HttpClient
from failover_cli.ops.status_model import (
    MISSING,
    UNKNOWN,
    AlarmView,
    ApiView,
    CheckerReport,
    DnsView,
    FunctionView,
    HealthCheckView,
    ProbeView,
    RegionStatus,
    ServingView,
    StackStatus,
    Subscription,
    SwitchView,
    TableView,
    missing_check,
    summarise_check,
)
from failover_cli.ops.status_reads import UNREAD, DeadlineReads, Unread, answered
from failover_cli.resources.api import find_api
from failover_cli.resources.subscription import email_subscriptions
from failover_cli.resources.topic import ALARM_REGION, read_topic
from failover_cli.services import live_alias
from failover_cli.services.check_status import try_read_status
from failover_cli.services.dynamodb_tables import TableFacts, read_table
from failover_cli.services.health_check_metrics import check_verdicts
from failover_cli.services.health_check_override import is_overridden
from failover_cli.services.health_checks import ROUTE53_REGION, SECRET_PARAMETER, find_health_check
from failover_cli.services.route53_zone import find_zone
from failover_cli.services.switch_replicas import read_replica

T = TypeVar("T")

REGION_HEADER = "X-Failover-Region"
PROBE_TIMEOUT = 5.0  # seconds; API Gateway's own limit is 29 s, a health check's 4 s
DEFAULT_TIMEOUT = 10.0  # seconds a region's AWS reads get before it is called unreachable
NAME_SERVER_TIMEOUT = 1.0  # seconds per name server and attempt, once Route 53's API is out
_UNSUPPORTED = {"404", "NotImplemented", "NotImplementedException", "InvalidAction"}
# Throttling is retried for this share of the time left, keeping the rest for the last
# call (its own attempts, and the command's pacing of the other region's retries).
_THROTTLE_SHARE = 0.6
THROTTLED_NOTE = "throttled"
_GONE = {"NoSuchHealthCheck", "ResourceNotFoundException", "NotFound", "NotFoundException"}


def api_url(api_id: str, region: str, stage: str) -> str:
    return f"https://{api_id}.execute-api.{region}.amazonaws.com/{stage}"


def health_url(base: str, secret: str, *, deep: bool) -> str:
    return f"{base}/health?{SECRET_PARAMETER}={secret}" + ("&deep=true" if deep else "")


def serving_url(config: Config, secret: str) -> str:
    domain = config.domain
    assert domain is not None
    prefix = f"/{domain.base_path}" if domain.base_path else ""
    return f"https://{domain.name}{prefix}/hello?{SECRET_PARAMETER}={secret}"


def gather(
    ctx: Context, http: HttpClient | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> StackStatus:
    """One fresh look at the whole stack (safe to call again: nothing is remembered).

    Each AWS read gets until `timeout` seconds after the start; a read not answered
    by then (or failed as an outage) leaves its fact None and marks the region its
    call went to as unreachable. Probes get PROBE_TIMEOUT more.
    """
    ctx.forget_all()  # `--watch` reuses the Context: every refresh reads afresh
    return _Gather(ctx, http or HttpClient(), timeout).run()


class _Gather(DeadlineReads):
    def __init__(self, ctx: Context, http: HttpClient, timeout: float) -> None:
        super().__init__(timeout)
        self.ctx = ctx
        self.config = ctx.config
        self.http = http
        self.secrets: set[str] = set()  # every secret seen, to scrub from any text shown
        self.unread: list[str] = []  # stack-wide facts not read

    def run(self) -> StackStatus:
        config, regions = self.config, self.config.regions
        checks = self.submit(
            lambda: {r: find_health_check(self.ctx, r) for r in regions},
            region=ROUTE53_REGION,
            service="route53",
        )
        alarms = self.submit(self._alarm_states, region=ALARM_REGION, service="cloudwatch")
        topic = self.submit(self._topic, region=ALARM_REGION, service="sns")
        tables = {
            r: self.submit(read_table, self.ctx, r, config.table.name, region=r, service="dynamodb")
            for r in regions
        }
        functions = {r: self.submit(self._function, r, region=r, service="lambda") for r in regions}
        apis = {r: self.submit(self._api, r, region=r, service="apigateway") for r in regions}
        observed = {
            r: self.submit(self._check_status, checks, r, region=ROUTE53_REGION, service="route53")
            for r in regions
        }
        probes = {
            r: [
                self.submit(self._probe, r, functions, apis[r], deep, region=r)
                for deep in (False, True)
            ]
            for r in regions
        }
        held = {
            q: self.submit(read_replica, self.ctx, q, region=q, service="dynamodb") for q in regions
        }
        verdicts = self.submit(
            self._switch_verdicts, checks, region=ALARM_REGION, service="cloudwatch"
        )
        dns = self.submit(self._dns, region=ROUTE53_REGION, service="route53")
        serving = self.submit(self._serving, functions) if config.domain else None

        # Every answer first (one shared deadline), then the views: an outage noted by a
        # later read still marks a region whose own reads came back.
        facts = {
            r: (
                self.get(tables[r], r),
                self.get(functions[r], r),
                self.get(apis[r], r),
                self.get(observed[r], ROUTE53_REGION),
                [self.get(f, r, grace=PROBE_TIMEOUT) for f in probes[r]],
            )
            for r in regions
        }
        states = self.get(alarms, ALARM_REGION)
        switch_held = {q: self.get(held[q], q) for q in regions}
        switch_verdicts = self.get(verdicts, ALARM_REGION)
        topic_read = self.get(topic, ALARM_REGION)
        dns_view = self._dns_view(self.get(dns, ROUTE53_REGION)) if config.domain else None
        served = self.get(serving, ROUTE53_REGION, grace=PROBE_TIMEOUT) if serving else None
        primary = facts[config.primary_region][0]
        primary_ours = isinstance(primary, TableFacts) and is_owned(primary.tags, config.stack)
        replicas = primary.replicas if isinstance(primary, TableFacts) and primary_ours else {}
        views = []
        for r in regions:
            table, function, api, check, probed = facts[r]
            replica = None
            if r != config.primary_region:
                replica = UNKNOWN if primary is UNREAD else replicas.get(r, MISSING)
            views.append(
                RegionStatus(
                    region=r,
                    primary=r == config.primary_region,
                    table=None
                    if table is UNREAD
                    else self._table_view(r, table, replica, replicas),
                    function=None if function is UNREAD else function[0],
                    api=None
                    if api is UNREAD
                    else (ApiView(api, api_url(api, r, config.api.stage)) if api else ApiView()),
                    health_check=None if check is UNREAD else self._scrubbed(check),
                    alarm=None
                    if states is UNREAD
                    else AlarmView(config.alarm_name(r), states.get(r, MISSING)),
                    probes=tuple(p for p in probed if isinstance(p, ProbeView)),
                    reachable=r not in self.unreachable,
                    error=self.unreachable.get(r),
                    switch=self._switch_view(r, switch_held, switch_verdicts),
                )
            )
        if topic_read is UNREAD:
            self.unread.append("alarm topic")
        return StackStatus(
            stack=config.stack,
            regions=tuple(views),
            dns=dns_view,
            serving=served if isinstance(served, ServingView) else None,
            topic_arn=None if topic_read is UNREAD else topic_read[0],
            subscriptions=() if topic_read is UNREAD else topic_read[1],
            unread=tuple(self.unread),
            timeout=self.timeout,
        )

    def _switch_view(
        self,
        region: str,
        held: dict[str, dict[str, dict[str, str]] | Unread | None],
        verdicts: dict[str, str] | Unread,
    ) -> SwitchView:
        seen_by = {
            q: None if isinstance(h, Unread) or h is None else region in h for q, h in held.items()
        }
        entry = next(
            (h[region] for h in held.values() if isinstance(h, dict) and region in h), None
        )
        readers: dict[str, str] = {}
        calculated = None
        if not isinstance(verdicts, Unread):
            for reader in self.config.regions:
                if reader != region:
                    readers[reader] = verdicts.get(
                        _reader_key(self.config, region, reader), MISSING
                    )
            calculated = verdicts.get(_calculated_key(self.config, region), MISSING)
        return SwitchView(region, seen_by, entry, readers, calculated)

    def _switch_verdicts(self, checks: Future[Any]) -> dict[str, str]:
        """Route 53's verdict on every switch reader and calculated check, by check key
        (from CloudWatch: one call, no Route 53 quota, calculated checks included)."""
        checks.result()  # the run's one listing of health checks, shared from here on
        config = self.config
        keys = [
            _reader_key(config, r, q) for r in config.regions for q in config.regions if q != r
        ] + [_calculated_key(config, r) for r in config.regions]
        ids = {key: find_health_check(self.ctx, key) for key in keys}
        found = check_verdicts(self.ctx, [str(c["Id"]) for c in ids.values() if c])
        return {key: found[str(c["Id"])] for key, c in ids.items() if c}

    def _dns_view(self, answer: DnsView | Unread | None) -> DnsView | None:
        domain = self.config.domain
        if domain is None or not isinstance(answer, Unread):
            return None if isinstance(answer, Unread) else answer
        why = self.unreachable.get(ROUTE53_REGION, f"no answer in {self.timeout:g}s")
        # Route 53's API lives in us-east-1; its name servers are the global data plane.
        found = AuthoritativeDns(timeout=NAME_SERVER_TIMEOUT).ask(
            domain.hosted_zone, domain.name, "A"
        )
        if found.ok:
            return DnsView(
                domain.name,
                None,
                "A",
                found.values,
                found.rcode,
                source=f"name server {found.server} (Route 53's API did not answer)",
            )
        self.unread.append("dns")
        return DnsView(
            domain.name,
            None,
            error=f"not read: Route 53 did not answer ({why}), and {found.error}",
        )

    def _table_view(
        self, region: str, table: TableFacts | None, replica: str | None, replicas: dict[str, str]
    ) -> TableView:
        name = self.config.table.name
        if table is None:
            return TableView(name, MISSING, replica)
        why = not_ours(table.tags, self.config.stack)
        # Tags do not replicate: a replica tagged by no stack that the stack's own primary
        # lists (a run interrupted before tagging it) is still the stack's.
        untagged_replica = STACK_TAG not in table.tags and region in replicas
        if why is None or untagged_replica:
            return TableView(name, table.status, replica)
        return TableView(name, NOT_OURS, None, not_ours=why)

    # -- AWS reads -------------------------------------------------------------

    def _function(self, region: str) -> tuple[FunctionView, str | None]:
        """The function's view and its health-checker secret (kept out of the view).

        A function of the stack's name that another stack (or nobody) tagged is shown as
        not this stack's: its state, FORCE_FAIL and secret are not read as the stack's.
        """
        name = self.config.function.name
        answer = read_function(self.ctx, region)
        if answer is None:
            return FunctionView(name, MISSING), None
        why = not_ours(answer.get("Tags") or {}, self.config.stack)
        if why is not None:
            return FunctionView(name, NOT_OURS, not_ours=why), None
        cfg = answer["Configuration"]
        env: dict[str, str] = (cfg.get("Environment") or {}).get("Variables") or {}
        secret = env.get(SECRET_VARIABLE)
        self.secrets.update(s for s in (secret, env.get(NEXT_SECRET_VARIABLE)) if s)
        live = self._live(region)
        view = FunctionView(
            name,
            str(cfg.get("State") or "Active"),  # older answers carry no State: it is serving
            cfg.get("LastUpdateStatus"),
            env.get("FORCE_FAIL", "false").strip().lower() == "true",
            live_version=live.get("Version"),
            live_code=live.get("CodeSha256"),
            live_release=live_alias.release_id(live) if live else None,
            live_since=live.get("LastModified"),
        )
        return view, secret

    def _live(self, region: str) -> dict[str, Any]:
        """The configuration of the version `live` serves ({} for a stack without it)."""
        from failover_cli.services.live_alias import read_alias

        alias = read_alias(self.ctx, region)
        if alias is None:
            return {}
        lam = self.ctx.client("lambda", region)
        found: dict[str, Any] = lam.get_function_configuration(
            FunctionName=self.config.function.name, Qualifier=alias["FunctionVersion"]
        )
        return found

    def _api(self, region: str) -> str | None:
        api = find_api(self.ctx, region)
        if api is None or not is_owned(api.get("tags") or {}, self.config.stack):
            return None  # a look-alike that is not the stack's is not the stack's API
        return str(api["id"])

    def _check_status(
        self, checks: Future[dict[str, dict[str, Any] | None]], region: str
    ) -> HealthCheckView:
        check = checks.result()[region]
        if check is None:
            return missing_check()
        cfg = check.get("HealthCheckConfig") or {}
        # Route 53's quota is the account's: a command just before this one (`up`) may
        # have spent it. Retried within the deadline, then said rather than failed.
        budget = (self.deadline - time.monotonic()) * _THROTTLE_SHARE
        try:
            answer = try_read_status(self.ctx, check["Id"], budget=budget)
        except Exception as error:
            if error_code(error) in _GONE:  # deleted since it was listed
                return missing_check()
            raise
        if answer is None:
            return HealthCheckView(
                check["Id"], UNKNOWN, override=is_overridden(cfg.get("SearchString")),
                note=THROTTLED_NOTE,
            )  # fmt: skip
        reports = [
            CheckerReport(
                o.get("Region", ""),
                (o.get("StatusReport") or {}).get("Status", ""),
                (o.get("StatusReport") or {}).get("CheckedTime"),
            )
            for o in answer.get("HealthCheckObservations", [])
        ]
        return summarise_check(
            check["Id"],
            reports,
            disabled=bool(cfg.get("Disabled")),
            inverted=bool(cfg.get("Inverted")),
            override=is_overridden(cfg.get("SearchString")),
        )

    def _alarm_states(self) -> dict[str, str]:
        """{region: StateValue} of the stack's alarms: one DescribeAlarms for all regions."""
        names = {self.config.alarm_name(r): r for r in self.config.regions}
        cw = self.ctx.client("cloudwatch", ALARM_REGION)
        found = cw.describe_alarms(AlarmNames=list(names), AlarmTypes=["MetricAlarm"])
        return {
            names[a["AlarmName"]]: str(a.get("StateValue", ""))
            for a in found.get("MetricAlarms", [])
            if a.get("AlarmName") in names
        }

    def _topic(self) -> tuple[str | None, tuple[Subscription, ...]]:
        topic = read_topic(self.ctx, self.config.topic_name)
        if topic is None or not is_owned(topic[1], self.config.stack):
            return None, ()
        try:
            subs = email_subscriptions(self.ctx, topic[0])
        except Exception as error:
            if error_code(error) in _GONE:  # deleted between the two calls
                return None, ()
            raise
        return topic[0], tuple(Subscription(s.endpoint, s.pending) for s in subs)

    def _dns(self) -> DnsView | None:
        domain = self.config.domain
        if domain is None:
            return None
        zone = find_zone(self.ctx)
        if zone is None:
            return DnsView(domain.name, None)
        r53 = self.ctx.client("route53", ROUTE53_REGION)
        try:
            answer = r53.test_dns_answer(
                HostedZoneId=zone.id, RecordName=domain.name, RecordType="A"
            )
        except Exception as error:
            # An endpoint without TestDNSAnswer (an emulator, a proxy) leaves a gap in
            # the view, not a failed status; real errors (AccessDenied...) still raise.
            if error_code(error) not in _UNSUPPORTED:
                raise
            return DnsView(domain.name, zone.id, error="TestDNSAnswer unavailable here")
        return DnsView(
            domain.name,
            zone.id,
            "A",
            tuple(str(d) for d in answer.get("RecordData", [])),
            answer.get("ResponseCode"),
        )

    # -- live HTTP -------------------------------------------------------------

    def _probe(
        self,
        region: str,
        functions: dict[str, Future[tuple[FunctionView, str | None]]],
        api: Future[str | None],
        deep: bool,
    ) -> ProbeView | None:
        """GET the region's /health through its API. The secret may come from any region's
        function (they share it), so a region whose Lambda API is down is still probed."""
        api_id = api.result()
        own = functions[region]
        if api_id is None or (answered(own) and not own.result()[0].exists):
            return None  # nothing to probe: the missing piece is reported instead
        secret = self._any_secret(functions, first=region)
        base = api_url(api_id, region, self.config.api.stage)
        url = health_url(base, secret, deep=deep)
        answer = self.http.get(url, timeout=PROBE_TIMEOUT)
        return ProbeView(
            "deep" if deep else "shallow",
            health_url(base, mask(secret), deep=deep),
            answer.status,
            round(answer.seconds * 1000, 1),
            self._message(answer),
            answer.header(REGION_HEADER),
        )

    def _serving(
        self, functions: dict[str, Future[tuple[FunctionView, str | None]]]
    ) -> ServingView:
        # The primary's secret first: during a rotation every function accepts it.
        secret = self._any_secret(functions, first=self.config.primary_region)
        answer = self.http.get(serving_url(self.config, secret), timeout=PROBE_TIMEOUT)
        region = answer.header(REGION_HEADER) or _body_field(answer, "region")
        return ServingView(
            serving_url(self.config, mask(secret)),
            answer.status,
            round(answer.seconds * 1000, 1),
            region if answer.ok else None,  # an error page names no serving region
            self._message(answer),
        )

    def _message(self, answer: HttpAnswer) -> str | None:
        text = (
            answer.error
            or _body_field(answer, "message")
            or _body_field(answer, "Message")  # API Gateway's resource-policy refusal
            or answer.body[:200]
            or None
        )
        return self._scrub(text) if text else None

    def _scrubbed(self, check: HealthCheckView) -> HealthCheckView:
        # Called once every function (hence every secret) is known.
        if check.last_failure is None:
            return check
        return replace(check, last_failure=self._scrub(check.last_failure))

    def _scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, mask(secret))
        return text


def _reader_key(config: Config, region: str, reader: str) -> str:
    return config.reader_check_name(region, reader).removeprefix(f"{config.stack}-")


def _calculated_key(config: Config, region: str) -> str:
    return config.region_check_name(region).removeprefix(f"{config.stack}-")


def _body_field(answer: HttpAnswer, name: str) -> str | None:
    try:
        body = json.loads(answer.body)
    except ValueError:
        return None
    value = body.get(name) if isinstance(body, dict) else None
    return str(value) if value is not None else None
