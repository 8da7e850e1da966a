#!/usr/bin/env bash
# Install the Debian packages that the local-container tests use, when missing:
#   bubblewrap (bwrap: the preferred sandbox), busybox-static (the test images), proot (the unprivileged sandbox
#   and udocker's P1 engine), fakechroot and patchelf (udocker's F1 engine: the tests build udocker's engine
#   from these three instead of downloading udocker's own tarball), docker-registry and apache2-utils (a real
#   OCI registry on 127.0.0.1 for the registry tests, with htpasswd for its basic auth).
# Idempotent: does nothing when all are there. Not root: prints what to install and exits 0 (those tests skip).
set -euo pipefail

declare -A provides=([bubblewrap]=bwrap [busybox-static]=busybox [proot]=proot [fakechroot]=fakechroot
                    [patchelf]=patchelf [docker-registry]=docker-registry [apache2-utils]=htpasswd)
missing=()
for package in bubblewrap busybox-static proot fakechroot patchelf docker-registry apache2-utils; do
  if ! command -v "${provides[$package]}" >/dev/null 2>&1; then
    missing+=("$package")
  elif [ "$package" = busybox-static ] && ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
    # a dynamically linked busybox (package busybox) cannot run inside a bare image
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-system-deps: bubblewrap, busybox-static, proot, fakechroot, patchelf, docker-registry and" \
       "apache2-utils are installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: missing ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
  echo "install-system-deps: the tests that need them will be skipped" >&2
  exit 0
fi
echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
