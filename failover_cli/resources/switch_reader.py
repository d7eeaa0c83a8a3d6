"""Route 53 "switch reader" checks: for each region R, one per other region Q, named
`<stack>-<R>-read-in-<Q>`, probing Q's API at /<stage>/health/switch/<R>.

Q's function reads Q's replica of the switch item and answers with the forced-out marker
only when it positively sees R forced out. The check is Inverted and matches that marker,
so a reader that is down, slow or wrong counts as "no objection": only a live reader that
sees R out takes R out (through R's CALCULATED check, `region_check`). Never Inverted on
a region's own probe, where it would make a broken region look healthy.

Everything else (ownership, the masked secret in the path, the replacement without a gap
when the interval changes) is the region probe's: the handler is `health_check`'s, keyed
by the check's name rather than by its region.
"""

from __future__ import annotations

from dataclasses import replace

from failover_cli.engine.desired import DesiredInputs
from failover_cli.engine.model import Spec
from failover_cli.resources import health_check
from failover_cli.resources.health_check import HealthCheckHandler, HealthCheckProps, MaskedPath
from failover_cli.services.health_checks import NAME_TAG
from failover_cli.services.switch_item import FORCED_OUT_MARKER, reader_path

KIND = "switch_reader"


def desired(inputs: DesiredInputs) -> list[Spec]:
    config = inputs.config
    probes = {s.region: s for s in health_check.desired(inputs)}
    specs = []
    for region in config.regions:
        for reader in config.regions:
            if reader == region:
                continue
            name = config.reader_check_name(region, reader)
            probe: HealthCheckProps = probes[reader].props
            props = replace(
                probe,
                path=MaskedPath(reader_path(config.api.stage, region, inputs.secret)),
                search_string=FORCED_OUT_MARKER,
                interval=config.switch.interval_s,
                failure_threshold=config.switch.failure_threshold,
                inverted=True,  # down, slow or unreachable: no objection
                tags=tuple(sorted({**config.ownership_tags(), NAME_TAG: name}.items())),
            )
            needs = (f"api:{reader}:{config.api_name}", *probes[reader].depends_on[1:])
            specs.append(Spec(KIND, reader, name, props, depends_on=needs))
    return specs


class SwitchReaderHandler(HealthCheckHandler):
    kind = KIND

    def desired(self, inputs: DesiredInputs) -> list[Spec]:
        return desired(inputs)


HANDLER = SwitchReaderHandler()
