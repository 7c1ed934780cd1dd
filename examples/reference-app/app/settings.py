"""What the app reads from its environment: the contract app-infra's containers follow (README.md)."""
import os

# Set by app-infra for api, bot and workers: Redis by its service name on the private network.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# The stack's name (dev, prod, ...), for logs and keys.
APP_STACK = os.environ.get("APP_STACK", "dev")
# The RQ queue the workers listen on: app-infra passes services/worker/queue to `rq worker` as an
# argument, not as an environment variable, so the API must use the same name (default img_queue).
QUEUE_NAME = os.environ.get("QUEUE_NAME", "img_queue")
