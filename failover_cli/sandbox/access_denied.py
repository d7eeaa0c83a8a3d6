"""AccessDenied as each service answers it, so botocore raises what it would on AWS.

The wording follows IAM's "User: <arn> is not authorized to perform: <action> on
resource: <arn> because ..." (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html),
and each protocol's error shape follows the service's documented errors:

- query APIs (IAM, STS, SNS) and Route 53: an XML `ErrorResponse`, HTTP 403, code
  `AccessDenied` (SNS: `AuthorizationError`);
- JSON APIs (DynamoDB, Logs, ACM, Application Auto Scaling): HTTP 400 with
  `__type` `AccessDeniedException`;
- REST-JSON (Lambda, API Gateway): HTTP 403, `x-amzn-ErrorType: AccessDeniedException`;
- CloudWatch: JSON as above plus its query-compatible `x-amzn-query-error`, or, to a
  client speaking smithy-rpc-v2-cbor, the same as a CBOR map.
"""

from __future__ import annotations

import uuid
from xml.sax.saxutils import escape

from failover_cli.sandbox import cbor
from failover_cli.sandbox.requests import AwsRequest
from failover_cli.sandbox.responses import Response, json_error, json_response

CALLER = "user/sandbox-operator"  # who the enforced policy belongs to, in messages
_XML = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "sns": "http://sns.amazonaws.com/doc/2010-03-31/",
    "route53": "https://route53.amazonaws.com/doc/2013-04-01/",
}


def denial_message(
    account: str, action: str, resource: str | None, *, explicit: bool, why: str = ""
) -> str:
    where = f" on resource: {resource}" if resource else ""
    because = (
        "with an explicit deny in an identity-based policy"
        if explicit
        else f"because no identity-based policy allows the {action} action"
    )
    needed = f" ({why})" if why else ""
    return (
        f"User: arn:aws:iam::{account}:{CALLER} is not authorized to perform: {action}"
        f"{where}{needed} {because}"
    )


def access_denied(request: AwsRequest, message: str) -> Response:
    """The AccessDenied answer to `request`, in the protocol its client speaks."""
    service = request.service or ""
    if service in ("lambda", "apigateway"):
        answer = json_response(
            {"Type": "User", "message": message, "Message": message},
            status=403,
            content_type="application/json",
        )
        headers = (*answer.headers, ("x-amzn-ErrorType", "AccessDeniedException"))
        return Response(status=403, headers=headers, body=answer.body)
    if service == "route53" or (service in _XML and not request.target):
        code = "AuthorizationError" if service == "sns" else "AccessDenied"
        return _xml_error(service, code, message)
    if service == "monitoring" and not request.target:  # CBOR, not the JSON variant
        body = cbor.text_map({"__type": "AccessDenied", "message": message})
        headers = (
            ("Content-Type", "application/cbor"),
            ("Content-Length", str(len(body))),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("x-amzn-query-error", "AccessDenied;Sender"),
            ("x-amzn-RequestId", uuid.uuid4().hex),
        )
        return Response(status=400, headers=headers, body=body)
    answer = json_error("AccessDeniedException", message, status=400)
    if service == "monitoring":  # CloudWatch's JSON is query-compatible: botocore maps codes
        headers = (*answer.headers, ("x-amzn-query-error", "AccessDenied;Sender"))
        return Response(status=400, headers=headers, body=answer.body)
    return answer


def _xml_error(service: str, code: str, message: str) -> Response:
    body = (
        f'<ErrorResponse xmlns="{_XML[service]}"><Error><Type>Sender</Type>'
        f"<Code>{code}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()
    headers = (("Content-Type", "text/xml"), ("Content-Length", str(len(body))))
    return Response(status=403, headers=headers, body=body)
