"""The RQ job: stands in for image work (CPU and memory), run by `rq worker ... img_queue`."""
import hashlib
import os
import time

import redis

from app import settings

DONE_KEY = "app:jobs_done"


def process_image(size_mb: int = 50, hold_s: float = 0) -> str:
    """Holds size_mb of real (touched) memory and hashes it, like decoding and resizing an image.

    hold_s keeps the memory for that long first: a long job, as a slow image job is, for testing
    what a deploy does to jobs in flight."""
    block = os.urandom(1024 * 1024)
    data = block * size_mb  # one allocation of size_mb MB, every page written
    if hold_s > 0:
        time.sleep(hold_s)
    digest = hashlib.sha256(data).hexdigest()
    del data
    # A counter the operator (and the lab) can read: every finished job counts once.
    redis.Redis.from_url(settings.REDIS_URL).incr(DONE_KEY)
    return digest
