# Sourced by the scripts that run a Python peer (interop-peers.sh, embedded-example/run.sh).
#
# ensure_venv DIR REQUIREMENTS: a venv in DIR with REQUIREMENTS installed, each step skipped when already
# done (the installed requirements file is kept in the venv and compared). Installs python3/python3-venv
# from Debian when they are missing. Uses the caller's `say`, `die` and `apt_install`.
ensure_venv() {
  local dir=$1 requirements=$2
  command -v python3 > /dev/null || apt_install python3 python3-venv || die "python3 is missing"
  if ! "$dir/bin/python" -c 'import sys' > /dev/null 2>&1; then
    say "creating the Python venv $dir"
    if ! python3 -m venv --clear "$dir" > /dev/null 2>&1; then
      apt_install python3-venv || die "python3 -m venv failed and python3-venv could not be installed"
      python3 -m venv --clear "$dir" || die "python3 -m venv failed"
    fi
  fi
  if ! cmp -s "$requirements" "$dir/.installed-requirements"; then
    say "pip install -r $requirements"
    "$dir/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements" \
      || die "pip install failed"
    cp "$requirements" "$dir/.installed-requirements"
  fi
}
