"""The k6 mix's population weights (MIX_* settings), read from loadtest/k6/lib/config.js."""

import re

from loadtest.report.runner import K6_DIR

_DEFAULT = re.compile(r"envNumber\('(MIX_[A-Z_]+)',\s*([\d.]+)\)")


def defaults() -> dict[str, float]:
    """{"MIX_TFB_CLIENTS": 40, ...}: the weights config.js falls back to."""
    text = (K6_DIR / "lib" / "config.js").read_text()
    return {name: float(value) for name, value in _DEFAULT.findall(text)}


def population(setting: str) -> str:
    """MIX_TFB_CLIENTS -> tfb_clients."""
    return setting.removeprefix("MIX_").lower()


def weights(settings: dict) -> dict[str, float]:
    """Each population's share of the iterations, from MIX_* `settings` over the defaults."""
    merged = {name: float(settings.get(name) or value) for name, value in defaults().items()}
    total = sum(merged.values())
    if total <= 0:
        raise ValueError("at least one MIX_* weight must be positive")
    return {population(name): value / total for name, value in merged.items()}
