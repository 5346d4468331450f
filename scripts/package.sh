#!/usr/bin/env bash
# Builds the Debian package from the workspace's binaries: scripts/package.sh [release|debug]
# (default release). Builds `fotobox` and `fotobox-kiosk` with cargo (nothing to do when they are
# fresh), assembles the package tree (binaries, both systemd units, the .desktop file and icon,
# the manual and the example config), computes Depends with dpkg-shlibdeps, and writes
# target/<profile>/fotobox_<version>_<arch>.deb with `dpkg-deb --build --root-owner-group`.
# The package's description is packaging/deb/control.in; the Tauri bundler builds no package.
# Prints the path of the .deb as its last line. DEB_MAINTAINER sets the Maintainer field.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

profile=${1:-release}
# The debug package (the CI check) is compressed fast: xz -1 took 14 s against 87 s for the
# default -6 here, for 22 MiB instead of 19 MiB.
case "$profile" in
  release) cargo_profile=(--release) compress=() ;;
  debug) cargo_profile=() compress=(-Zxz -z1) ;;
  *) echo "usage: $0 [release|debug]" >&2; exit 2 ;;
esac
for cmd in dpkg-deb dpkg-shlibdeps strip; do
  command -v "$cmd" >/dev/null || { echo "package: $cmd is missing (scripts/setup.sh kiosk installs it)" >&2; exit 1; }
done

echo "== cargo build ($profile) -p fotobox -p fotobox-kiosk" >&2
cargo build --locked "${cargo_profile[@]}" -p fotobox -p fotobox-kiosk >&2

version=$(sed -n '/^\[workspace\.package\]/,/^\[/s/^version = "\(.*\)"$/\1/p' Cargo.toml)
[ -n "$version" ] || { echo "package: no version in Cargo.toml [workspace.package]" >&2; exit 1; }
arch=$(dpkg --print-architecture)
maintainer=${DEB_MAINTAINER:-Fotobox maintainers <maintainers@fotobox.invalid>}
bin_dir=target/$profile
out=$bin_dir/fotobox_${version}_${arch}.deb

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# dpkg-shlibdeps expects a source tree: debian/control and the package under debian/<name>.
root=$work/debian/fotobox
mkdir -p "$root/DEBIAN"
printf 'Source: fotobox\n\nPackage: fotobox\nArchitecture: any\n' >"$work/debian/control"

# Binaries without debug info (the symbols stay, so a backtrace still names functions).
for b in fotobox fotobox-kiosk; do
  install -D -m 0755 "$bin_dir/$b" "$root/usr/bin/$b"
  strip --strip-debug "$root/usr/bin/$b"
done
install -D -m 0644 packaging/fotobox.service "$root/usr/lib/systemd/system/fotobox.service"
install -D -m 0644 packaging/fotobox-kiosk.service "$root/usr/lib/systemd/user/fotobox-kiosk.service"
install -D -m 0644 packaging/fotobox-kiosk.desktop "$root/usr/share/applications/fotobox-kiosk.desktop"
install -D -m 0644 icons/icon.png "$root/usr/share/icons/hicolor/512x512/apps/fotobox-kiosk.png"
install -d -m 0755 "$root/usr/share/doc/fotobox/examples" "$root/etc/fotobox"
install -m 0644 docs/*.md "$root/usr/share/doc/fotobox/"
install -m 0644 fotobox.example.toml "$root/usr/share/doc/fotobox/examples/"
install -m 0755 packaging/deb/postinst "$root/DEBIAN/postinst"

shlibs=$(cd "$work" && dpkg-shlibdeps -O debian/fotobox/usr/bin/fotobox debian/fotobox/usr/bin/fotobox-kiosk)
shlibs=${shlibs#shlibs:Depends=}
[ -n "$shlibs" ] || { echo "package: dpkg-shlibdeps found no libraries" >&2; exit 1; }
# adduser: the postinst creates the system user.
depends="$shlibs, adduser"
size=$(du -sk --apparent-size --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" \
  -e "s|@INSTALLED_SIZE@|$size|" -e "s|@DEPENDS@|$depends|" \
  packaging/deb/control.in >"$root/DEBIAN/control"
if grep -n '@[A-Z_]*@' "$root/DEBIAN/control" >&2; then
  echo "package: a placeholder of packaging/deb/control.in is left unfilled" >&2
  exit 1
fi

dpkg-deb "${compress[@]}" --build --root-owner-group "$root" "$out" >&2
echo "$out"
