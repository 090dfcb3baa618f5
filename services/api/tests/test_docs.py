"""What users read matches the code: every setting and every metric is documented."""

import os
import re
from pathlib import Path
from types import SimpleNamespace

from prometheus_client import Counter
from prometheus_client.metrics import MetricWrapperBase

from api import metrics
from api.config import Settings
from api.master_monitor import WorkerCpuCollector

REPO = Path(__file__).resolve().parents[3]


def documented_names(path: Path) -> set[str]:
    """Names in the first column of the Markdown tables of `path`."""
    return set(re.findall(r"^\| `([A-Za-z_]+)` \|", path.read_text(), flags=re.MULTILINE))


def exported_metric_names() -> set[str]:
    """The metrics api.metrics declares, and the ones the master reads at scrape time."""
    declared = {
        # prometheus_client keeps counter names without their _total suffix.
        value._name + ("_total" if isinstance(value, Counter) else "")
        for value in vars(metrics).values()
        if isinstance(value, MetricWrapperBase)
    }
    collected = {
        sample.name
        for family in WorkerCpuCollector(SimpleNamespace(WORKERS=[os.getpid()])).collect()
        for sample in family.samples
    }
    return declared | collected


def test_every_setting_is_in_the_configuration_guide():
    assert set(Settings.model_fields) <= documented_names(REPO / "docs/configuration.md")


def test_every_setting_is_in_env_example():
    text = (REPO / ".env.example").read_text()
    # As a setting, or among those the container fixes (DATABASE_URL, GUNICORN_BIND, ...).
    missing = [name for name in Settings.model_fields if not re.search(rf"\b{name}\b", text)]
    assert not missing


def test_every_metric_is_in_the_metrics_guide():
    assert exported_metric_names() <= documented_names(REPO / "docs/metrics.md")
