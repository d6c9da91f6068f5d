#!/usr/bin/env bash
# Offline validation of the manifests `kload k8s` generates: renders them for a few
# scenarios with the built binary and validates every object with kubernetes-validate
# (PyPI; it bundles the API schemas of each Kubernetes release) in strict mode, for the
# releases kload supports: 1.29, 1.31, 1.33 and the newest the package bundles. A broken
# manifest must be rejected, so that the check cannot pass by validating nothing, and the
# ConfigMap must read back (PyYAML, YAML 1.1 like Kubernetes) as the files it ships.
#
# Installs what it needs once: python3-venv when missing (apt-get), then a venv under
# target/ with kubernetes-validate. Run from anywhere; ends with `k8s: N passed, M failed`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/k8s-venv"
work="$target/k8s-validate"
VERSIONS="1.29.0 1.31.0 1.33.0"
KUBERNETES_VALIDATE_VERSION=1.37.0
started=$SECONDS

say() { printf 'k8s: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

if ! "$venv/bin/kubernetes-validate" --version 2>/dev/null | grep -qx "$KUBERNETES_VALIDATE_VERSION"; then
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        say "installing python3-venv"
        { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; } >&2
    fi
    say "creating $venv with kubernetes-validate $KUBERNETES_VALIDATE_VERSION"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >&2
fi

build_started=$SECONDS
(cd "$root" && cargo build --quiet --locked --bin kload)
say "kload built in $((SECONDS - build_started)) s"
checks_started=$SECONDS
rm -rf "$work"
mkdir -p "$work"
# A copy, so that another build into a shared target folder cannot swap it mid-run.
kload="$work/kload"
cp "$target/debug/kload" "$kload"

passed=0
failed=0
pass() { passed=$((passed + 1)); say "ok: $*"; }
fail() { failed=$((failed + 1)); say "FAILED: $*"; }

# The manifests: the Kibray scenario with every option, the layout fixture (files above
# and below the scenario, a binary file), the example with multipart files, and one with
# the most segments the name allows.
render() {
    local name="$1"; shift
    if "$kload" k8s -o "$work/$name.yaml" "$@" 2>"$work/$name.err"; then
        pass "render $name"
    else
        fail "render $name: $(cat "$work/$name.err")"
    fi
}
image=registry.example.com/kload:0.1.0
render kibray "$root/scenarios/kibray.kload" --segments 4 --image "$image" \
    --name kibray-staging --namespace load-tests --start-in 5m --cpu 2 --memory 2Gi --ttl 2h \
    -- --users 400 --spawn-rate 20 --run-time 10m --threshold "p95(tag list) < 300ms"
render layout "$root/tests/golden/k8s/layout/s/upload.kload" --segments 3 --image "$image" \
    --start-at 2099-01-01T00:00:00Z --deadline 1h
render multipart "$root/examples/07-json-form-multipart.kload" --segments 2 --image "$image" \
    -- --run-time 1m
render wide "$root/examples/14-arrival-rate.kload" --segments 100000 --image "$image" \
    --name "$(printf 'w%.0s' {1..57})"

# Typos that only the schemas know about, one in each object: both must be rejected, and
# for that reason (the Job is the second document of the file, the ConfigMap the first).
broken() {
    local name="$1" from="$2" to="$3"
    sed "s/$from/$to/" "$work/layout.yaml" > "$work/$name.yaml" || true
    grep -q "$to" "$work/$name.yaml" || fail "$name.yaml has no typo"
}
broken broken-job "completionMode:" "completionMod:"
broken broken-configmap "^immutable:" "immutabel:"

validate() {
    local label="$1"; shift
    local out
    for m in kibray layout multipart wide; do
        [ -s "$work/$m.yaml" ] || continue
        if out="$("$venv/bin/kubernetes-validate" --strict --quiet "$@" "$work/$m.yaml" 2>&1)"; then
            pass "$m valid for $label"
        else
            fail "$m invalid for $label: $out"
        fi
    done
    for typo in broken-job:completionMod broken-configmap:immutabel; do
        local m="${typo%%:*}" word="${typo#*:}"
        if out="$("$venv/bin/kubernetes-validate" --strict --quiet "$@" "$work/$m.yaml" 2>&1)"; then
            fail "$m (with $word) accepted for $label"
        elif grep -q "'$word' was unexpected" <<<"$out"; then
            pass "$m rejected for $label"
        else
            fail "$m rejected for another reason for $label: $out"
        fi
    done
}
for v in $VERSIONS; do
    validate "Kubernetes $v" -k "$v"
done
newest="$("$venv/bin/python" - <<'PY'
import pathlib, kubernetes_validate
d = pathlib.Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
versions = [p.name[1:].split("-")[0] for p in d.glob("v*-local-strict")]
print(max(versions, key=lambda v: tuple(int(x) for x in v.split("."))))
PY
)"
validate "Kubernetes $newest (the newest bundled)" -k "$newest"

# The ConfigMap read back as YAML 1.1 holds the files byte for byte, where the Job mounts them.
if out="$("$venv/bin/python" - "$work/layout.yaml" "$root/tests/golden/k8s/layout" <<'PY' 2>&1
import base64, pathlib, sys, yaml
cm, job = list(yaml.safe_load_all(open(sys.argv[1], encoding="utf-8")))
root = pathlib.Path(sys.argv[2])
items = job["spec"]["template"]["spec"]["volumes"][0]["configMap"]["items"]
assert len(items) == len(cm.get("data", {})) + len(cm.get("binaryData", {})), "unmounted keys"
for item in items:
    want = (root / item["path"]).read_bytes()
    if item["key"] in cm.get("data", {}):
        got = cm["data"][item["key"]].encode("utf-8")
    else:
        got = base64.b64decode(cm["binaryData"][item["key"]])
    assert got == want, f'{item["path"]}: {got!r} != {want!r}'
print(len(items))
PY
)"; then
    pass "ConfigMap files read back by PyYAML ($out files)"
else
    fail "ConfigMap files differ when read by PyYAML: $out"
fi

say "checks took $((SECONDS - checks_started)) s, $((SECONDS - started)) s in all"
echo "k8s: $passed passed, $failed failed"
[ "$failed" = 0 ]
