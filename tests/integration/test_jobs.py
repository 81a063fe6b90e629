from rq import SimpleWorker


def test_enqueued_job_runs_on_a_worker_with_its_arguments(container):
    key = container.keys.prefix + "job-result"
    job_id = container.jobs.enqueue("tests.support.jobs.remember", key, "done")
    SimpleWorker([container.jobs.queue], connection=container.redis.raw).work(burst=True)
    assert container.redis.live.get(key) == "done"
    assert container.jobs.queue.fetch_job(job_id).return_value() == "DONE"
