"""Build each config section's frozen dataclass from its YAML entries, checking every field.

A section builder returns None when any of its fields had a problem (the
problems themselves are collected by the Reader); absent fields keep the
dataclass defaults, which are the documented ones (SPEC §3).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from failover_cli.config import rules
from failover_cli.config.fields import FieldReader
from failover_cli.config.nodes import Entry, show
from failover_cli.config.regions import health_check_regions
from failover_cli.config.schema import (
    AlarmsConfig,
    ApiConfig,
    Autoscaling,
    DeployConfig,
    DomainConfig,
    FunctionConfig,
    HealthCheckConfig,
    IamConfig,
    LogsConfig,
    SwitchConfig,
    TableConfig,
    Throttle,
)

MIN_CANARY, MAX_CANARY = 1, 50  # deploy.canary_percent: a canary is a minority of traffic
MAX_BAKE_S = 3600.0  # deploy.bake: a wave that waits longer than an hour is a mistake


class SectionBuilder(FieldReader):
    """One method per section; each returns the section's dataclass, or None after a problem."""

    def table(self, entry: Entry | None) -> TableConfig | None:
        start = self._mark()
        fields = self.fields(
            entry, ("name", "partition_key", "billing", "autoscaling", "seed_item")
        )
        if fields is None:
            return None
        kw: dict[str, Any] = {}
        self.string(fields, "name", kw, rules.table_name)
        self.string(fields, "partition_key", kw, rules.attribute_name)
        self.choice(fields, "billing", kw, rules.BILLING_MODES)
        if "autoscaling" in fields:
            autoscaling = self.autoscaling(fields["autoscaling"])
            if autoscaling is not None:
                kw["autoscaling"] = autoscaling
        key = kw.get("partition_key", TableConfig.partition_key)
        if "seed_item" in fields:
            seed = self.seed_item(fields["seed_item"], key)
            if seed is not None:
                kw["seed_item"] = seed
        elif key not in TableConfig().seed_item:
            self.reader.fail(
                fields["partition_key"],
                (
                    f"is {show(key)}, but the default seed item is keyed by "
                    f"{TableConfig.partition_key}; also set table.seed_item with {key} and at "
                    "least one more attribute"
                ),
            )
        return TableConfig(**kw) if self._ok(start) else None

    def autoscaling(self, entry: Entry) -> Autoscaling | None:
        start = self._mark()
        fields = self.fields(entry, ("min", "max", "target_percent"))
        if fields is None:
            return None
        kw: dict[str, Any] = {}
        self.integer(fields, "min", kw, 1, 40000, "capacity units")
        self.integer(fields, "max", kw, 1, 40000, "capacity units")
        self.integer(fields, "target_percent", kw, 20, 90, "percent")
        if not self._ok(start):
            return None
        result = Autoscaling(**kw)
        if result.max < result.min:
            where = fields.get("max") or fields.get("min") or entry
            self.reader.fail(
                where, f"is {result.max}, below min ({result.min}); max must be at least min"
            )
            return None
        return result

    def seed_item(self, entry: Entry, key: str) -> dict[str, str] | None:
        start = self._mark()
        pairs = self.reader.string_map(entry, what="a mapping of attribute names to string values")
        if pairs is None:
            return None
        for child, name, value in pairs:
            self.lines[child.key] = child.line
            problem = rules.attribute_name(name)
            if problem is None and len(value) > rules.SEED_VALUE_MAX:
                problem = (
                    f"is {len(value)} characters long; seed values are at most "
                    f"{rules.SEED_VALUE_MAX} so the deep-ping answer stays short"
                )
            if problem:
                self.reader.fail(child, problem)
        item = {name: value for _, name, value in pairs}
        if not self._ok(start):
            return None  # judge the item as a whole only once each attribute is right
        if key not in item:
            self.reader.fail(
                entry,
                f"has no {show(key)} attribute; it must hold the partition key "
                "(the deep ping reads the item by it) and at least one more attribute",
            )
        elif item[key] == "":
            self.reader.fail(
                entry, f"has an empty {show(key)}; DynamoDB key values cannot be empty"
            )
        elif len(item) < 2:
            self.reader.fail(
                entry,
                f"holds only the partition key {show(key)}; add at least one more "
                "attribute (the deep ping answers with the first one)",
            )
        return item if self._ok(start) else None

    def function(self, entry: Entry | None, folder: Path, shipped: Path) -> FunctionConfig | None:
        start = self._mark()
        allowed = (
            "name",
            "runtime",
            "architecture",
            "memory_mb",
            "timeout_s",
            "source",
            "deep_ping_percent",
            "environment",
            "reserved_concurrency",
        )
        fields = self.fields(entry, allowed)
        if fields is None:
            return None
        kw: dict[str, Any] = {}
        self.string(fields, "name", kw, rules.function_name)
        self.choice(fields, "runtime", kw, rules.RUNTIMES)
        self.choice(fields, "architecture", kw, rules.ARCHITECTURES)
        self.integer(fields, "memory_mb", kw, 128, 10240, "MB")
        self.integer(
            fields,
            "timeout_s",
            kw,
            1,
            29,
            "seconds",
            " because API Gateway stops waiting for the function after 29 seconds",
        )
        self.integer(fields, "deep_ping_percent", kw, 0, 100, "percent")
        self.integer(
            fields,
            "reserved_concurrency",
            kw,
            1,
            rules.MAX_RESERVED_CONCURRENCY,
            "concurrent executions",
            " (leave the key out for no reservation; 0 would stop the function)",
        )
        source = self.source(fields.get("source"), folder, shipped)
        if source is not None:
            kw["source"] = source
        if "environment" in fields:
            environment = self.environment(fields["environment"])
            if environment is not None:
                kw["environment"] = environment
        return FunctionConfig(**kw) if self._ok(start) else None

    def source(self, entry: Entry | None, folder: Path, shipped: Path) -> Path | None:
        if entry is None:
            default = folder / FunctionConfig.source
            return default.resolve() if default.is_dir() else shipped
        text = self.reader.string(entry)
        if text is None:
            return None
        try:
            path = (folder / Path(text).expanduser()).resolve()
            is_dir = path.is_dir()
            has_handler = is_dir and (path / "handler.py").is_file()
        except (RuntimeError, OSError) as error:  # `~nobody/x`, a symlink loop, a long name
            reason = getattr(error, "strerror", None) or str(error)
            self.reader.fail(entry, f"is {show(text)}, which cannot be used as a folder ({reason})")
            return None
        if not is_dir:
            self.reader.fail(
                entry,
                f"is {show(text)}, but the folder {path} does not exist; give the "
                "function's code folder (relative paths start at the config's folder)",
            )
        elif not has_handler:
            self.reader.fail(
                entry,
                f"is the folder {path}, which has no handler.py; the function's "
                "handler is handler.handler (see the starter lambda_bundle)",
            )
        else:
            return path
        return None

    def environment(self, entry: Entry) -> dict[str, str] | None:
        start = self._mark()
        pairs = self.reader.string_map(entry, what="a mapping of variable names to string values")
        if pairs is None:
            return None
        for child, name, _ in pairs:
            problem = rules.env_name(name)
            if problem:
                self.reader.fail(child, problem)
        result = {name: value for _, name, value in pairs}
        size = sum(len(name.encode()) + len(value.encode()) for name, value in result.items())
        if size > rules.USER_ENV_MAX_BYTES:
            self.reader.fail(
                entry,
                f"takes {size} bytes; Lambda allows 4 KB for all variables and "
                f"failover needs 1 KB, so keep these under {rules.USER_ENV_MAX_BYTES}",
            )
        return result if self._ok(start) else None

    def api(self, entry: Entry | None) -> ApiConfig | None:
        start = self._mark()
        fields = self.fields(entry, ("stage", "throttle"))
        if fields is None:
            return None
        kw: dict[str, Any] = {}
        self.string(fields, "stage", kw, rules.stage_name)
        if "throttle" in fields:
            throttle = self.throttle(fields["throttle"])
            if throttle is not None:
                kw["throttle"] = throttle
        return ApiConfig(**kw) if self._ok(start) else None

    def throttle(self, entry: Entry) -> Throttle | None:
        """API Gateway's account limits (10,000 requests/s, burst 5,000) bound the stage's."""
        start = self._mark()
        fields = self.fields(entry, ("rate", "burst"))
        if fields is None:
            return None
        kw: dict[str, Any] = {}
        self.integer(fields, "rate", kw, 1, 10000, "requests per second")
        self.integer(fields, "burst", kw, 1, 5000, "requests")
        return Throttle(**kw) if self._ok(start) else None

    def health_check(self, entry: Entry | None) -> HealthCheckConfig | None:
        start = self._mark()
        allowed = ("interval_s", "failure_threshold", "search_string", "checker_regions")
        fields = self.fields(entry, allowed)
        if fields is None:
            return None
        kw: dict[str, Any] = {}
        self.choice(fields, "interval_s", kw, rules.HEALTH_CHECK_INTERVALS)
        self.integer(fields, "failure_threshold", kw, 1, 10)
        self.string(fields, "search_string", kw, _search_string)
        if "checker_regions" in fields:
            checkers = self.checker_regions(fields["checker_regions"])
            if checkers is not None:
                kw["checker_regions"] = checkers
        return HealthCheckConfig(**kw) if self._ok(start) else None

    def checker_regions(self, entry: Entry) -> tuple[str, ...] | None:
        allowed = health_check_regions()
        checkers = self.region_list(
            entry, allowed, 3, f"a Route 53 checker region (one of {', '.join(allowed)})"
        )
        return None if checkers is None else tuple(value for _, value in checkers)

    def switch(self, entry: Entry | None) -> SwitchConfig | None:
        start = self._mark()
        fields = self.fields(entry, ("interval_s", "failure_threshold"))
        if fields is None:
            return None
        kw: dict[str, Any] = {}
        self.choice(fields, "interval_s", kw, rules.HEALTH_CHECK_INTERVALS)
        self.integer(fields, "failure_threshold", kw, 1, 10)
        return SwitchConfig(**kw) if self._ok(start) else None

    def alarms(self, entry: Entry | None) -> AlarmsConfig | None:
        start = self._mark()
        fields = self.fields(entry, ("email",))
        if fields is None:
            return None
        email = fields.get("email")
        value = None if email is None else self.reader.string(email, optional=True)
        if email is not None and value is not None and (problem := rules.email(value)):
            self.reader.fail(email, problem)
        return AlarmsConfig(email=value) if self._ok(start) else None

    def iam(self, entry: Entry | None) -> IamConfig | None:
        start = self._mark()
        fields = self.fields(entry, ("permissions_boundary",))
        if fields is None:
            return None
        found = fields.get("permissions_boundary")
        value = None if found is None else self.reader.string(found, optional=True)
        if found is not None and value is not None and (problem := rules.policy_arn(value)):
            self.reader.fail(found, problem)
        return IamConfig(permissions_boundary=value) if self._ok(start) else None

    def logs(self, entry: Entry | None) -> LogsConfig | None:
        start = self._mark()
        fields = self.fields(entry, ("retention_days",))
        if fields is None:
            return None
        kw: dict[str, Any] = {}
        self.choice(fields, "retention_days", kw, rules.RETENTION_DAYS)
        return LogsConfig(**kw) if self._ok(start) else None

    def deploy(self, entry: Entry | None, regions: tuple[str, ...] | None) -> DeployConfig | None:
        """`order`: every region of `regions`, once; `bake`: a duration up to 1h;
        `canary_percent`: a whole number from 1 to 50."""
        from failover_cli.config.durations import format_duration, parse_duration

        start = self._mark()
        fields = self.fields(entry, ("order", "bake", "canary_percent"))
        if fields is None:
            return None
        kw: dict[str, Any] = {}
        order = fields.get("order")
        if order is not None and regions is not None:
            what = "a region of `regions`"
            items = self.region_list(order, regions, len(regions), what)
            if items is not None:
                kw["order"] = tuple(value for _, value in items)
        bake = fields.get("bake")
        text = None if bake is None else self.reader.string(bake)
        if bake is not None and text is not None:
            try:
                seconds = parse_duration(text)
            except ValueError as error:
                self.reader.fail(bake, f"is not a duration: {error} (e.g. bake: 2m)")
            else:
                if seconds > MAX_BAKE_S:
                    self.reader.fail(
                        bake, f"is {text}; at most {format_duration(MAX_BAKE_S)} (e.g. bake: 2m)"
                    )
                else:
                    kw["bake_s"] = seconds
        # A canary is a minority of the traffic; 0 (no canary) is the key left out.
        self.integer(fields, "canary_percent", kw, MIN_CANARY, MAX_CANARY, "percent")
        return DeployConfig(**kw) if self._ok(start) else None

    def tags(self, entry: Entry | None) -> dict[str, str] | None:
        if entry is None:
            return {}
        start = self._mark()
        pairs = self.reader.string_map(entry, what="a mapping of tag keys to string values")
        if pairs is None:
            return None
        for child, key, value in pairs:
            problem = rules.tag_key(key) or rules.tag_value(value)
            if problem:
                self.reader.fail(child, problem)
        if len(pairs) > rules.MAX_USER_TAGS:
            self.reader.fail(
                entry,
                f"has {len(pairs)} tags; at most {rules.MAX_USER_TAGS} are allowed "
                "so every resource keeps room for failover's ownership tags",
            )
        return {key: value for _, key, value in pairs} if self._ok(start) else None

    def domain(self, entry: Entry | None) -> DomainConfig | None:
        """The domain section; None both when absent and when invalid (problems tell them apart)."""
        allowed = ("name", "hosted_zone", "base_path", "routing", "ttl")
        fields = self.fields(entry, allowed)
        if entry is None or not fields:
            return None
        start = self._mark()
        kw: dict[str, Any] = {}
        for name in ("name", "hosted_zone"):
            if name not in fields:
                self.reader.fail(entry, f"has no {name}; a domain needs both name and hosted_zone")
                continue
            value = self.reader.string(fields[name])
            if value is None:
                continue
            value = value.removesuffix(".")
            self._keep(
                fields[name],
                name,
                value,
                _domain_name(value) if name == "name" else rules.dns_name(value),
                kw,
            )
        if "base_path" in fields:
            value = self.reader.string(fields["base_path"], optional=True) or ""
            self._keep(fields["base_path"], "base_path", value, rules.base_path(value), kw)
        self.choice(fields, "routing", kw, rules.ROUTINGS)
        self.integer(fields, "ttl", kw, 0, 172800, "seconds")
        if (
            "name" in kw
            and "hosted_zone" in kw
            and not rules.within_zone(kw["name"], kw["hosted_zone"])
        ):
            self.reader.fail(
                fields["name"],
                f"is {show(kw['name'])}, which is not in the hosted zone "
                f"{show(kw['hosted_zone'])}; use the zone's apex or a name below it",
            )
        return DomainConfig(**kw) if self._ok(start) else None


def _search_string(value: str) -> str | None:
    if 1 <= len(value) <= 255:
        return None
    return f"is {len(value)} characters long; Route 53 search strings are 1 to 255 characters"


def _domain_name(value: str) -> str | None:
    problem = rules.dns_name(value)
    if problem is None and len(value) > rules.ACM_FIRST_NAME_MAX:
        problem = (
            f"is {len(value)} characters long; ACM puts it in the certificate's common name, "
            f"which holds at most {rules.ACM_FIRST_NAME_MAX}"
        )
    return problem
