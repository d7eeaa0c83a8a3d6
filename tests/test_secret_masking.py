"""How the health-checker secret shows when it must be mentioned: `****` and its length.

Not even a prefix: four hex characters cut a brute force by 2**16 and tie every
log line that shows them to one secret.
"""

from __future__ import annotations

from failover_cli.errors import BadInput, mask, redact

SECRET = "9f8e7d6c5b4a" * 4  # 48 hex characters, like new_secret()


def test_mask_shows_no_character_of_the_secret() -> None:
    secret = SECRET
    shown = mask(secret)
    assert shown == f"****({len(secret)})"
    assert secret[:2] not in shown and secret[-2:] not in shown


def test_short_secrets_are_masked_the_same_way() -> None:
    assert mask("abc") == "****(3)" and mask("") == "****(0)"


def test_quoted_secrets_in_errors_keep_no_prefix() -> None:
    secret = SECRET
    text = (
        f"Invalid path /prod/health?healthCheckerId={secret}&deep=true; "
        f'Environment {{"HEALTH_CHECKER_ID": "{secret}", "HEALTH_CHECKER_ID_NEXT": "{secret}"}}; '
        f"HEALTH_CHECKER_ID={secret}"
    )
    cleaned = redact(text)
    assert secret[:4] not in cleaned
    assert cleaned.count(f"****({len(secret)})") == 4
    error = BadInput(text)
    assert secret[:4] not in error.render()
