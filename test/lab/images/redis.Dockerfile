# Stand-in for redis:7.4.6-alpine, which cannot be pulled here (no registry): Debian 12's
# redis-server (7.0) on the lab's debootstrapped base, tagged `redis:7.4.6-alpine` by the lab so
# the program's redis container spec (image, command, healthcheck `redis-cli PING`) runs unchanged.
#
# Protected mode: the official image is built with Redis' protected-mode default switched off
# (its Dockerfile patches src/config.c: "disable Redis protected mode as it is unnecessary in
# context of Docker"). Debian's build keeps it on, and then Redis started without a config file
# refuses every client that is not on loopback — the api, bot and workers reach it over the
# app-infra network. The entrypoint does what the official image does for a `redis-server`
# command: protected mode off (the network is private and Redis publishes no port). It is part of
# the lab's base (test/lab/build-image.sh), so this build runs no container.
# Other differences: Redis 7.0 not 7.4, runs as root.
FROM app-infra-lab/base:bookworm
WORKDIR /data
ENTRYPOINT ["/usr/local/bin/redis-stand-in-entrypoint.sh"]
CMD ["redis-server"]
