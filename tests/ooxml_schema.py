"""Validate OOXML parts against ISO/IEC 29500 Transitional and Microsoft's Word extension schemas,
after Markup Compatibility processing, as Office reads them.

The schemas sit beside the project (``../shared/ooxml-xsd``, see its README). They are copied
into a temporary folder and patched so that everything is local and compiles as one schema set:

* remote ``schemaLocation``s (Dublin Core) point at the local copies: nothing is fetched;
* Microsoft's schemas import files by names they were never published under (``orel.xsd``,
  ``oartbasetypes.xsd``, ``word16.xsd``) and name ``w:ST_OnOff``/``w:ST_String`` in the
  ``w:`` namespace (ECMA-376 1st edition), where ISO 29500-4:2016 moved them to shared types:
  the imports are pointed at the ISO files and the two names are declared as aliases.

Two patterns the ISO schemas reject but Word and Excel write themselves, documented as
accepted in [MS-OI29500], are normalised before validating: ``w:zoom`` without ``w:percent``,
and ``xml:space`` on SpreadsheetML ``t``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
XML_NS = "http://www.w3.org/XML/1998/namespace"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

_RENAMES = {
    "http://dublincore.org/schemas/xmls/qdc/2003/04/02/dc.xsd": "dc.xsd",
    "http://dublincore.org/schemas/xmls/qdc/2003/04/02/dcterms.xsd": "dcterms.xsd",
    "../ISO-IEC29500-4_2016/wml.xsd": "wml.xsd",
    "orel.xsd": "shared-relationshipReference.xsd",
    "oartbasetypes.xsd": "dml-main.xsd",
    "oartsplineproperties.xsd": "dml-main.xsd",
    "word16.xsd": "wml-2018.xsd",
}
_W_ALIASES = """
  <xsd:simpleType name="ST_OnOff"><xsd:restriction base="s:ST_OnOff"/></xsd:simpleType>
  <xsd:simpleType name="ST_String"><xsd:restriction base="s:ST_String"/></xsd:simpleType>
</xsd:schema>"""
_LOCATION = re.compile(r'schemaLocation="([^"]+)"')
_TARGET = re.compile(r'targetNamespace="([^"]+)"')


@dataclass(frozen=True)
class SchemaSet:
    schema: etree.XMLSchema
    namespaces: frozenset[str]  # every namespace the set has a schema for
    base: frozenset[str]  # of those, the ISO/ECMA ones, whose content models know no extensions


def compile_schemas(source: Path, work: Path) -> SchemaSet:
    """Copy, patch and compile every schema under ``source`` as one set (slow: once a session)."""
    work.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in source.rglob("*.xsd"))
    namespaces: dict[str, str] = {}
    extensions: set[str] = set()
    for path in files:
        text = path.read_text(encoding="utf-8")
        text = _LOCATION.sub(lambda m: f'schemaLocation="{_RENAMES.get(m.group(1), m.group(1))}"', text)
        if path.name == "wml.xsd":
            text = text.replace("</xsd:schema>", _W_ALIASES)
        assert not (work / path.name).exists(), f"two schemas named {path.name}"
        (work / path.name).write_text(text, encoding="utf-8")
        target = _TARGET.search(text)
        if target and path.name != "word12.xsd":
            namespaces.setdefault(target.group(1), path.name)
            if path.parent.name == "microsoft":
                extensions.add(target.group(1))
    # xml.xsd first: several schemas import the xml namespace without a location.
    order = sorted(namespaces.items(), key=lambda kv: kv[0] != XML_NS)
    imports = "".join(f'<xsd:import namespace="{ns}" schemaLocation="{name}"/>' for ns, name in order)
    wrapper = work / "all.xsd"
    wrapper.write_text(
        f'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:apdocs:tests:all">{imports}</xsd:schema>',
        encoding="utf-8",
    )
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    schema = etree.XMLSchema(etree.parse(str(wrapper), parser))
    return SchemaSet(schema, frozenset(namespaces), frozenset(namespaces) - extensions)


# -- Markup Compatibility (ECMA-376 Part 3) ---------------------------------------------------


def mc_process(root: etree._Element, understood: frozenset[str]) -> tuple[etree._Element, list[etree._Element]]:
    """A copy of ``root`` as an application understanding ``understood`` namespaces reads it:
    each mc:AlternateContent replaced by its first Choice whose Requires it understands (else
    its Fallback), and elements and attributes of Ignorable namespaces it does not understand
    removed, with the mc: attributes themselves. Also returns the elements removed."""
    root = etree.fromstring(etree.tostring(root))
    removed: list[etree._Element] = []
    ignorable: set[str] = set()
    for el in root.iter():
        if isinstance(el.tag, str) and el.get(f"{{{MC}}}Ignorable"):
            ignorable |= {el.nsmap.get(p, p) for p in (el.get(f"{{{MC}}}Ignorable") or "").split()}
    drop = ignorable - understood
    _alternate_content(root, understood)
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        if etree.QName(el).namespace in drop:
            parent = el.getparent()
            if parent is not None and etree.QName(parent).namespace not in drop:
                parent.remove(el)
                removed.append(el)
            continue
        for name in list(el.attrib):
            ns = etree.QName(name).namespace
            if ns == MC or ns in drop:
                del el.attrib[name]
    return root, removed


def _alternate_content(root: etree._Element, understood: frozenset[str]) -> None:
    while True:
        ac = next(iter(root.iter(f"{{{MC}}}AlternateContent")), None)
        if ac is None:
            return
        chosen = None
        for choice in ac.iterchildren(f"{{{MC}}}Choice"):
            needs = {choice.nsmap.get(p, p) for p in (choice.get("Requires") or "").split()}
            if needs <= understood:
                chosen = choice
                break
        if chosen is None:
            chosen = next(ac.iterchildren(f"{{{MC}}}Fallback"), None)
        parent = ac.getparent()
        assert parent is not None, "mc:AlternateContent as a part's root"
        at = parent.index(ac)
        for i, child in enumerate(list(chosen) if chosen is not None else []):
            parent.insert(at + i, child)
        parent.remove(ac)


def office_accepted(root: etree._Element) -> etree._Element:
    """The two patterns [MS-OI29500] documents Office itself writing, normalised (see module doc)."""
    for zoom in root.iter(f"{{{W}}}zoom"):
        if zoom.get(f"{{{W}}}percent") is None:
            zoom.set(f"{{{W}}}percent", "100")
    for t in root.iter(f"{{{SML}}}t"):
        t.attrib.pop(f"{{{XML_NS}}}space", None)
    return root


def validate_part(schemas: SchemaSet, raw: bytes) -> list[str]:
    """Schema errors of one XML part (empty when valid).

    The ISO content models have no place for Microsoft's extension elements (``w14:docId`` in
    settings), which Office marks Ignorable: the part is validated as an ISO-only reader sees it
    after MC processing, and each extension element removed is validated on its own against
    Microsoft's schema for it.
    """
    root = etree.fromstring(raw, etree.XMLParser(no_network=True, resolve_entities=False))
    base, extensions = mc_process(root, schemas.base)
    errors = _errors(schemas, office_accepted(base))
    for el in extensions:
        if etree.QName(el).namespace in schemas.namespaces:
            errors += [f"{el.tag}: {e}" for e in _errors(schemas, el)]
    return errors


def _errors(schemas: SchemaSet, root: etree._Element) -> list[str]:
    if etree.QName(root).namespace not in schemas.namespaces:
        return [f"no schema for the root element {root.tag}"]
    if schemas.schema.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in schemas.schema.error_log]
