# Shared by scripts/install-*: make Debian's trixie and sid suites available to apt, pinned
# below bookworm, with the mirror the machine already uses (never a hard-coded host).
# Source it after defining log() and die(); then call ensure_extra_suites and apt_update.
#
# Environment: DEBIAN_MIRROR  Debian archive URI (default: the machine's bookworm source)

APT_SRC_DIR=/etc/apt/sources.list.d
OUR_SOURCES=$APT_SRC_DIR/offline-stack-extra-suites.sources
OUR_PREFS=/etc/apt/preferences.d/offline-stack-extra-suites

# Print the URI used for the main bookworm suite in the machine's apt sources.
bookworm_mirror() {
  local f
  # deb822 files: a stanza with "Suites: ... bookworm ..." -> its "URIs:" value
  for f in "$APT_SRC_DIR"/*.sources; do
    [ -e "$f" ] || continue
    awk '
      BEGIN { uri=""; suites="" }
      /^[[:space:]]*$/ { if (uri != "" && suites ~ /(^| )bookworm( |$)/) { print uri; exit } uri=""; suites=""; next }
      /^URIs:/   { uri=$2 }
      /^Suites:/ { $1=""; suites=$0 " " }
      END { if (uri != "" && suites ~ /(^| )bookworm( |$)/) print uri }
    ' "$f"
  done | head -n1
  # one-line format
  for f in /etc/apt/sources.list "$APT_SRC_DIR"/*.list; do
    [ -e "$f" ] || continue
    awk '$1=="deb" { i=2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1)=="bookworm") { print $i; exit } }' "$f"
  done | head -n1
}

suite_configured() {  # $1 = suite name; true if any enabled apt source lists it
  local s=$1 f
  for f in "$APT_SRC_DIR"/*.sources; do
    [ -e "$f" ] || continue
    grep -Eq "^Suites:.*[[:space:]]$s([[:space:]]|\$)" "$f" && return 0
  done
  for f in /etc/apt/sources.list "$APT_SRC_DIR"/*.list; do
    [ -e "$f" ] || continue
    grep -Eq "^deb[[:space:]].*[[:space:]]${s}[[:space:]]" "$f" && return 0
  done
  return 1
}

ensure_extra_suites() {  # add trixie+sid sources and pins unless present
  need_update=0
  if [ -e "$OUR_SOURCES" ] || { suite_configured trixie && suite_configured sid; }; then
    log "apt sources for trixie and sid: present"
  else
    mirror=${DEBIAN_MIRROR:-$(bookworm_mirror | head -n1)}
    [ -n "$mirror" ] || die "cannot find the Debian mirror in the apt sources; set DEBIAN_MIRROR"
    log "adding apt sources for trixie and sid ($OUR_SOURCES, mirror from the machine's apt sources)"
    cat > "$OUR_SOURCES" <<EOF
# Added by scripts/lib/debian-suites.sh: newer packages (Docker, Prometheus, nginx). Pinned low in
# $OUR_PREFS so nothing is taken from here unless asked for by name (pkg/suite).
Types: deb
URIs: $mirror
Suites: trixie sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
Check-Valid-Until: no
EOF
    need_update=1
  fi
  if [ -e "$OUR_PREFS" ] || grep -Eqs 'n=sid' /etc/apt/preferences /etc/apt/preferences.d/*; then
    log "apt pins for trixie/sid: present"
  else
    log "pinning trixie (100) and sid (50) below bookworm ($OUR_PREFS)"
    cat > "$OUR_PREFS" <<'EOF'
# Added by scripts/lib/debian-suites.sh: never prefer trixie/sid over bookworm.
Package: *
Pin: release n=trixie
Pin-Priority: 100

Package: *
Pin: release n=sid
Pin-Priority: 50
EOF
  fi
  [ "$need_update" = 1 ] && apt_update
  return 0
}

apt_updated=0
apt_update() {
  [ "$apt_updated" = 1 ] && return 0
  log "apt-get update"
  apt-get update -o Acquire::Check-Valid-Until=false -o DPkg::Lock::Timeout=300 -qq
  apt_updated=1
}
