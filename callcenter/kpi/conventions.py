"""Which KPI conventions apply to a queue: the hotline's ``kpi:`` section, with the queue's own service-level
threshold when its entry in ``queues:`` sets ``service_level_threshold_seconds`` explicitly (more specific wins).
"""

from __future__ import annotations

from collections.abc import Mapping

from callcenter.hotline import Hotline, KpiConfig

THRESHOLD = "service_level_threshold_seconds"


def queue_thresholds(hotline: Hotline) -> dict[str, int]:
    """Queues whose threshold T differs from the hotline-wide one, with their T."""
    return {
        name: queue.service_level_threshold_seconds
        for name, queue in hotline.queues.items()
        if THRESHOLD in queue.model_fields_set
        and queue.service_level_threshold_seconds != hotline.kpi.service_level_threshold_seconds
    }


def for_queue(config: KpiConfig, thresholds: Mapping[str, int], queue: str) -> KpiConfig:
    """The conventions of one queue's calls."""
    if queue not in thresholds:
        return config
    return config.model_copy(update={THRESHOLD: thresholds[queue]})
