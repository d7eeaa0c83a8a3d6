"""Load `failover.yaml` into a frozen `Config`, strictly: no AWS call, every problem located.

Public API:

- `load_config(path)` reads, validates and returns the `Config`, or raises
  `BadInput` (no file / unreadable) or `ConfigError` (syntax or rule
  problems; a `ConfigProblems` when there are several, listing each as
  `file:line: key: problem`). Both exit 2.
- `TOP_LEVEL_KEYS`: the sections a config may have.

Every problem in the file is reported in one run. Rules that span sections
(failover routing needs two regions; the health check's search string must
match the function's healthy answers and none of its failure answers) are
checked only once the sections involved are valid, so one mistake never
shows up as a cascade of others.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from failover_cli.access.refresher_settings import environment_problem
from failover_cli.config import rules
from failover_cli.config.access_section import build_access
from failover_cli.config.nodes import (
    Entry,
    Problems,
    Reader,
    line_of,
    read_document,
    show,
    type_name,
)
from failover_cli.config.regions import SUPPORTED_PARTITION, lambda_regions
from failover_cli.config.schema import Config, HealthCheckConfig, TableConfig
from failover_cli.config.sections import SectionBuilder
from failover_cli.errors import ConfigError

TOP_LEVEL_KEYS = (
    "stack", "regions", "table", "function", "api", "domain", "health_check", "alarms", "logs",
    "tags", "access", "iam", "switch", "deploy",
)  # fmt: skip


def load_config(path: Path) -> Config:
    """Read and validate the config at `path`; relative paths resolve against its folder."""
    root = read_document(path)
    if root is None:
        raise ConfigError(
            str(path),
            None,
            "(file)",
            "is empty; a config needs at least stack and "
            "regions (run `failover init`, or see config.example.yaml)",
        )
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(
            str(path),
            line_of(root),
            "(top level)",
            f"is {type_name(root)}; a config is a mapping of keys such as stack: and regions:",
        )
    problems = Problems(path)
    config = _Loader(path, Reader(problems)).load(root)
    problems.raise_if_any()
    assert config is not None  # no problems means every section was built
    return config


class _Loader:
    def __init__(self, path: Path, reader: Reader):
        self.path = path
        self.reader = reader
        self.lines: dict[str, int] = {}  # dotted key -> line, for keys present in the file
        self.sections = SectionBuilder(reader, self.lines)

    def load(self, root: yaml.MappingNode) -> Config | None:
        from failover_cli.bundle import shipped_bundle_path

        lines, sections = self.lines, self.sections
        top = sections.fields(Entry("", line_of(root), root), TOP_LEVEL_KEYS)
        if top is None:
            return None
        stack = self._stack(top.get("stack"))
        regions = self._regions(top.get("regions"))
        folder = self.path.absolute().parent
        table = sections.table(top.get("table"))
        function = sections.function(top.get("function"), folder, shipped_bundle_path())
        api = sections.api(top.get("api"))
        domain = sections.domain(top.get("domain"))
        health_check = sections.health_check(top.get("health_check"))
        alarms = sections.alarms(top.get("alarms"))
        logs = sections.logs(top.get("logs"))
        tags = sections.tags(top.get("tags"))
        access = build_access(sections, top.get("access"))
        iam = sections.iam(top.get("iam"))
        switch = sections.switch(top.get("switch"))
        deploy = sections.deploy(top.get("deploy"), regions)

        if (
            regions is not None
            and domain is not None
            and domain.routing == "failover"
            and len(regions) != 2
        ):
            self.reader.problems.add(
                lines.get("domain.routing"),
                "domain.routing",
                (
                    f"is failover, which needs exactly 2 regions (primary and secondary) but "
                    f"regions lists {len(regions)}; use latency routing or list 2 regions"
                ),
            )
        if regions is not None and table is not None and health_check is not None:
            self._search_string(regions, table, health_check, lines)

        if self.reader.problems.items:
            return None  # every section that came back None has recorded why
        built: dict[str, Any] = dict(
            stack=stack, regions=regions, table=table, function=function, api=api, domain=domain,
            health_check=health_check, alarms=alarms, logs=logs, tags=tags, access=access, iam=iam,
            switch=switch, deploy=deploy,
        )  # fmt: skip
        config = Config(**built, path=self.path.absolute())
        # The refresher's environment is made from the whole config (CIDRs, regions, stage).
        too_big = environment_problem(config)
        if too_big:
            self.reader.problems.add(lines.get("access.allow"), "access.allow", too_big)
            return None
        return config

    def _missing(self, key: str, example: str) -> None:
        self.reader.problems.add(None, key, f"is required, e.g. `{example}`")

    def _stack(self, entry: Entry | None) -> str | None:
        if entry is None:
            self._missing("stack", "stack: hello")
            return None
        value = self.reader.string(entry)
        problem = None if value is None else rules.stack_name(value)
        if problem:
            self.reader.fail(entry, problem)
            return None
        return value

    def _regions(self, entry: Entry | None) -> tuple[str, ...] | None:
        if entry is None:
            self._missing("regions", "regions: [us-east-1, us-west-2]")
            return None
        known = lambda_regions()
        items = self.sections.region_list(entry, known, 2, "an AWS region with Lambda")
        if items is None:
            return None
        # ARNs (arn:aws:), the Route 53 and CloudWatch region (us-east-1) and the
        # amazonaws.com host names the stack uses are the standard partition's; refusing
        # China and GovCloud here beats a stack that fails half-way through its first up.
        for item, value in items:
            if known[value] != SUPPORTED_PARTITION:
                self.reader.fail(
                    item,
                    f"is {show(value)}, in the {known[value]} partition; "
                    "failover supports the standard aws partition only (its "
                    "ARNs, Route 53 health checks in us-east-1 and "
                    "amazonaws.com endpoints); use aws regions such as us-east-1",
                )
                return None
        return tuple(value for _, value in items)

    def _search_string(
        self,
        regions: tuple[str, ...],
        table: TableConfig,
        health_check: HealthCheckConfig,
        lines: dict[str, int],
    ) -> None:
        """Route 53 marks a region healthy only if the string is in its healthy answers and absent
        from its failure answers (SPEC §5 fixes those texts)."""
        wanted = health_check.search_string
        given = "health_check.search_string" in lines
        deep_attribute = next(name for name in table.seed_item if name != table.partition_key)
        deep_key = f"table.seed_item.{deep_attribute}"
        for region in regions:
            shallow = f"Shallow hello from {region}"
            deep = f"{table.seed_item[deep_attribute]}{region}"
            failures = (
                f"Forced failure in {region}", f"Deep ping failed in {region}", "Forbidden",
                "Internal error",
            )  # fmt: skip
            if wanted not in shallow:
                problem = (
                    f"is {show(wanted)}, which the shallow health answer {show(shallow)} does "
                    "not contain, so every check would fail; use a part of it such as "
                    '"hello from"'
                )
            elif wanted not in deep:
                if not given:
                    self.reader.problems.add(
                        lines.get(deep_key),
                        deep_key,
                        (
                            f"makes the deep health answer {show(deep)}, which lacks the search "
                            f"string {show(wanted)}, so deep pings would fail; include it here"
                        ),
                    )
                    return
                problem = (
                    f"is {show(wanted)}, which the deep health answer {show(deep)} does not "
                    f"contain, so deep pings would fail; use text found in both answers"
                )
            elif bad := next((text for text in failures if wanted in text), None):
                problem = (
                    f"is {show(wanted)}, which the failure answer {show(bad)} also contains, "
                    "so Route 53 could never see the region fail; use text only healthy "
                    "answers hold"
                )
            else:
                continue
            self.reader.problems.add(
                lines.get("health_check.search_string"), "health_check.search_string", problem
            )
            return
