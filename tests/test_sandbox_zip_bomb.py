"""The sandbox refuses uploads whose files unzip past Lambda's 250 MB, as Lambda does.

A few hundred kilobytes of zeros can declare gigabytes: unpacked into a worker's
folder they would fill the user's disk. The check reads the sizes the zip
declares (Python's zipfile never inflates past them), so nothing is unpacked.
"""

from __future__ import annotations

import base64
import io
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError

from failover_cli.sandbox.lambda_.store import MAX_UNZIPPED_BYTES, BadZip, decode_upload
from tests.sandbox_api_helpers import create_function, source_zip, unique

pytestmark = pytest.mark.sandbox
REGION = "us-east-1"
CHUNK = b"\0" * (1024 * 1024)
HANDLER = "def handler(event, context):\n    return {}\n"


def _bomb(unzipped: int) -> bytes:
    """A small zip holding a handler and a file of `unzipped` zero bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("handler.py", HANDLER)
        with archive.open("zeros.bin", "w", force_zip64=True) as member:
            left = unzipped
            while left > 0:
                member.write(CHUNK[: min(left, len(CHUNK))])
                left -= len(CHUNK)
    return buffer.getvalue()


def test_the_limit_is_lambdas() -> None:
    """Lambda's own figure ("Unzipped size must be smaller than 262144000 bytes", 250 MB in
    its quotas page), checked at the edge: one byte under it passes, the limit is refused."""
    lambda_limit = 262_144_000
    handler = len(HANDLER)  # _bomb's other file
    under = _bomb(lambda_limit - 1 - handler)
    assert decode_upload(base64.b64encode(under).decode()) == under
    with pytest.raises(BadZip, match="Unzipped size must be smaller than 262144000 bytes"):
        decode_upload(base64.b64encode(_bomb(lambda_limit - handler)).decode())


def test_an_upload_that_unzips_past_the_limit_is_refused_before_unpacking() -> None:
    bomb = _bomb(MAX_UNZIPPED_BYTES)
    assert len(bomb) < 2 * 1024 * 1024  # small on the wire
    with pytest.raises(BadZip, match="Unzipped size must be smaller than 262144000 bytes"):
        decode_upload(base64.b64encode(bomb).decode())
    small = source_zip("def handler(event, context):\n    return 1\n")
    assert decode_upload(base64.b64encode(small).decode()) == small


def test_create_and_update_refuse_a_zip_bomb(sandbox_env: str) -> None:
    lam = boto3.client("lambda", REGION)
    bomb = _bomb(MAX_UNZIPPED_BYTES)
    refused_name = unique("bomb")
    with pytest.raises(ClientError) as refused:
        create_function(REGION, refused_name, bomb)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "Unzipped size must be smaller than 262144000 bytes" in str(refused.value)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=refused_name)

    name = unique("small")
    create_function(REGION, name, source_zip("def handler(event, context):\n    return 1\n"))
    with pytest.raises(ClientError, match="Unzipped size must be smaller"):
        lam.update_function_code(FunctionName=name, ZipFile=bomb)
    assert lam.invoke(FunctionName=name)["Payload"].read() == b"1"  # the old code still runs
