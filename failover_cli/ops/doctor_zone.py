"""doctor's hosted zone check: the zone exists and public DNS delegates the domain to it."""

from __future__ import annotations

from collections.abc import Callable

from failover_cli.engine.context import Context
from failover_cli.ops.doctor_checks import Check, Verdict

Resolver = Callable[[str, float], list[str]]  # (zone, time-out) -> its NS names from public DNS


class ZoneChecks:
    """The hosted zone check, for `Doctor`."""

    ctx: Context
    resolve_ns: Resolver
    dns_timeout: float

    def hosted_zone(self, in_sandbox: bool) -> Check:
        from failover_cli.services.route53_zone import find_zone, route53

        name = "hosted zone"
        domain = self.ctx.config.domain
        if domain is None:
            return Check(name, Verdict.SKIPPED, "no domain in the config")
        zone = find_zone(self.ctx)
        if zone is None:
            return Check(
                name,
                Verdict.FAIL,
                f"{domain.hosted_zone} does not exist as a public hosted zone of this account",
                "Create it in Route 53 and delegate the domain to its name servers, or fix "
                "domain.hosted_zone in the config.",
            )
        found = route53(self.ctx).get_hosted_zone(Id=zone.id)
        servers = sorted(_dns(n) for n in (found.get("DelegationSet") or {}).get("NameServers", []))
        if in_sandbox:
            return Check(
                name,
                Verdict.OK,
                f"{zone.name} ({zone.id}) exists; the sandbox: public DNS delegation not checked",
            )
        try:
            public = sorted(_dns(n) for n in self.resolve_ns(zone.name, self.dns_timeout))
        except Exception as error:
            return Check(
                name,
                Verdict.UNKNOWN,
                f"{zone.name} ({zone.id}) exists; its public NS answer could not be read: {error}",
            )
        if not servers or not set(public) & set(servers):
            return Check(
                name,
                Verdict.FAIL,
                f"{zone.name} is not delegated to its hosted zone: public DNS answers NS "
                f"{', '.join(public) or 'nothing'}, the zone's name servers are "
                f"{', '.join(servers)}",
                "Set the zone's four name servers at your registrar (or in the parent zone); "
                "certificates stay PENDING_VALIDATION until then.",
            )
        return Check(name, Verdict.OK, f"{zone.name} ({zone.id}) exists and is delegated to it")


def _dns(name: str) -> str:
    return name.lower().rstrip(".")


def public_ns(zone: str, timeout: float) -> list[str]:
    """The NS records of `zone` as public DNS answers them (the system's resolvers)."""
    import dns.resolver

    resolver = dns.resolver.Resolver()
    answer = resolver.resolve(zone, "NS", lifetime=timeout)
    return [str(record.target) for record in answer]
