"""Ids the simulated providers hand out, in the shapes the seeds show."""

from __future__ import annotations

import random
import secrets
import uuid


def new_uuid() -> str:
    """Aldeamo and Contacto Virtual message ids: a UUID4 string."""
    return str(uuid.uuid4())


def new_whatsapp_id() -> str:
    """A WhatsApp on-prem style id like the seed's ``gBEGkYiEB1VXAgIK1ZEqA1YKPrU``."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    rng = random.SystemRandom()
    return "gBEG" + "".join(rng.choice(alphabet) for _ in range(23))


def new_inbound_id() -> str:
    """An inbound message id in Cloud API style (``wamid.HBgM…``)."""
    return "wamid.HBgM" + uuid.uuid4().hex.upper()[:32]


def new_template_id() -> str:
    """A numeric template id like the seed's ``736609717637531``."""
    return str(secrets.randbelow(9 * 10**14) + 10**15)
