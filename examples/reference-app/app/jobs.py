"""The RQ job: stands in for image work (CPU and memory), run by `rq worker ... img_queue`."""
import hashlib
import os

import redis

from app import settings

DONE_KEY = "app:jobs_done"


def process_image(size_mb: int = 50) -> str:
    """Holds size_mb of real (touched) memory and hashes it, like decoding and resizing an image."""
    block = os.urandom(1024 * 1024)
    data = block * size_mb  # one allocation of size_mb MB, every page written
    digest = hashlib.sha256(data).hexdigest()
    del data
    # A counter the operator (and the lab) can read: every finished job counts once.
    redis.Redis.from_url(settings.REDIS_URL).incr(DONE_KEY)
    return digest
