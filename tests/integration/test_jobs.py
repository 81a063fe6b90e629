import threading
import time

from rq import SimpleWorker

from queueing.jobs import forking_worker, run_thread_worker


def test_enqueued_job_runs_on_a_worker_with_its_arguments(container):
    key = container.keys.prefix + "job-result"
    job_id = container.jobs.enqueue("tests.support.jobs.remember", key, "done")
    SimpleWorker([container.jobs.queue], connection=container.redis.raw).work(burst=True)
    assert container.redis.live.get(key) == "done"
    assert container.jobs.queue.fetch_job(job_id).return_value() == "DONE"


def test_the_embedded_worker_runs_each_new_job_within_a_second_burst_after_burst(container):
    """Jobs enqueued one after another reach the embedded worker's next burst: no burst's teardown holds them
    back (redis-py 8.2 joined RQ's remote-command listener, which sleeps 60 s between reads)."""
    stop = threading.Event()
    worker = threading.Thread(target=run_thread_worker, args=(container.jobs.queue, stop), daemon=True)
    worker.start()
    try:
        for n in range(4):
            key = container.keys.prefix + f"job-result-{n}"
            container.jobs.enqueue("tests.support.jobs.remember", key, "done")
            deadline = time.monotonic() + 5
            while container.redis.live.get(key) is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert container.redis.live.get(key) == "done", f"job {n} waited over 5 s"
            time.sleep(0.5)  # the worker is between bursts when the next job comes
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()


def test_the_production_worker_stops_its_command_listener_within_seconds(container):
    """`callcenter worker` shuts down promptly even when its remote-command listener is waiting to be subscribed
    again (the moment a shutdown's UNSUBSCRIBE creates): the listener wakes every second, not every 60 s."""
    worker = forking_worker(container.jobs.queue)
    worker.subscribe()
    time.sleep(0.3)
    worker.pubsub.unsubscribe()
    time.sleep(0.5)  # the listener has read the reply and now waits for a subscription
    started = time.monotonic()
    worker.unsubscribe()  # what the worker's teardown does
    assert time.monotonic() - started < 5
