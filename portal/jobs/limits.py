"""Per-kind concurrency limits across every worker: a counting semaphore in Redis.

A slot is a member of a sorted set per kind (`<prefix>:slots:<kind>`), scored by when its lease
ends; a worker killed mid-job leaves a slot that lapses after the lease (the longest a job may
run). Taking a slot is one Lua script (drop lapsed slots, count, add), so two workers never
both take the last one. A job that finds its kind full goes back to the schedule for a few
seconds and the worker takes the next job: another kind's jobs keep flowing.

Without Redis (SqliteHuey, `make run`) there is one local worker and no limit is applied.
"""

import time

ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  return 1
end
if tonumber(ARGV[3]) > 0 and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
return 1
"""


class KindSemaphores:
    def __init__(self, redis_client, prefix: str, limits: dict[str, int], lease_seconds: float):
        self.redis = redis_client
        self.prefix = prefix
        self.limits = limits
        self.lease_seconds = lease_seconds
        self._acquire = redis_client.register_script(ACQUIRE)

    def key(self, kind: str) -> str:
        return f"{self.prefix}:slots:{kind}"

    def acquire(self, kind: str, token: str) -> bool:
        limit = self.limits.get(kind, 0)
        if not limit:
            return True
        now = time.time()
        taken = self._acquire(
            keys=[self.key(kind)], args=[now, now + self.lease_seconds, limit, token]
        )
        return bool(taken)

    def release(self, kind: str, token: str) -> None:
        if self.limits.get(kind, 0):
            self.redis.zrem(self.key(kind), token)

    def running(self, kind: str) -> int:
        """Slots held now (jobs of the kind running on some worker)."""
        key = self.key(kind)
        self.redis.zremrangebyscore(key, "-inf", time.time())
        return int(self.redis.zcard(key))
