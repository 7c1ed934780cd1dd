#!/usr/bin/env bash
# The functions install-watchdog.sh and install-backup.sh share, inlined into them when they ship:
# both read secrets after their own text on stdin, write files only when their content differs,
# and (re)start a systemd timer. Not run on its own. Each script that uses it has, where the
# functions would be, the line
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/installer.sh"
# followed by the inline mark (INLINE_MARK, src/plan/inline.ts). From a checkout the line sources
# this file (`bash scripts/install-watchdog.sh 60 < payload-file`); readScript
# (components/host.ts) replaces the line with this text, minus the shebang, in the text it ships:
# a host script travels alone on the SSH stdin, so it must be self-contained.
# Needs from the script: say, NAME (the unit's name), PAYLOAD_KEYS (" KEY1 KEY2 … ", spaces around
# each), DESTDIR, UNIT_DIR, and the arrays problems and changed and the flag units_changed (main
# sets them empty). SYSTEMCTL (environment): the systemctl command prefix, `:` for tests.

# Reads the payload that follows this script on stdin; a key already set keeps its value.
read_payload() {
  local line key value expected
  if [[ -t 0 ]]; then return 0; fi
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    if [[ -z $line || $line == \#* ]]; then continue; fi
    key=${line%%=*} value=${line#*=}
    if [[ $line != *=* || $PAYLOAD_KEYS != *" $key "* ]]; then
      # " A B C " -> "A=, B=, C="
      expected=${PAYLOAD_KEYS# }
      expected=${expected% }
      problems+=("payload: lines should be one of ${expected// /=, }= (got ${key:0:40})")
      continue
    fi
    if [[ $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
    if [[ -z ${!key+x} ]]; then printf -v "$key" '%s' "$value"; fi
  done
}

# decode VAR FILE: base64 fed by a builtin on stdin, so no value reaches an argv.
decode() {
  local var=$1 out=$2
  if ! base64 -d >"$out" 2>/dev/null <<<"${!var}"; then
    problems+=("$var: should be base64 (decoding failed)")
  fi
}

# put SRC PATH MODE: install SRC at DESTDIR/PATH unless the same content is already there.
put() {
  local src=$1 path=$2 mode=$3 dest=$DESTDIR$2 dir
  dir=${dest%/*}
  if [[ ! -d $dir ]]; then install -d -m 0755 "$dir"; fi
  if [[ -f $dest ]] && cmp -s "$src" "$dest"; then
    if [[ $(stat -c %a "$dest") != "${mode#0}" ]]; then
      chmod "$mode" "$dest"
      say "fixed mode $mode of $path"
    fi
    return 0
  fi
  install -m "$mode" "$src" "$dest.new"
  mv -f "$dest.new" "$dest"
  changed+=("$path")
  say "wrote $path"
  if [[ $path == "$UNIT_DIR"/* ]]; then units_changed=1; fi
}

# start_timer WHEN: enables and starts NAME.timer; when a unit changed, reloads systemd first and
# restarts the timer (a running timer keeps its old schedule until restarted). Then says what
# changed; WHEN is the schedule in words.
start_timer() {
  local when=$1
  local -a systemctl
  read -ra systemctl <<<"${SYSTEMCTL:-systemctl}"
  if ((units_changed)); then "${systemctl[@]}" daemon-reload </dev/null; fi
  "${systemctl[@]}" enable --now "$NAME.timer" </dev/null
  if ((units_changed)); then "${systemctl[@]}" restart "$NAME.timer" </dev/null; fi
  if ((${#changed[@]} == 0)); then
    say "unchanged (timer enabled, $when)"
  elif ((units_changed)); then
    say "${#changed[@]} file(s) changed, systemd reloaded, timer restarted ($when)"
  else
    say "${#changed[@]} file(s) changed, timer enabled ($when)"
  fi
}
