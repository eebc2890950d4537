#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from tests/fixtures: the archives themselves, their .fxir and
# .json forms, and compiled .trtfx artifacts. Usage (from the repo root): fuzz/seed.sh [ir-opt]
set -eu
IROPT=${1:-target/release/ir-opt}
out=fuzz/corpus
mkdir -p $out/pt2_archive $out/fxir_parser $out/program_json $out/trtfx_artifact
for f in tests/fixtures/*.pt2; do
  n=$(basename "$f" .pt2)
  case $n in mobilenet*) continue ;; esac   # 7 MB: too slow a seed
  cp "$f" $out/pt2_archive/
  "$IROPT" import "$f" > $out/fxir_parser/$n.fxir
  "$IROPT" import "$f" --emit json > $out/program_json/$n.json
  "$IROPT" compile "$f" -o $out/trtfx_artifact/$n.trtfx 2>/dev/null || true
done
ls $out/* | head -100 >/dev/null
echo "seeded: $(ls $out/pt2_archive | wc -l) pt2, $(ls $out/fxir_parser | wc -l) fxir, $(ls $out/program_json | wc -l) json, $(ls $out/trtfx_artifact | wc -l) trtfx"
# The samples of issue 19, when the shared folder is there: the classes must stay fixed.
repro=../shared/fuzz-repro
if [ -d $repro ]; then
  cp $repro/*.json $out/program_json/ 2>/dev/null || true
  cp $repro/*.fxir $out/fxir_parser/ 2>/dev/null || true
fi
