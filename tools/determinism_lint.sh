#!/usr/bin/env bash
# The determinism lint: sim/, broker/ and model/ must reach time, randomness, threads and IO only
# through the simulated world. Fails (exit 1) naming every offending line.
#
# Usage: tools/determinism_lint.sh [ROOT]   (ROOT defaults to the repository root)
# Comments are ignored, so prose may name what it forbids. A line may opt out with a trailing
# "// determinism-lint: allow <reason>" when the use is provably outside any simulation.
set -uo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}

patterns=(
  'std::chrono::(system_clock|steady_clock|high_resolution_clock)'
  '(^|[^_[:alnum:]:.>])(gettimeofday|clock_gettime|time)[[:space:]]*\((NULL|nullptr|0)?\)'
  'std::(this_thread|thread|jthread|async)([^_[:alnum:]]|$)'
  'pthread_create'
  '#include[[:space:]]*<(random|thread|future|fstream|filesystem)>'
  'std::(random_device|mt19937|mt19937_64|minstd_rand|default_random_engine)'
  'std::(uniform_int|uniform_real|normal|bernoulli|exponential|poisson)_distribution'
  '(^|[^_[:alnum:]:.>])(rand|srand|random|drand48)[[:space:]]*\('
  'std::(ifstream|ofstream|fstream)'
  '(^|[^_[:alnum:]:.>])(fopen|creat|socket|getenv|secure_getenv)[[:space:]]*\('
  '(^|[^_[:alnum:]])::(open|read|write|close|mmap)[[:space:]]*\(|open[[:space:]]*\([^)]*O_(RDONLY|WRONLY|RDWR|CREAT)'
  'std::getenv'
  'std::unordered_(map|set)<[^>]*\*'
)

# Files that legitimately touch the OS: the fiber stack allocator (mmap) and the sanitizer shim.
exempt='(_test\.cpp|/bench_[^/]*\.cpp|sim/stack_pool\.cpp|sim/asan_fiber_shim\.cpp)$'

status=0
count=0
while IFS= read -r f; do
  [[ "$f" =~ $exempt ]] && continue
  count=$((count + 1))
  stripped=$(sed -E 's#//.*$##' "$f")
  for p in "${patterns[@]}"; do
    while IFS= read -r hit; do
      [ -z "$hit" ] && continue
      n=${hit%%:*}
      original=$(sed -n "${n}p" "$f")
      [[ "$original" == *"determinism-lint: allow "* ]] && continue
      echo "determinism lint: ${f#"$root"/}:$n: $original"
      echo "  forbidden in sim/, broker/, model/ (matches /$p/): go through sim::Env"
      status=1
    done <<< "$(grep -nE -- "$p" <<< "$stripped")"
  done
done < <(find "$root/sim" "$root/broker" "$root/model" -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) 2>/dev/null | sort)

[ $status -eq 0 ] && echo "determinism lint: clean ($count files)"
exit $status
