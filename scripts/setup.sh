#!/usr/bin/env bash
# Installs the system packages Flowbook needs on a fresh Debian/Ubuntu machine.
# Safe to run again: it installs only what is missing. Needs root (or sudo).
set -euo pipefail

packages=(build-essential pkg-config ca-certificates python3)
# The desktop editor's window (X11/Wayland through winit, OpenGL through glow): run-time
# libraries a bare Debian/Ubuntu lacks.
packages+=(libxkbcommon-x11-0 libgl1 libegl1 libx11-6 libxcursor1 libxrandr2 libxi6 libwayland-client0)
# Building the window code: wayland-sys finds libwayland-client through pkg-config.
packages+=(libwayland-dev libxkbcommon-dev)
# Screenshots under a virtual display (../shared/tools/screenshot.sh); CI does not take them.
if [ -z "${CI:-}" ]; then
  packages+=(xvfb imagemagick xdotool)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  cat >&2 <<'MSG'
setup: Rust is not installed. Flowbook needs Rust 1.89 or newer (Debian's packaged rustc is older):
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh
then open a new shell and run this script again.
MSG
  exit 1
fi
echo "setup: ready ($(cargo --version))"
