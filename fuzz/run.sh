#!/usr/bin/env bash
# Fuzzes each target for a bounded time with cargo-fuzz (libFuzzer, with
# AddressSanitizer) and exits non-zero if any target found a crash: a panic,
# a failed property (a router 5xx, a forged token that verifies, a mapper
# that overwrites a protected claim), a sanitizer report, a timeout or OOM.
# Not part of CI. Needs a nightly toolchain and cargo-fuzz
# (`cargo install cargo-fuzz`).
#
#   fuzz/run.sh [TARGET...]        all targets when none is named
#
# FUZZ_SECONDS   seconds per target (default 60)
# FUZZ_TOOLCHAIN toolchain to build with (default nightly)
# FUZZ_CMIN      1 (default): minimise each corpus afterwards, so what is
#                kept in fuzz/corpus/ stays small; 0: keep every input
#
# Corpora live in fuzz/corpus/<target>/ (seeds, regressions and what earlier
# runs found); a crash is saved under fuzz/artifacts/<target>/ and printed
# with the command that replays it.
set -euo pipefail
cd "$(dirname "$0")"

seconds=${FUZZ_SECONDS:-60}
toolchain=${FUZZ_TOOLCHAIN:-nightly}

if ! cargo "+$toolchain" --version >/dev/null 2>&1; then
  echo "fuzz/run.sh: no $toolchain toolchain (rustup toolchain install $toolchain)" >&2
  exit 2
fi
if ! cargo "+$toolchain" fuzz --version >/dev/null 2>&1; then
  echo "fuzz/run.sh: cargo-fuzz is missing (cargo install cargo-fuzz)" >&2
  exit 2
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo "+$toolchain" fuzz list)
fi

cargo "+$toolchain" fuzz build -O
triple=$(rustc "+$toolchain" -vV | sed -n 's/^host: //p')
mkdir -p target

failed=()
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  echo "== $target: ${seconds}s" >&2
  case "$target" in
    router|oauth_params) dict=dict/oauth.dict ;;
    token_verify) dict=dict/jwt.dict ;;
    config_toml) dict=dict/config.dict ;;
    *) dict= ;;
  esac
  if ! cargo "+$toolchain" fuzz run -O "$target" "corpus/$target" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
      ${dict:+-dict="$dict"} -print_final_stats=1 2> "target/$target.log"; then
    failed+=("$target")
    tail -n 60 "target/$target.log" >&2
  else
    grep -E '^(stat::number_of_executed_units|stat::new_units_added|#[0-9]+.*DONE)' "target/$target.log" >&2 || true
  fi
  if [ "${FUZZ_CMIN:-1}" = 1 ]; then
    # The smallest set of inputs that keeps every feature found (smaller
    # than `cargo fuzz cmin`'s plain merge).
    rm -rf "target/cmin-$target" && mkdir -p "target/cmin-$target"
    if "target/$triple/release/$target" -set_cover_merge=1 "target/cmin-$target" "corpus/$target" \
        > "target/$target.cmin.log" 2>&1; then
      find "corpus/$target" -type f ! -name 'seed-*' ! -name 'regression-*' -delete
      cp "target/cmin-$target"/* "corpus/$target/" 2>/dev/null || true
    fi
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz/run.sh: failed: ${failed[*]} (crashing inputs under fuzz/artifacts/, logs in fuzz/target/TARGET.log)" >&2
  exit 1
fi
echo "fuzz/run.sh: ${#targets[@]} targets, ${seconds}s each, no crash" >&2
