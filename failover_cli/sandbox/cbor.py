"""The little CBOR (RFC 8949) the sandbox writes: an error body for smithy-rpc-v2-cbor
services (CloudWatch's newer protocol), a map of text to text and nothing else."""

from __future__ import annotations


def text_map(values: dict[str, str]) -> bytes:
    """A CBOR map (major type 5) of text strings (major type 3)."""
    out = bytearray(_head(5, len(values)))
    for key, value in values.items():
        for text in (key, value):
            data = text.encode()
            out += _head(3, len(data)) + data
    return bytes(out)


def _head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if length < 1 << (8 * size):
            return bytes([major << 5 | extra]) + length.to_bytes(size, "big")
    raise ValueError("too long for CBOR")
