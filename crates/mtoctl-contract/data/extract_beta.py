#!/usr/bin/env python3
"""The beta overlay of the Graph contract: the types whose beta shape mtoctl relies on, redefined on
top of graph-v1.0.json for requests sent to /beta (Contract::beta).

The public beta metadata (clean_beta_metadata/cleanMetadata.xml, schemas/beta-Prod.csdl) is too large
to hold here, so each property comes from two official files of the same msgraph-metadata commit:
- its NAME from schemas/type-mappings/beta-entity-types.json and beta-complex-types.json, which
  scripts/generate-type-mappings.ps1 generates from schemas/beta-Prod.csdl (the public beta schema:
  every property a type declares, base types not followed);
- its TYPE and nullability from the first of the given beta CSDLs (the national clouds' beta schemas,
  schemas/beta-USNat.csdl, beta-USSec.csdl, beta-GovSG.csdl) that declares it, else from
  graph-v1.0.json. A name no file types is an error.
Starting from ROOTS, every property type that is not in graph-v1.0.json, or whose beta names differ
from v1.0's, is redefined too.

usage: extract_beta.py MAPPINGS_DIR COMMIT graph-v1.0.json OUT.json CSDL...
"""
import json, os, sys, xml.etree.ElementTree as ET

NS = {"e": "http://docs.oasis-open.org/odata/ns/edm"}
ROOTS = ["crossTenantIdentitySyncPolicyPartner"]


def strip(t):
    inner = t[len("Collection("):-1] if t.startswith("Collection(") else t
    for prefix in ("microsoft.graph.", "graph."):
        if inner.startswith(prefix):
            return inner[len(prefix):]
    return inner


def declarations(csdl):
    """{type name: {property name: (Type, nullable)}} of a CSDL's main schema."""
    out = {}
    for el in ET.parse(csdl).getroot().iter():
        if el.tag.split("}")[-1] in ("EntityType", "ComplexType") and el.get("Name"):
            props = out.setdefault(el.get("Name"), {})
            for p in el.findall("e:Property", NS):
                props[p.get("Name")] = (p.get("Type"), p.get("Nullable") != "false")
    return out


def main(mappings, commit, v1_path, out, *csdls):
    names = {}
    for kind, file in (("entityTypes", "beta-entity-types.json"), ("complexTypes", "beta-complex-types.json")):
        with open(os.path.join(mappings, file)) as f:
            for t, m in json.load(f)["microsoft.graph"].items():
                names[t] = (kind, m["properties"])
    with open(v1_path) as f:
        v1 = json.load(f)
    v1_types = {**v1["entityTypes"], **v1["complexTypes"]}
    declared = [declarations(c) for c in csdls]
    doc = {"source": {"repository": "microsoftgraph/msgraph-metadata", "commit": commit,
                      "license": "MIT (Copyright (c) 2018 Microsoft Graph)", "api": "beta",
                      "names": "schemas/type-mappings/beta-entity-types.json, beta-complex-types.json (from schemas/beta-Prod.csdl)",
                      "types": ", ".join("schemas/" + os.path.basename(c) for c in csdls) + ", then graph-v1.0.json",
                      "roots": ROOTS},
           "entityTypes": {}, "complexTypes": {}}
    todo, done = list(ROOTS), set()
    while todo:
        name = todo.pop()
        if name in done:
            continue
        done.add(name)
        kind, props = names[name]
        known = v1_types.get(name)
        if name not in ROOTS and known is not None and sorted(known.get("properties", {})) == sorted(props):
            continue  # the same in beta: graph-v1.0.json holds it
        t = {"properties": {}}
        if known and "navigation" in known:
            t["navigation"] = known["navigation"]
        for p in sorted(props):
            found = next((d[name][p] for d in declared if p in d.get(name, {})), None)
            if found is None and known and p in known.get("properties", {}):
                v = known["properties"][p]
                found = (v["type"], v.get("nullable", True))
            if found is None:
                sys.exit(f"{name}.{p}: no file declares its type")
            ty, nullable = found
            ty = ty.replace("microsoft.graph.", "").replace("graph.", "")
            t["properties"][p] = {"type": ty, **({} if nullable else {"nullable": False})}
            if not ty.startswith("Edm.") and strip(ty) in names:
                todo.append(strip(ty))
        doc[kind][name] = t
    with open(out, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
