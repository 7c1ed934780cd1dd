"""Stand-in for the Telegram bot: the container's default command (`python3 -m app.bot`).

Telegram allows one long-poller per token (a second one gets 409 Conflict), so the bot must be a
singleton. It holds a Redis lock (`SET bot:lock <token> NX EX 15`, renewed every 5 s) and exits
with status 3 if another instance holds it. Telegram itself is not reached: it heartbeats instead.
"""
import os
import signal
import sys
import time
import uuid

import redis

from app import settings

LOCK_KEY = "bot:lock"
LOCK_TTL_S = 15
RENEW_S = 5
# A restarted bot may find the lock of its own previous run (killed without releasing it): wait
# up to one TTL for it to expire before deciding another instance really holds it.
WAIT_S = int(os.environ.get("BOT_LOCK_WAIT_S", LOCK_TTL_S + 2))

# Renew only our own lock, atomically.
RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) else return 0 end"
RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"

stopping = False


def on_sigterm(signum, frame):
    # PID 1 in a container ignores SIGTERM unless it installs a handler: without this, `docker
    # stop` would wait stopTimeout and then SIGKILL.
    global stopping
    stopping = True


def main() -> int:
    if not os.environ.get("BOT_TOKEN"):
        print("bot: BOT_TOKEN is not set", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, on_sigterm)
    r = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    me = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    deadline = time.monotonic() + WAIT_S
    while not r.set(LOCK_KEY, me, nx=True, ex=LOCK_TTL_S):
        if stopping or time.monotonic() > deadline:
            print(f"bot: another instance holds {LOCK_KEY} ({r.get(LOCK_KEY)!r}); exiting", file=sys.stderr, flush=True)
            return 3
        time.sleep(1)
    print(f"bot: started as {me} (stack {settings.APP_STACK}); holding {LOCK_KEY}", flush=True)
    try:
        while not stopping:
            if not r.eval(RENEW, 1, LOCK_KEY, me, LOCK_TTL_S):
                print("bot: lost the singleton lock; exiting", file=sys.stderr, flush=True)
                return 4
            r.set("bot:heartbeat", int(time.time()))
            for _ in range(RENEW_S * 10):
                if stopping:
                    break
                time.sleep(0.1)
    finally:
        try:
            r.eval(RELEASE, 1, LOCK_KEY, me)
        except redis.RedisError:
            pass  # Redis may be stopping too; the lock expires by itself
    print("bot: stopped (SIGTERM)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
