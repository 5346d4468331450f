#!/usr/bin/env bash
# Generates the kiosk's sounds into ui/sounds/ (maintainers only: the files are committed and CI
# never runs this). Usage: scripts/make-sounds.sh
#   tones:  beep (countdown), shutter, chime (paid): synthesised with sox, our own work
#   speech: scan, look, prints in uz, ru, en: espeak-ng (GPL-3; the audio it outputs is not
#           covered by its licence), see docs/sound.md
# Output: Ogg Opus, mono, 48 kHz (WebKitGTK decodes it with gstreamer1.0-plugins-base, which
# libwebkit2gtk-4.1-0 depends on; Chromium plays it natively). Re-running gives the same files
# for the same tool versions (fixed Ogg serial numbers, no comments but the encoder's).
set -euo pipefail
cd "$(dirname "$0")/.."
out=ui/sounds
need=()
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
command -v opusenc >/dev/null || need+=(opus-tools)
if [ ${#need[@]} -gt 0 ]; then
  sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y --no-install-recommends "${need[@]}"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
export SOX_OPTS=-R  # repeatable noise and dither

# WAV (any rate) → Ogg Opus at $2 kbit/s.
enc() {
  sox "$1" -b 16 -t wav - | opusenc --quiet --serial 1 --bitrate "$2" --downmix-mono --comp 10 - "$3"
}

# ---- tones (48 kHz mono, peaks at -3 dBFS)
# Countdown beep: 0.12 s of 880 Hz with soft edges.
sox -n -r 48000 -c 1 "$tmp/beep.wav" synth 0.12 sine 880 fade q 0.005 0.12 0.04 norm -3
# Shutter: two short filtered noise clicks 70 ms apart (opening and closing blades).
sox -n -r 48000 -c 1 "$tmp/click.wav" synth 0.025 whitenoise vol 0.5 highpass 1500 fade q 0.001 0.025 0.02
sox -n -r 48000 -c 1 "$tmp/gap.wav" trim 0 0.045
sox "$tmp/click.wav" "$tmp/gap.wav" "$tmp/click.wav" "$tmp/shutter.wav" norm -3
# Paid chime: C6, E6, G6 plucked, each 90 ms after the other, ringing out.
sox -n -r 48000 -c 1 "$tmp/n1.wav" synth 0.9 pluck C6 fade q 0.002 0.9 0.6
sox -n -r 48000 -c 1 "$tmp/n2.wav" synth 0.9 pluck E6 fade q 0.002 0.9 0.6 pad 0.09
sox -n -r 48000 -c 1 "$tmp/n3.wav" synth 0.9 pluck G6 fade q 0.002 0.9 0.6 pad 0.18
sox -m "$tmp/n1.wav" "$tmp/n2.wav" "$tmp/n3.wav" "$tmp/chime.wav" norm -3
for t in beep shutter chime; do enc "$tmp/$t.wav" 48 "$out/$t.ogg"; done

# ---- speech: the moments that matter (the QR is on screen, the camera is about to shoot,
# the prints are out). Text in the customer's language; voices of espeak-ng.
declare -A VOICE=([uz]=uz [ru]=ru [en]=en-us)
declare -A TEXT=(
  [uz.scan]="Kodni telefoningiz bilan skanerlang"
  [uz.look]="Kameraga qarang"
  [uz.prints]="Suratlaringizni oling"
  [ru.scan]="Отсканируйте код телефоном"
  [ru.look]="Смотрите в камеру"
  [ru.prints]="Заберите ваши фотографии"
  [en.scan]="Scan the code with your phone to pay"
  [en.look]="Look at the camera"
  [en.prints]="Please take your prints"
)
for lang in uz ru en; do
  for p in scan look prints; do
    espeak-ng -v "${VOICE[$lang]}" -s 150 -w "$tmp/raw.wav" "${TEXT[$lang.$p]}"
    # Trim the silence at both ends, normalise.
    sox "$tmp/raw.wav" "$tmp/$lang-$p.wav" silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse norm -3
    enc "$tmp/$lang-$p.wav" 24 "$out/$p-$lang.ogg"
  done
done
du -cb "$out"/*.ogg | tail -1 | awk '{printf "ui/sounds: %d files, %.1f KB\n", '"$(ls "$out"/*.ogg | wc -l)"', $1/1024}'
