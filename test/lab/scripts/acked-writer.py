# The lab's Redis client: RPUSHes 1, 2, 3, … to lab:acked as fast as Redis answers, retrying through
# an outage, until SIGTERM; then prints one JSON line: how many pushes Redis acknowledged, how many
# of those are missing from the list now (acknowledged writes lost), and the errors seen.
import json
import os
import signal
import time

import redis

stop = False


def on_term(signum, frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
r = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2)
acked = []
errors = 0
i = 0
r.delete("lab:acked")
while not stop:
    i += 1
    try:
        r.rpush("lab:acked", i)
        acked.append(i)
    except redis.RedisError:
        errors += 1
        time.sleep(0.2)
    time.sleep(0.01)
for _ in range(60):
    try:
        have = set(int(x) for x in r.lrange("lab:acked", 0, -1))
        break
    except redis.RedisError:
        time.sleep(1)
else:
    have = set()
print(json.dumps({"acked": len(acked), "lost": sum(1 for x in acked if x not in have), "errors": errors}), flush=True)
