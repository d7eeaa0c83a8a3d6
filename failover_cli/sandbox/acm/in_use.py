"""ACM refuses to delete a certificate that something uses, as AWS does (moto deletes it).

ACM API Reference, DeleteCertificate: "You cannot delete an ACM certificate that is
being used by another AWS service", answered with ResourceInUseException. Who uses a
certificate is its `InUseBy` list (DescribeCertificate); API Gateway's custom domains
add themselves there and leave some time after they are deleted (`hold`/`release`,
called by `apigateway.domains`; the delay is `AwsRules.certificate_release`).
"""

from __future__ import annotations

from typing import Any

from failover_cli.sandbox.aws_rules import AwsRules
from failover_cli.sandbox.context import SandboxContext
from failover_cli.sandbox.layer import Forward, OperationInterceptor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response, json_error
from failover_cli.sandbox.scheduler import Scheduler


def install(context: SandboxContext) -> None:
    context.layer.add(DeleteCertificateInUse())


class DeleteCertificateInUse(OperationInterceptor):
    service = "acm"
    operations = frozenset({"DeleteCertificate"})

    def handle(self, request: AwsRequest, forward: Forward) -> Response:
        arn = str(request.json().get("CertificateArn", ""))
        certificate = _certificate(request.account_id, request.region, arn)
        if certificate is not None and certificate.in_use_by:
            return json_error("ResourceInUseException", f"Certificate {arn} in use.")
        return forward(request)


def hold(account_id: str, region: str, arn: str, user: str) -> None:
    """`user` (an ARN) now uses the certificate `arn`."""
    certificate = _certificate(account_id, region, arn)
    if certificate is not None and user not in certificate.in_use_by:
        certificate.in_use_by.append(user)


def release(
    scheduler: Scheduler, rules: AwsRules, account_id: str, region: str, arn: str, user: str
) -> None:
    """`user` lets go of the certificate after `rules.certificate_release` (emulated)."""

    def let_go() -> None:
        certificate = _certificate(account_id, region, arn)
        if certificate is not None and user in certificate.in_use_by:
            certificate.in_use_by.remove(user)

    if rules.certificate_release <= 0:
        let_go()
    else:
        scheduler.call_later(rules.certificate_release, let_go)


def _certificate(account_id: str, region: str, arn: str) -> Any:
    from moto.acm.models import acm_backends

    return acm_backends[account_id][region]._certificates.get(arn)
