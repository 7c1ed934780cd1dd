"""The FastAPI service app-infra runs as `uvicorn app.web.api:app --host 0.0.0.0 --port $PORT ...`."""
import redis
from fastapi import FastAPI, HTTPException
from rq import Queue

from app import jobs, settings

app = FastAPI(title="reference-app")
_redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
_queue = Queue(settings.QUEUE_NAME, connection=_redis)


@app.get("/health")
@app.get("/healthz")
def health() -> dict:
    """The healthcheck and the watchdog call this path (services/api/healthPath); 200 = healthy."""
    try:
        _redis.ping()
    except redis.RedisError as e:
        raise HTTPException(status_code=503, detail=f"redis: {type(e).__name__}")
    return {"status": "ok", "stack": settings.APP_STACK}


@app.post("/enqueue")
def enqueue(count: int = 1, size_mb: int = 50, hold_s: float = 0) -> dict:
    """Queues `count` image jobs on the workers' queue; hold_s makes each one last that long."""
    if not 1 <= count <= 1000 or not 1 <= size_mb <= 200 or not 0 <= hold_s <= 600:
        raise HTTPException(status_code=422, detail="count: 1..1000, size_mb: 1..200, hold_s: 0..600")
    # A long result_ttl: a slow box must still be able to count what finished. The job timeout
    # covers the hold (RQ's default is 180 s).
    ids = [
        _queue.enqueue(jobs.process_image, size_mb, hold_s, result_ttl=86400, job_timeout=int(hold_s) + 180).id
        for _ in range(count)
    ]
    return {"queued": len(ids), "queue": settings.QUEUE_NAME}


@app.get("/stats")
def stats() -> dict:
    done = _redis.get(jobs.DONE_KEY)
    return {
        "queue": settings.QUEUE_NAME,
        "queued": len(_queue),
        "done": int(done or 0),
        # Jobs a worker holds now, and jobs that failed (RQ moves a job whose worker died to the
        # failed registry once its heartbeat expires: "abandoned").
        "started": len(_queue.started_job_registry),
        "failed": len(_queue.failed_job_registry),
    }
