#!/usr/bin/env bash
# Builds the documentation catalogues (Sources/<Module>/<Module>.docc) with the toolchain's
# docc, no package plugin: symbol graphs are extracted from the modules of the release build
# (internal symbols included, so their doc comments' links are checked too), then each catalogue
# is converted with --warnings-as-errors, so a broken <doc:...> link or a ``Symbol`` that no
# longer exists fails the build. Needs 'swift build -c release' first (.ci/run does it).
# Usage: scripts/build_docs.sh [OUTPUT_DIR]   (default .build/docs; one .doccarchive per module)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
out="${1:-.build/docs}"
modules_dir=".build/release/Modules"
[ -d "$modules_dir" ] || modules_dir=".build/release"
triple="$(swift -print-target-info | sed -n 's/.*"unversionedTriple": *"\([^"]*\)".*/\1/p' | head -n 1)"
# The C targets' module maps (SwiftPM writes one per C target beside its objects).
c_modules=()
for map in .build/release/*.build/module.modulemap; do
    [ -f "$map" ] && c_modules+=(-I "$(dirname "$map")")
done
rm -rf "$out"
mkdir -p "$out/symbol-graphs"
status=0
for catalogue in Sources/*/*.docc; do
    module="$(basename "$catalogue" .docc)"
    graphs="$out/symbol-graphs/$module"
    mkdir -p "$graphs"
    swift-symbolgraph-extract -module-name "$module" -I "$modules_dir" "${c_modules[@]}" -target "$triple" \
        -minimum-access-level internal -skip-inherited-docs -output-dir "$graphs"
    if ! docc convert "$catalogue" --additional-symbol-graph-dir "$graphs" \
        --fallback-display-name "$module" --fallback-bundle-identifier "org.ternevo.$module" \
        --output-path "$out/$module.doccarchive" --warnings-as-errors >"$out/$module.log" 2>&1; then
        cat "$out/$module.log" >&2
        echo "docs: $catalogue has errors (above)" >&2
        status=1
    fi
done
# The doc comments of internal symbols are not in the extracted symbol graphs (the modules keep
# only public ones), so their <doc:Article> links are checked here: each must name an article of
# its own module's catalogue.
for source_dir in Sources/*/; do
    module="$(basename "$source_dir")"
    while IFS= read -r hit; do
        [ -n "$hit" ] || continue
        article="${hit##*<doc:}"
        article="${article%%>*}"
        article="${article%%#*}"
        if [ ! -f "Sources/$module/$module.docc/$article.md" ]; then
            echo "docs: ${hit%%:*}: <doc:$article> names no article of Sources/$module/$module.docc" >&2
            status=1
        fi
    done < <(grep -rno '<doc:[^>]*>' --include='*.swift' "$source_dir" 2>/dev/null || true)
done
# Across modules an article is named by its path (one archive per module, so docc cannot link
# there): every such path mentioned in the sources, the catalogues, the READMEs and the scripts
# must exist.
while IFS= read -r hit; do
    [ -n "$hit" ] || continue
    path="${hit#*:}"
    if [ ! -f "$path" ]; then
        echo "docs: ${hit%%:*} names $path, which does not exist" >&2
        status=1
    fi
done < <(grep -rHoE 'Sources/[A-Za-z]+/[A-Za-z]+\.docc/[A-Za-z]+\.md' Sources README.md results/README.md scripts .ci Package.swift 2>/dev/null | sort -u || true)
# The front page names articles by file name under their catalogue's folder.
for name in $(grep -oE '`[A-Za-z]+\.md`' README.md | tr -d '`' | sort -u); do
    if ! ls Sources/*/*.docc/"$name" >/dev/null 2>&1 && [ ! -f "$name" ]; then
        echo "docs: README.md names the article $name, which no catalogue holds" >&2
        status=1
    fi
done
[ $status -eq 0 ] && echo "docs: every catalogue built without warnings ($out)"
exit $status
