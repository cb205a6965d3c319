#!/usr/bin/env bash
# Integer-only deployment check. Trains (or reuses) a 784-256x2-10 MLP and a
# small CNN on MNIST, retrains them at ternary, 3 and 8 bits with the static
# activation quantizer (--act-bits with --act-range pct:99.99, the rule of
# export --integer), exports integer-only models and their C99 sources, then
#   1. host: gcc -std=c99 -O2 -Wall -Wextra -Werror, every MNIST test sample
#      (10,000), lines compared with `resq infer --print`;
#   2. device: arm-none-eabi-gcc for a Cortex-M4 (qemu -M mps2-an386) and a
#      Cortex-M0 (qemu -M microbit, 256 KiB flash, 16 KiB RAM) with newlib
#      semihosting; N_DEVICE test samples (default 200) read through
#      semihosting fopen, lines compared with the Go engine's; flash/RAM from
#      arm-none-eabi-size plus the painted stack; instructions per inference
#      from a TCG plugin (scripts/mcu/icount.c).
# Installs the toolchain with apt when missing (about 90 s, 3 GB). Prints a
# markdown table and writes it to $WORK/mcu-table.md. Exit status 1 on any
# mismatch.
#
# Environment: WORK (default /tmp/resq-mcu; checkpoints there are reused),
# N_DEVICE, NETS (default "mlp cnn"), BITS (default "2 3 8"),
# HOST_ONLY=1 (skip the Cortex-M part).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${WORK:-/tmp/resq-mcu}
N=${N_DEVICE:-200}
NETS=${NETS:-mlp cnn}
BITS=${BITS:-2 3 8}
mkdir -p "$WORK"
t0=$(date +%s)

if [ "${HOST_ONLY:-0}" != 1 ] && ! { command -v arm-none-eabi-gcc && command -v qemu-system-arm &&
	[ -e /usr/lib/arm-none-eabi/newlib/thumb/v6-m/nofp/librdimon.a ]; } >/dev/null 2>&1; then
	echo "mcu-check: installing gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm >"$WORK/apt.log" 2>&1 ||
		{ echo "mcu-check: apt-get install failed, see $WORK/apt.log" >&2; exit 1; }
fi

go build -o "$WORK/resq" ./cmd/resq
R=$WORK/resq
cd "$WORK"

spec() { case $1 in mlp) echo mlp:784-256x2-10 ;; cnn) echo cnn:8c5-p2-16c5-p2-fc64-10 ;; esac; }
epochs() { case $1 in mlp) echo 8 ;; cnn) echo 4 ;; esac; }

fail=0
table=$WORK/mcu-table.md
{
	echo "| model | bits | float32 weight bytes | host lines equal | board | model.o text+rodata | model.o data+bss | image text | image data+bss | stack | heap | device lines equal | instructions/inference |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
} >"$table"

for net in $NETS; do
	[ -f "$net.ckpt" ] || $R train --model "$(spec $net)" --data mnist --epochs "$(epochs $net)" --out "$net.ckpt" >"$net.train.log" 2>&1
	for b in $BITS; do
		ab=8
		[ "$b" = 8 ] && ab=7 # 8-bit weights read 7-bit activation codes
		m=$net-b$b
		[ -f "$m.ckpt" ] || $R retrain "$net.ckpt" --data mnist --bits "$b" --act-bits $ab --act-range pct:99.99 --out "$m.ckpt" >"$m.retrain.log" 2>&1
		$R export "$m.ckpt" --integer --data mnist --out "$m.resq" >/dev/null
		$R export "$m.resq" --format raw-inputs --data mnist --out "$m.in" >/dev/null
		$R infer "$m.resq" --data mnist --print "$m.go.txt"
		fbytes=$($R export "$m.ckpt" --json --out "$m.float-size.resq" | sed 's/.*"float_bytes":\([0-9]*\).*/\1/')
		rm -f "$m.float-size.resq"

		# 1. host
		rm -rf "$m.c" && $R export "$m.resq" --format c --out "$m.c" >/dev/null
		gcc -std=c99 -O2 -Wall -Wextra -Werror -o "$m.c/host" "$m.c/main.c" "$m.c/model.c"
		"$m.c/host" <"$m.in" >"$m.host.txt"
		total=$(wc -l <"$m.go.txt")
		if cmp -s "$m.host.txt" "$m.go.txt"; then host="$total/$total"; else
			host="MISMATCH ($(cmp "$m.host.txt" "$m.go.txt" | head -n 1))"; fail=1
		fi
		echo "mcu-check: host $m: $host lines equal" >&2
		if [ "${HOST_ONLY:-0}" = 1 ]; then
			echo "| $(spec $net) | $b | $fbytes | $host | - | | | | | | | | |" >>"$table"
			continue
		fi

		# 2. device
		head -c $(($(wc -c <"$m.in") / total * N)) "$m.in" >"$m.dev.in"
		head -n "$N" "$m.go.txt" >"$m.dev.want"
		: >"$m.empty"
		for board in mps2-an386 microbit; do
			case $board in
			mps2-an386) cpu=cortex-m4 flash=4M ram=4M stack=8192 ;;
			microbit) cpu=cortex-m0 flash=256K ram=16K stack=2048 ;;
			esac
			d=$m.$board
			rm -rf "$d"
			if ! msg=$($R export "$m.resq" --format c --board $board --out "$d" 2>&1); then
				echo "mcu-check: $m on $board: $msg" >&2
				echo "| $(spec $net) | $b | $fbytes | $host | $board | does not fit: $msg | | | | | | | |" >>"$table"
				continue
			fi
			sed "s/@FLASH@/$flash/; s/@RAM@/$ram/; s/@STACK@/$stack/" "$ROOT/scripts/mcu/link.ld.in" >"$d/link.ld"
			cf="-mcpu=$cpu -mthumb -mfloat-abi=soft -O2 -ffunction-sections -fdata-sections"
			arm-none-eabi-gcc $cf -std=c99 -Wall -Wextra -Werror -c -o "$d/model.o" "$d/model.c"
			arm-none-eabi-gcc $cf -std=c99 -Wall -Wextra -Werror -c -o "$d/main.o" "$d/main.c"
			arm-none-eabi-gcc $cf -Wall -Wextra -c -o "$d/startup.o" "$ROOT/scripts/mcu/startup.c"
			if ! arm-none-eabi-gcc $cf --specs=nano.specs --specs=rdimon.specs -nostartfiles -T "$d/link.ld" -Wl,--gc-sections \
				-o "$d/harness.elf" "$d/startup.o" "$d/main.o" "$d/model.o" 2>"$d/link.err"; then
				echo "mcu-check: $m on $board: link failed: $(head -n 3 "$d/link.err")" >&2
				echo "| $(spec $net) | $b | $fbytes | $host | $board | link failed | | | | | | | |" >>"$table"
				fail=1
				continue
			fi
			read -r otext odata obss _ < <(arm-none-eabi-size "$d/model.o" | tail -n 1)
			read -r itext idata ibss _ < <(arm-none-eabi-size "$d/harness.elf" | tail -n 1)
			[ -f icount.so ] || gcc -shared -fPIC -O2 -Wall -Wextra -o icount.so "$ROOT/scripts/mcu/icount.c"
			run() { # $1 input file; stdout: lines; $d/err: stack, heap, insns
				timeout 900 qemu-system-arm -M $board -nographic -monitor none -serial none \
					-semihosting-config enable=on,target=native,arg=harness,arg="$1" \
					-plugin ./icount.so -d plugin -kernel "$d/harness.elf" 2>"$d/err"
			}
			run "$m.empty" >/dev/null || true
			i0=$(sed -n 's/^insns //p' "$d/err")
			rc=0
			run "$m.dev.in" >"$d/lines.txt" || rc=$?
			iN=$(sed -n 's/^insns //p' "$d/err")
			st=$(sed -n 's/^stack-bytes //p' "$d/err")
			hp=$(sed -n 's/^heap-bytes //p' "$d/err")
			if [ $rc = 0 ] && cmp -s "$d/lines.txt" "$m.dev.want"; then dev="$N/$N"; else
				dev="MISMATCH (rc $rc, $(wc -l <"$d/lines.txt") lines)"; fail=1
			fi
			ipi=$(((${iN:-0} - ${i0:-0}) / N))
			echo "mcu-check: $m on $board ($cpu): $dev lines equal, $ipi instructions/inference" >&2
			echo "| $(spec $net) | $b | $fbytes | $host | $board ($cpu) | $otext | $((odata + obss)) | $itext | $((idata + ibss)) | $st | $hp | $dev | $ipi |" >>"$table"
		done
	done
done
cat "$table"
echo "mcu-check: $(($(date +%s) - t0)) s" >&2
exit $fail
