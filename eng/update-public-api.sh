#!/usr/bin/env bash
# Adds every undeclared public symbol (RS0016) of a library to its PublicAPI.Unshipped.txt.
# Usage: eng/update-public-api.sh src/BuildingBlocks.X   (review the diff before committing)
set -euo pipefail
project_dir=${1:?usage: eng/update-public-api.sh src/<Package>}
unshipped="$project_dir/PublicAPI.Unshipped.txt"
[ -f "$unshipped" ] || echo "#nullable enable" > "$unshipped"
log=$(mktemp)
dotnet build "$project_dir" --no-incremental -p:TreatWarningsAsErrors=false > "$log" 2>&1 || true
grep -oE "RS0016: Symbol '.*' is not part of the declared public API" "$log" \
  | sed -E "s/^RS0016: Symbol '(.*)' is not part of the declared public API$/\1/" \
  | sort -u > "$log.symbols"
count=$(wc -l < "$log.symbols")
{ head -n 1 "$unshipped"; { tail -n +2 "$unshipped"; cat "$log.symbols"; } | sort -u; } > "$log.merged"
mv "$log.merged" "$unshipped"
rm -f "$log" "$log.symbols"
echo "$count symbol(s) added to $unshipped"
