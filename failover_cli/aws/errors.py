"""The one boundary where botocore's errors become the tool's own errors."""

from __future__ import annotations

import re

from failover_cli.errors import AwsError, CredentialsError, FailoverError

# boto3 service name -> IAM action prefix (where they differ, the IAM name wins)
_IAM_PREFIX = {
    "apigateway": "apigateway",
    "application-autoscaling": "application-autoscaling",
    "cloudwatch": "cloudwatch",
    "logs": "logs",
    "lambda": "lambda",
    "dynamodb": "dynamodb",
}

# API Gateway's IAM actions are HTTP verbs on resources, not operation names.
_APIGATEWAY_VERB = {
    "Get": "GET",
    "Create": "POST",
    "Put": "PUT",
    "Update": "PATCH",
    "Delete": "DELETE",
}

_ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "UnrecognizedClientException",
}
_BAD_CREDENTIALS = {
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidSignatureException",
}


# Where ClientFactory records the service in an error response (ResponseMetadata).
SERVICE_KEY = "FailoverService"
REGION_KEY = "FailoverRegion"  # and the region the call went to


def error_code(error: BaseException) -> str:
    """The AWS error code of a botocore ClientError ("" for anything else)."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def is_permanent(error: BaseException) -> bool:
    """An AWS error no retry can fix: access denied, or credentials missing or refused."""
    from botocore import exceptions as bx

    if isinstance(error, bx.NoCredentialsError | bx.PartialCredentialsError | bx.ProfileNotFound):
        return True
    code = error_code(error)
    return code in _ACCESS_DENIED or code in _BAD_CREDENTIALS


def iam_action(service: str, operation: str) -> str:
    """The IAM action a call needs, e.g. ('lambda', 'CreateFunction') -> lambda:CreateFunction."""
    if service == "apigateway":
        verb = next((v for p, v in _APIGATEWAY_VERB.items() if operation.startswith(p)), "GET")
        return f"apigateway:{verb}"
    return f"{_IAM_PREFIX.get(service, service)}:{operation}"


def translate(
    error: BaseException,
    *,
    region: str | None = None,
    service: str | None = None,
    operation: str | None = None,
) -> FailoverError | None:
    """Map a botocore exception to a FailoverError, or None if it is not an AWS error."""
    from botocore import exceptions as bx

    if isinstance(error, FailoverError):
        return error
    if isinstance(error, bx.NoCredentialsError | bx.PartialCredentialsError):
        return CredentialsError(
            "No AWS credentials were found",
            hint="Set AWS_PROFILE (or pass --profile), or export AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY; for the local sandbox, see `failover sandbox`.",
        )
    if isinstance(error, bx.ProfileNotFound):
        return CredentialsError(
            str(error), hint="List your profiles with `aws configure list-profiles`."
        )
    if isinstance(error, bx.ClientError):
        return _client_error(error, region=region, service=service, operation=operation)
    # The client factory notes the operation on connection errors and time-outs.
    operation = operation or getattr(error, "operation_name", None) or ""
    failed = f"{operation} failed: " if operation else ""
    if isinstance(error, bx.EndpointConnectionError):
        return AwsError(
            f"{failed}could not reach the AWS endpoint {error.kwargs.get('endpoint_url', '')}"
            if failed
            else f"Could not reach the AWS endpoint {error.kwargs.get('endpoint_url', '')}",
            operation=operation,
            region=region,
            hint="Check your network, or AWS_ENDPOINT_URL if you meant to use the sandbox.",
        )
    if isinstance(error, bx.HTTPClientError | bx.ConnectionError):  # incl. read time-outs
        return AwsError(
            f"{failed}{str(error).rstrip('.')}",
            operation=operation,
            region=region,
            hint="botocore retried it without success: check your network (or "
            "AWS_ENDPOINT_URL), then re-run the same command.",
        )
    if isinstance(error, bx.BotoCoreError):
        return AwsError(f"{failed}{error}", operation=operation, region=region)
    return None


def _client_error(
    error: BaseException,
    *,
    region: str | None,
    service: str | None,
    operation: str | None,
) -> FailoverError:
    response = getattr(error, "response", {}) or {}
    err = response.get("Error", {})
    code = error_code(error)
    message = str(err.get("Message", "")) or str(error)
    operation = operation or getattr(error, "operation_name", "") or ""
    service = service or response.get("ResponseMetadata", {}).get(SERVICE_KEY)
    if code in _BAD_CREDENTIALS:
        return CredentialsError(
            f"AWS rejected the credentials while calling {operation} ({code}: {message})",
            hint="Refresh or fix your credentials (profile, SSO login, or access keys).",
        )
    if code in _ACCESS_DENIED or "not authorized" in message:
        found = re.search(r"perform: ([\w-]+:[\w*-]+)", message)
        if found:
            action = found.group(1)
        elif service:
            action = iam_action(service, operation)
        else:  # not even the service is known: never print a bare ":Operation"
            action = f"<service>:{operation}"
        return AwsError(
            f"Access denied calling {operation}: the identity in use lacks the IAM "
            f"permission {action}",
            operation=operation,
            code=code,
            region=region,
            hint=f"Grant {action} to it (`failover iam-policy` prints all it needs), then re-run.",
        )
    return AwsError(
        f"{operation} failed: {code}: {message}",
        operation=operation,
        code=code,
        region=region,
        hint="Fix the cause and re-run the same command; it resumes where it stopped.",
    )
