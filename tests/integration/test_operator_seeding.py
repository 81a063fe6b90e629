"""Seeding the hotline file's operators is idempotent, also when several processes start at once."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from callcenter.bootstrap import Container
from callcenter.operators import OperatorService
from callcenter.storage.models import Operator, QueueRecord


def test_two_workers_seeding_an_empty_database_at_once_both_succeed_with_one_row_per_operator(
    container: Container,
) -> None:
    hotline = container.hotline
    for _round in range(3):
        barrier, created, errors = threading.Barrier(2), list[int](), list[Exception]()

        def seed(barrier: threading.Barrier, created: list[int], errors: list[Exception]) -> None:
            service = OperatorService(container.sessions)
            barrier.wait()
            try:
                created.append(service.seed_from_hotline(hotline))
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=seed, args=(barrier, created, errors)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with container.sessions() as session:
            per_name = session.execute(select(Operator.username, func.count()).group_by(Operator.username)).all()
            queues = session.scalar(select(func.count()).select_from(QueueRecord))
        assert sorted(per_name) == sorted((op.username, 1) for op in hotline.operators)
        assert queues == len(hotline.queues)
        expected = len(hotline.operators) if _round == 0 else 0
        assert sum(created) == expected


def test_an_operator_created_meanwhile_by_another_process_is_kept(container: Container) -> None:
    hotline = container.hotline
    first = hotline.operators[0]
    OperatorService(container.sessions).seed_from_hotline(hotline)
    with container.sessions.begin() as session:
        session.execute(Operator.__table__.update().values(name="Renamed").where(Operator.username == first.username))
    assert OperatorService(container.sessions).seed_from_hotline(hotline) == 0
    with container.sessions() as session:
        assert session.scalar(select(Operator.name).where(Operator.username == first.username)) == "Renamed"
