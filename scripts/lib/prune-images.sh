# shellcheck shell=bash
# Inlined into install-docker.sh, which installs prune_images as the weekly prune's program
# (/usr/local/sbin/app-infra-prune-images, run by docker-prune.service).
#
# prune_images KEPT_FILE MAX_AGE_S
#   Removes every image that no container uses (running or stopped) and that was created at
#   least MAX_AGE_S seconds ago, except the images KEPT_FILE names: one reference per line, the
#   images of the stack's last `releases/keep` releases, which `pulumi up` writes there
#   (src/plan/releases.ts keptImages). So a rollback to any recorded release finds its images on
#   the box even when the registry is down or the tag has moved. Without the file it spares only
#   what is in use, as `docker image prune -a --filter until=…` does (the age is the image's
#   creation date, as there).
#   A reference whose image is not here (never pulled, or removed by hand) spares nothing. An
#   image that cannot be removed is reported and the others still go; the exit status is then 1.
#   Prints one summary line.
prune_images() {
  local kept_file=$1 max_age_s=$2
  local now id ref created created_s containers images err
  local removed=0 failed=0 spared=0 in_use=0 young=0 parents=0
  local -A kept=() used=()
  [[ $max_age_s =~ ^[0-9]+$ ]] || {
    echo "app-infra-prune-images: MAX_AGE_S must be a whole number of seconds, got '$max_age_s'" >&2
    return 2
  }
  # Listed first, so a Docker that does not answer stops the prune before anything is removed.
  containers=$(docker container ls -aq --no-trunc) || return 1
  images=$(docker image ls -q --no-trunc) || return 1
  now=$(date +%s)
  if [[ -r $kept_file ]]; then
    while IFS= read -r ref || [[ -n $ref ]]; do
      [[ -n $ref ]] || continue
      id=$(docker image inspect --format '{{.Id}}' "$ref" 2>/dev/null) || continue
      kept[$id]=1
    done <"$kept_file"
  else
    echo "app-infra-prune-images: no $kept_file (pulumi up writes it); sparing only the images in use"
  fi
  # Every container's image, by ID: a container's reference may name a tag that has moved since.
  # One removed meanwhile is skipped (its inspect fails).
  while IFS= read -r id; do
    [[ -n $id ]] || continue
    id=$(docker container inspect --format '{{.Image}}' "$id" 2>/dev/null) || continue
    used[$id]=1
  done <<<"$containers"
  # The top-level images, tagged or dangling (not their parent layers, which go with them).
  while IFS= read -r id; do
    [[ -n $id ]] || continue
    if [[ -n ${used[$id]:-} ]]; then
      in_use=$((in_use + 1))
    elif [[ -n ${kept[$id]:-} ]]; then
      spared=$((spared + 1))
    else
      created=$(docker image inspect --format '{{.Created}}' "$id" 2>/dev/null) || continue
      created_s=$(date -d "$created" +%s 2>/dev/null) || created_s=0
      if ((now - created_s < max_age_s)); then
        young=$((young + 1))
      # -f: an image with several tags is removed by ID only with it. Docker still refuses to
      # remove an image a running container uses, should a deploy start one meanwhile, and an
      # image another one was built on (a locally built base): that one is kept, not a failure.
      elif err=$(docker image rm -f "$id" 2>&1 >/dev/null); then
        removed=$((removed + 1))
      elif [[ $err == *"has dependent child images"* ]]; then
        parents=$((parents + 1))
      else
        echo "app-infra-prune-images: could not remove $id: $err" >&2
        failed=$((failed + 1))
      fi
    fi
  done < <(sort -u <<<"$images")
  local summary="removed $removed image(s); kept $in_use in use, $spared of the last releases, $young younger than $max_age_s s, $parents with child images"
  ((failed == 0)) || summary+="; $failed could not be removed"
  echo "app-infra-prune-images: $summary"
  ((failed == 0))
}
