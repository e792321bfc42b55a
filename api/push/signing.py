"""Standard Webhooks signatures (https://www.standardwebhooks.com).

A secret is "whsec_" + base64 of 32 random bytes; the HMAC key is those bytes. A
delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and
`webhook-signature`: "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)),
one per secret in use, separated by spaces (two while a rotation's overlap lasts).
"""

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(
    secrets_in_use: list[str], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(s, message_id, timestamp, body) for s in secrets_in_use
        ),
    }
