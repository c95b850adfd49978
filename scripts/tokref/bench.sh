#!/bin/sh
# bench.sh compares encode throughput of internal/tokenizer with transformers.js
# on testdata/tokref/corpus.txt, interleaving the two so both see the same
# machine load. Run from the repository root after installing the npm
# packages (see testdata/tokref/SOURCES.md). Prints the raw figures; take
# medians.
set -eu
MODULES=${MODULES:-$HOME/.cache/whet-tokref/node_modules}
ROUNDS=${ROUNDS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp testdata/tokref/corpus.txt testdata/tokref/trained.json.gz "$tmp"/
mkdir -p "$tmp/out"
go test -c -o "$tmp/tokenizer.test" ./internal/tokenizer/
i=1
while [ "$i" -le "$ROUNDS" ]; do
	node scripts/tokref/tokref.mjs "$MODULES" "$tmp" >/dev/null
	echo "round $i transformers.js (wall/cpu) $(node -e 'const b=require(process.argv[1]);console.log(Object.entries(b.tokenizers).map(([k,v])=>k+"="+v.mb_per_s_median+"/"+v.cpu_mb_per_s_median).join(" "))' "$tmp/bench.json") MB/s"
	(cd internal/tokenizer && "$tmp/tokenizer.test" -test.run XXX -test.bench Encode -test.count 3 -test.benchtime 100x) | grep '^BenchmarkEncode' | sed "s/^/round $i go /"
	i=$((i + 1))
done
