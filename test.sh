#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test.sh - build and run every test: once as a normal build, once under
# AddressSanitizer + UndefinedBehaviorSanitizer, after the format check
# (clang-format) and the shell check (shellcheck).
#   ./test.sh          everything (what CI runs)
#   ./test.sh --quick  the normal build only
set -euo pipefail
cd "$(dirname "$0")"

scripts/deps.sh

echo "== format check (.clang-format)"
mapfile -t sources < <(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
clang-format --dry-run -Werror "${sources[@]}"

# shell_scripts - every shell script in the tree: the files git tracks
# (all files when this is no git checkout) whose first line is a sh/bash
# shebang, and the *.sh libraries that scripts source (no shebang).
shell_scripts() {
    local f
    { git ls-files 2>/dev/null ||
        find . -type f -not -path './build*' -printf '%P\n'; } |
        while IFS= read -r f; do
            [ -f "$f" ] || continue
            case "$f" in
            *.sh) echo "$f" ;;
            *)
                if head -n 1 "$f" |
                    grep -qE '^#!(/usr)?/bin/(env +)?(ba|da)?sh\b'; then
                    echo "$f"
                fi
                ;;
            esac
        done
}
echo "== shell check (shellcheck $(shellcheck --version |
    sed -n 's/^version: //p'), .shellcheckrc)"
mapfile -t scripts < <(shell_scripts)
shellcheck "${scripts[@]}"
echo "shellcheck: ${#scripts[@]} scripts, no findings"

# Totals over every ctest run, printed as the last line.
passed=0
failed=0

ctest_in() { # ctest_in DIR [CTEST ARGS...]: run ctest, add to the totals
  local dir=$1 summary total bad; shift
  (cd "$dir" && ctest --output-on-failure "$@") | tee "$dir/ctest.out"
  summary=$(grep -E '[0-9]+ tests? failed out of [0-9]+' "$dir/ctest.out" |
    tail -n 1)
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$summary")
  bad=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$summary")
  passed=$((passed + total - bad))
  failed=$((failed + bad))
}

run_build() { # run_build DIR [CMAKE ARGS...]
  local dir=$1; shift
  echo "== build $dir $*"
  cmake -S . -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)"
  ctest_in "$dir" -j2
}

run_check() { # run_check NAME LOG CMD...: run CMD (output in LOG), count it
  local name=$1 log=$2; shift 2
  if "$@" >"$log" 2>&1; then
    echo "$name: passed"
    passed=$((passed + 1))
  else
    cat "$log"
    echo "$name: FAILED"
    failed=$((failed + 1))
  fi
}

build_only() { # build_only DIR CC TYPE: configure and compile, no tests
  CC=$2 cmake -S . -B "$1" -DCMAKE_BUILD_TYPE="$3" -DDANCE_WERROR=ON &&
    cmake --build "$1" -j"$(nproc)"
}

demo_check() { # the demo runs to its result line (output in build/demo.out)
  ./demo.sh && grep -q "result: mutual DANE authentication works" build/demo.out
}

run_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDANCE_WERROR=ON
# The README's first command, as a user runs it (it reuses build/).
echo "== demo.sh (the main job)"
run_check demo.sh build/demo.out demo_check
# issue 11: the Debian package built, installed, used and purged; it
# changes the system, so only when asked (CI sets DANCE_TEST_INSTALL=1).
if [ "${DANCE_TEST_INSTALL:-0}" = 1 ]; then
  echo "== tests/install/deb.sh (cpack -G DEB, apt-get install, purge)"
  run_check deb.sh build/deb.out tests/install/deb.sh build
fi
if [ "${1:-}" != "--quick" ]; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_build build-asan -DCMAKE_BUILD_TYPE=Debug -DDANCE_SANITIZE=ON \
      -DDANCE_WERROR=ON
  # libFuzzer over the firmware-key readers (CBOR, COSE, SUIT, IPSECKEY),
  # a few seconds: only the fuzz target and the tool that seeds it are built.
  echo "== fuzz build-fuzz (clang, libFuzzer)"
  CC=clang cmake -S . -B build-fuzz -DDANCE_FUZZ=ON -DDANCE_FUZZ_SECONDS=5 \
    -DDANCE_WERROR=ON >/dev/null
  cmake --build build-fuzz -j"$(nproc)" --target fuzz_fw dance
  ctest_in build-fuzz -L fuzz
  # Other build types and compilers must build too (warnings as errors):
  # a gcc Release build and a whole-tree clang build, compile only.
  for variant in "build-release:gcc:Release" "build-clang:clang:Debug"; do
    IFS=: read -r dir cc type <<<"$variant"
    echo "== build only: $dir (CC=$cc, $type)"
    mkdir -p "$dir"
    run_check "$dir" "$dir/build.out" build_only "$dir" "$cc" "$type"
  done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
