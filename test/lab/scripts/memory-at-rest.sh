#!/usr/bin/env bash
# Memory at rest in the VM, for the lab's report: /proc/meminfo, each container's cgroup charge
# (current, anon, file) and the RSS of host processes by command name. Sections split by `---`.
set -euo pipefail
grep -E '^(MemTotal|MemFree|MemAvailable|Buffers|Cached|Shmem|Slab|SReclaimable|SUnreclaim|KernelStack|PageTables|AnonPages|SwapTotal|SwapFree):' /proc/meminfo
echo ---
for id in $(docker ps -q --no-trunc); do
  n=$(docker inspect -f '{{.Name}}' "$id")
  d=$(find /sys/fs/cgroup -maxdepth 3 -type d -name "*$id*" | head -1)
  cur=$(cat "$d/memory.current")
  anon=$(awk '$1=="anon"{print $2}' "$d/memory.stat")
  file=$(awk '$1=="file"{print $2}' "$d/memory.stat")
  echo "$n $cur $anon $file"
done
echo ---
ps -eo rss=,comm= | awk '{a[$2]+=$1} END {for (k in a) print k, a[k]}' | sort -k2 -nr | head -25
