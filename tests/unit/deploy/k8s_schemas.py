"""kubeconform's JSON schemas, made offline: from Kubernetes' OpenAPI spec (swagger.json, which
scripts/deploy-tools.sh takes from the Go module k8s.io/kubernetes) and from CustomResource-
Definitions' openAPIV3Schema (the Flink operator's, in crds/). What yannh/openapi2jsonschema
does for kubeconform's default (online) schemas, strict: an object's unknown fields are errors.

Files are named as kubeconform's template ``{{ .ResourceKind }}{{ .KindSuffix }}.json`` expects,
e.g. ``deployment-apps-v1.json``, ``service-v1.json``, ``flinkdeployment-flink-v1beta1.json``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

INT_OR_STRING = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
# Special cases of the spec's definitions (as openapi2jsonschema makes them).
REPLACED = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": INT_OR_STRING,
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {
        "oneOf": [{"type": "string"}, {"type": "number"}]
    },
}
REF_PREFIX = "#/definitions/"


def schema_file_name(kind: str, api_version: str) -> str:
    """kubeconform's ``{{ .ResourceKind }}{{ .KindSuffix }}.json`` for a kind and apiVersion."""
    group, _, version = api_version.rpartition("/")
    suffix = f"-{group.split('.')[0].lower()}" if group else ""
    return f"{kind.lower()}{suffix}-{version.lower()}.json"


def _strict(node: Any, preserve_unknown: bool = False) -> Any:
    """``node`` with unknown properties refused wherever it lists its properties."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("x-kubernetes-int-or-string"):
        return {**INT_OR_STRING, **{k: v for k, v in node.items() if k == "description"}}
    keep = preserve_unknown or bool(node.get("x-kubernetes-preserve-unknown-fields"))
    out = {key: _strict(value) for key, value in node.items()}
    if "properties" in node:
        out["properties"] = {k: _strict(v) for k, v in node["properties"].items()}
        if not keep and "additionalProperties" not in node:
            out["additionalProperties"] = False
    if node.get("nullable") and isinstance(node.get("type"), str):
        out["type"] = [node["type"], "null"]
    return out


def _with_kind(schema: dict[str, Any], kind: str, api_version: str) -> dict[str, Any]:
    schema = copy.deepcopy(schema)
    properties = schema.setdefault("properties", {})
    properties["apiVersion"] = {"type": "string", "enum": [api_version]}
    properties["kind"] = {"type": "string", "enum": [kind]}
    return schema


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            yield ref.removeprefix(REF_PREFIX)
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _definition(definitions: dict[str, Any], name: str) -> Any:
    return REPLACED.get(name) or _strict(definitions[name])


def kubernetes_schemas(swagger: Path, kinds: set[tuple[str, str]], out: Path) -> list[Path]:
    """JSON schemas of the (kind, apiVersion) pairs ``kinds`` from Kubernetes' swagger.json,
    written to ``out``; each carries the definitions it refers to. Raises KeyError for a kind
    the spec does not have."""
    definitions: dict[str, Any] = json.loads(swagger.read_text())["definitions"]
    by_kind: dict[tuple[str, str], str] = {}
    for name, definition in definitions.items():
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            group = gvk["group"]
            api_version = f"{group}/{gvk['version']}" if group else gvk["version"]
            by_kind[(gvk["kind"], api_version)] = name
    written = []
    for kind, api_version in sorted(kinds):
        root = by_kind[(kind, api_version)]
        needed, todo = {root}, [root]
        while todo:
            for ref in _refs(definitions[todo.pop()]):
                if ref not in needed:
                    needed.add(ref)
                    if ref not in REPLACED:
                        todo.append(ref)
        schema = _with_kind(_strict(definitions[root]), kind, api_version)
        schema["definitions"] = {name: _definition(definitions, name) for name in sorted(needed)}
        path = out / schema_file_name(kind, api_version)
        path.write_text(json.dumps(schema))
        written.append(path)
    return written


def crd_schemas(crd_files: Iterable[Path], out: Path) -> list[Path]:
    """JSON schemas of every served version of the CustomResourceDefinitions in
    ``crd_files``, written to ``out``."""
    written = []
    for crd_file in crd_files:
        crd = yaml.safe_load(crd_file.read_text())
        spec = crd["spec"]
        kind = spec["names"]["kind"]
        for version in spec["versions"]:
            if not version.get("served", True):
                continue
            api_version = f"{spec['group']}/{version['name']}"
            schema = _with_kind(_strict(version["schema"]["openAPIV3Schema"]), kind, api_version)
            # The API server adds metadata to every custom resource's schema.
            schema["properties"].setdefault("metadata", {"type": "object"})
            path = out / schema_file_name(kind, api_version)
            path.write_text(json.dumps(schema))
            written.append(path)
    return written
