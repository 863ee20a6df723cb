#!/usr/bin/env bash
# Check for the system packages priorauth needs on Debian; install them when
# running as root, otherwise stop with the exact command to run.
#
#   scripts/ensure-system-deps.sh run    Python venv support, Pango and fonts (WeasyPrint)
#   scripts/ensure-system-deps.sh test   the above, plus poppler-utils and Chromium
#
# Exit status: 0 when everything is present (or was installed), 1 otherwise.
set -euo pipefail

purpose="${1:-run}"
python="${PYTHON:-python3}"
case "$purpose" in
  run | test) ;;
  *)
    echo "usage: $0 [run|test]" >&2
    exit 2
    ;;
esac

missing=()

need() {
  # need PACKAGE WHAT CHECK...: queue PACKAGE when the check command fails.
  local package="$1" what="$2"
  shift 2
  if ! "$@" >/dev/null 2>&1; then
    echo "missing: $what (Debian package $package)" >&2
    missing+=("$package")
  fi
}

# grep reads all its input (no -q): with pipefail, an early exit would turn the
# writer's SIGPIPE into a failed check.
has_library() {
  ldconfig -p 2>/dev/null | grep -F "$1" >/dev/null \
    || compgen -G "/usr/lib/*/$1*" >/dev/null \
    || compgen -G "/usr/lib/$1*" >/dev/null
}

has_font() {
  command -v fc-list >/dev/null && fc-list 2>/dev/null | grep -Fi "$1" >/dev/null
}

# `python3 -m venv` needs ensurepip, which Debian ships separately.
need python3-venv "Python venv support" "$python" -c "import ensurepip, venv"

# WeasyPrint: Pango for text layout, HarfBuzz subsetting for embedded fonts
# (WeasyPrint's installation notes for Debian), and fontconfig with a font family
# as a fallback behind the fonts the documents bundle.
need libpango-1.0-0 "Pango (libpango-1.0)" has_library libpango-1.0.so
need libpangoft2-1.0-0 "Pango FreeType backend (libpangoft2-1.0)" has_library libpangoft2-1.0.so
need libharfbuzz-subset0 "HarfBuzz subsetting (libharfbuzz-subset)" has_library libharfbuzz-subset.so
need fontconfig "fontconfig (fc-list)" command -v fc-list
need fonts-liberation2 "Liberation fonts" has_font "Liberation Sans"

if [[ "$purpose" == test ]]; then
  # Tests render letter pages to images, and drive a real headless browser.
  need poppler-utils "poppler-utils (pdftoppm, pdftotext, pdfsig)" command -v pdfsig
  need chromium "Chromium (headless browser tests)" command -v chromium
fi

if ((${#missing[@]} == 0)); then
  exit 0
fi

# Unique, in order of discovery.
mapfile -t packages < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
install=(apt-get install -y --no-install-recommends "${packages[@]}")

if ! command -v apt-get >/dev/null; then
  echo "This is not a Debian-based system: install the equivalents of: ${packages[*]}" >&2
  exit 1
fi

if [[ "$(id -u)" -ne 0 ]]; then
  echo >&2
  echo "priorauth needs system packages that are not installed. Run:" >&2
  echo >&2
  echo "    sudo apt-get update && sudo ${install[*]}" >&2
  echo >&2
  echo "then run make again." >&2
  exit 1
fi

echo "installing: ${packages[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update
"${install[@]}"
