"""The FastAPI service app-infra runs as `uvicorn app.web.api:app --host 0.0.0.0 --port $PORT ...`."""
import redis
from fastapi import FastAPI, HTTPException
from rq import Queue

from app import jobs, settings

app = FastAPI(title="reference-app")
_redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
_queue = Queue(settings.QUEUE_NAME, connection=_redis)


@app.get("/health")
def health() -> dict:
    """The healthcheck and the watchdog call this path (services/api/healthPath); 200 = healthy."""
    try:
        _redis.ping()
    except redis.RedisError as e:
        raise HTTPException(status_code=503, detail=f"redis: {type(e).__name__}")
    return {"status": "ok", "stack": settings.APP_STACK}


@app.post("/enqueue")
def enqueue(count: int = 1, size_mb: int = 50) -> dict:
    """Queues `count` image jobs on the workers' queue."""
    if not 1 <= count <= 1000 or not 1 <= size_mb <= 200:
        raise HTTPException(status_code=422, detail="count: 1..1000, size_mb: 1..200")
    # A long result_ttl: a slow box must still be able to count what finished.
    ids = [_queue.enqueue(jobs.process_image, size_mb, result_ttl=86400).id for _ in range(count)]
    return {"queued": len(ids), "queue": settings.QUEUE_NAME}


@app.get("/stats")
def stats() -> dict:
    done = _redis.get(jobs.DONE_KEY)
    return {"queue": settings.QUEUE_NAME, "queued": len(_queue), "done": int(done or 0)}
